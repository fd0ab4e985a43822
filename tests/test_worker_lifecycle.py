"""Workers after hostile jobs: memory back to idle, bugs survived, deaths named rightly."""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from webapp.errors import ChainruleError
from webapp.sandbox.pool import WorkerPool

LARGE = "w = x * torch.ones(2000000)\nfor i in range(12):\n    w = w * 1.0001\nw.sum()"
SLOW = "v = torch.ones(1000000)\nfor i in range(100000):\n    y = torch.dot(v, v)\ny"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def worker_pids(pool: WorkerPool) -> list[int]:
    pids = pool.idle_pids(wait_seconds=60)
    assert len(pids) == pool.size
    return pids


@pytest.fixture()
def pool():
    pool = WorkerPool(size=2, deadline_seconds=20)
    yield pool
    pool.close()


def test_ten_large_traces_leave_no_memory_behind(pool):
    """Each trace's graph (about 200 MB here) is released when its job ends.

    Mutation: drop `close_open_tracers()` from worker.release_memory: the hooks keep every
    graph alive and the workers grow by hundreds of MB per trace (5 GB for 10).
    """
    pids = worker_pids(pool)
    pool.run({"kind": "trace", "source": "x * 2", "inputs": {"x": 1}})
    idle = sum(rss_mb(pid) for pid in pids)
    for k in range(10):
        pool.run({"kind": "trace", "source": LARGE, "inputs": {"x": 1.0 + k}})
    time.sleep(1.0)  # the last job's clean-up runs after its answer is sent
    assert sorted(worker_pids(pool)) == sorted(pids)  # the same processes, none replaced
    assert sum(rss_mb(pid) for pid in pids) - idle < 200


def test_a_killed_worker_is_reported_as_memory_or_cpu(pool):
    """Mutation: report every lost answer as a deadline (in WorkerPool.run, the "died"
    outcome raising the deadline message) and this fails. Waiting for the reap matters
    when teardown is slow (a CUDA context), which a CPU-only machine cannot show."""
    pids = worker_pids(pool)
    errors = []

    def run_slow():
        try:
            pool.run({"kind": "trace", "source": SLOW, "inputs": {}})
        except ChainruleError as error:
            errors.append(error.message)

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(1.0)
    busy = [pid for pid in pids if pid not in pool.idle_pids()]
    os.kill(busy[0], signal.SIGKILL)
    thread.join(timeout=30)
    assert errors and "memory or CPU" in errors[0]


def test_a_worker_that_died_while_idle_is_not_blamed_on_the_next_student(pool):
    """A worker can die after answering (cleaning up a runaway job near its memory limit).
    The next job used to land on it and its sender was told "your function used more memory
    or CPU time than a student's share" after 2 ms (review3). Now the dead worker is
    replaced and the job runs on another. Mutation seen failing: in Worker.ask, the
    `poll()`/`_ready_again` check removed (the job is sent to the dead worker)."""
    worker_pids(pool)
    for k in range(4):  # every worker has answered once and owes its "ready"
        pool.run({"kind": "trace", "source": f"x * {k + 2}", "inputs": {"x": 1.0}})
    for pid in pool.idle_pids():
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    answer = pool.run({"kind": "trace", "source": "sin(x) * x", "inputs": {"x": 1.0}})
    assert abs(answer["output"]["value"] - math.sin(1.0)) < 1e-6
    assert pool.replaced >= 1


def test_a_worker_dead_inside_a_bwrap_not_yet_gone_is_not_blamed_either(pool):
    """bwrap outlives the worker it walls in for a moment, holding the job pipe open: a job
    written then was read by no one, and its sender was told "more memory or CPU time than
    a student's share" (a busy machine's flake). Made certain here by stopping each bwrap
    (it cannot reap its dead worker or close the pipe) before killing the worker inside.
    Mutation seen failing: the old Worker.ask (_zygote_alive always True, and a job whose
    write broke counted as "died"); either guard alone passes it."""
    from webapp.sandbox import isolation
    if isolation.problem() is not None:
        pytest.skip("no sandbox here: the worker is the process itself")
    worker_pids(pool)
    for k in range(2):  # every worker has answered once and owes its "ready"
        pool.run({"kind": "trace", "source": f"x * {k + 2}", "inputs": {"x": 1.0}})
    victims = list(pool.idle.queue)
    for worker in victims:
        os.kill(worker.process.pid, signal.SIGSTOP)
        os.kill(worker.pid, signal.SIGKILL)
    try:
        for worker in victims:  # the worker is a zombie: dead, but no one has reaped it
            for _ in range(200):
                if not worker._zygote_alive():
                    break
                time.sleep(0.05)
        answer = pool.run({"kind": "trace", "source": "sin(x) * x", "inputs": {"x": 1.0}})
        assert abs(answer["output"]["value"] - math.sin(1.0)) < 1e-6
        assert pool.replaced >= 2
    finally:
        for worker in victims:
            try:
                os.kill(worker.process.pid, signal.SIGCONT)
            except OSError:
                pass


BUG_SCRIPT = """
import os, sys
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
os.dup2(log, 2)  # stderr is a file, as with `nohup chainrule serve > log`
from webapp.sandbox.pool import WorkerPool
from webapp.errors import ChainruleError
pool = WorkerPool(size=1, deadline_seconds=10)
for _ in range(3):
    try:
        pool.run({"kind": "plot", "source": "x", "inputs": {"x": 1}, "wrt": "x", "lo": "a", "hi": 1,
                  "n": 5})  # float("a") in the worker: a bug (the gate never lets it through)
    except ChainruleError as error:
        print(error.kind, pool.replaced)
pool.close()
"""


def test_a_bug_is_answered_internal_and_the_worker_lives(tmp_path):
    """The worker's file-size limit is 0, so printing the traceback to a file fails.

    Mutation: in protocol.log_bug, let the exception out (no try/except): the worker dies
    and the job is reported as a crash, with a replacement booted each time.
    """
    done = subprocess.run([sys.executable, "-c", BUG_SCRIPT, str(tmp_path / "log")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.stdout.split() == ["internal", "0"] * 3, done.stdout + done.stderr


def test_a_torch_mode_left_behind_between_jobs_is_noticed():
    """The worker ends (and the pool replaces it) rather than run the next job with a torch
    mode a stopped job left on the stack (the allocation guard, or a tracer). Mutation seen
    failing: torch_state_is_fresh() returning True."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    from webapp.sandbox.worker import torch_state_is_fresh
    assert torch_state_is_fresh()
    with TorchFunctionMode():
        assert not torch_state_is_fresh()
    with TorchDispatchMode():
        assert not torch_state_is_fresh()
    assert torch_state_is_fresh()


@pytest.mark.parametrize("switch", ["no_grad", "torch_functions_off", "inference_mode",
                                    "dual_level", "anomaly"])
def test_torch_switched_by_a_stopped_job_is_noticed(switch):
    """A deadline that cuts a `with` in two can leave torch switched for the next job.

    Mutations seen failing: each clause of torch_state_is_fresh dropped in turn (inference
    mode is seen as autograd off)."""
    import torch
    import torch.autograd.forward_ad as forward_ad

    from webapp.sandbox.worker import torch_state_is_fresh
    manager = {"no_grad": torch.no_grad, "torch_functions_off": torch._C.DisableTorchFunction,
               "inference_mode": torch.inference_mode, "dual_level": forward_ad.dual_level,
               "anomaly": torch.autograd.detect_anomaly}[switch]()
    with manager:
        assert not torch_state_is_fresh()
    assert torch_state_is_fresh()


CHAIN_SCRIPT = """
import sys
import torch
from webapp.deep_graphs import raise_stack_limit
raise_stack_limit()
y = torch.tensor(1.0, requires_grad=True)
for i in range(150_000):
    y = y + 1
    y.grad_fn.metadata["chainrule"] = i  # what the tracer stamps on every grad_fn
del y
print("freed")
"""


def test_a_long_chain_of_stamped_grad_fns_is_freed_without_a_crash():
    """A loop of 150,000 turns, stopped at the deadline or refused as too large, leaves a
    chain of grad_fns that carry the tracer's metadata. PyTorch frees such a chain by
    recursion (torch 2.13: a segfault past about 40,000 nodes on an 8 MiB stack), and the
    worker died after its answer. Checked in a process of its own, with real torch.

    Mutation seen failing: `raise_stack_limit` returning at once (exit -11, SIGSEGV)."""
    done = subprocess.run([sys.executable, "-c", CHAIN_SCRIPT], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert (done.returncode, done.stdout.strip()) == (0, "freed"), done.returncode


def test_workers_run_with_the_raised_stack_limit(pool):
    """Mutation seen failing: drop `raise_stack_limit()` from apply_os_limits."""
    from webapp.deep_graphs import STACK_BYTES
    for pid in worker_pids(pool):
        with open(f"/proc/{pid}/limits") as limits:
            line = next(line for line in limits if line.startswith("Max stack size"))
        soft = line.split()[3]
        assert soft == "unlimited" or int(soft) >= STACK_BYTES, line


RECORDING_SCRIPT = """
import torch
import webapp
y = torch.tensor(1.0, requires_grad=True)
with webapp.recording():
    for i in range(150_000):
        y = y + 1
del y
print("freed")
"""


def test_a_long_recording_in_a_notebook_is_freed_without_a_crash():
    """`recording()` stamps every grad_fn of the user's own loop; freeing it killed the
    kernel. Mutation seen failing: drop raise_stack_limit() from recording.__enter__."""
    done = subprocess.run([sys.executable, "-c", RECORDING_SCRIPT], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert (done.returncode, done.stdout.strip()) == (0, "freed"), done.stderr[-500:]
