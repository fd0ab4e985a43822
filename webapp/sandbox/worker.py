"""The evaluator process: a zygote that imports torch once and forks one child per job.

Run as `python -m webapp.sandbox.worker` (inside bubblewrap's namespaces where they can be
built: isolation.py). Jobs and answers are JSON, framed by a 4-byte length, over stdin
and stdout; nothing is ever pickled. This process never runs a job: after a warm-up of
chainrule's own code it keeps one child forked and waiting (`JobChild`). The child
confines itself (confine.py: seccomp, rlimits), reads one job from its own pipe, answers
and exits, so nothing a program changes (a patched `torch.sin`, a default dtype, a
global hook) reaches the next student. A child that outlives its deadline or dies is
answered for here, and the next child is already forked: a killed job costs no torch
import.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import sys
import time

from ..deep_graphs import raise_stack_limit
from ..engine.job_state import JOB, PART_CODE, PartCut
from . import confine, huge_pages
from .forked import JobChild, write_all
from ..errors import out_of_time
from .protocol import (HEADER, INTERNAL, TOO_LARGE, answer_bytes, encode_message, log_bug, read_frame,
                       read_message, write_message)


def warm_up() -> None:
    """Touch every code path that loads libraries or starts threads, before the limits."""
    import torch
    from ..engine.jobs import handle
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process
    warm_up_trace(handle)
    # matplotlib builds its font cache on first use: do it while files may still be written.
    handle({"kind": "plot_image", "source": "sin(x)", "inputs": {"x": 1.0}, "wrt": "x",
            "lo": -1, "hi": 1, "n": 5, "format": "svg"})
    # Each child starts from this process's specialised bytecode: a few typical jobs here
    # halve a child's first job (seed 001 5.5 → 2.5 ms, a course cell 33 → 20 ms, measured).
    from .cpython.permission import own_text
    with own_text():
        for _ in range(3):
            for job in TYPICAL_JOBS:
                handle(dict(job))


TYPICAL_JOBS = (
    {"kind": "trace", "source": "x7 = 0.2*x1**2 + 0.2*x2**2 - 5\nx7", "inputs": {"x1": 2.0, "x2": 2.0}},
    {"kind": "trace", "source": "log(x**2)*sin(x) + 1/x", "inputs": {"x": 1.5}},
    {"kind": "trace", "inputs": {}, "source": (  # runs as CPython: a module, SGD, an f-string
        "from torch import nn\ntorch.manual_seed(0)\nnet = nn.Sequential(nn.Linear(2, 4), nn.Tanh())\n"
        "opt = torch.optim.SGD(net.parameters(), lr=0.1)\nfor step in range(2):\n"
        "    opt.zero_grad()\n    loss = net(torch.ones(2)).sum()\n    loss.backward()\n"
        "    opt.step()\n    print(f'{loss.item():.2f}')\nloss")},
)


def warm_up_trace(handle) -> None:
    handle({"kind": "trace", "source": "y = sin(x) * x.sum() @ torch.ones(1)\ny",
            "inputs": {"x": [1.0]}})


class DeadlineExceeded(BaseException):
    """Raised inside a job at its deadline (a BaseException: no `except Exception` eats it)."""


def _on_deadline(signum, frame):
    """The deadline: raise DeadlineExceeded in the job, and note where it stopped (JOB).

    Once a part began (job_state.on_a_budget), the job's own answer is made: this clock (the
    part's wall budget, or the deadline itself) cuts only the part, with PartCut, and after
    it lets the answer be returned (the pool's grace still bounds the child)."""
    if JOB.in_part:
        left = JOB.ends_at - time.monotonic() if JOB.ends_at is not None else 0.0
        _cut_part(signal.ITIMER_REAL, frame, left if left > 0 else AGAIN_SECONDS)
        return
    if JOB.made:
        signal.setitimer(signal.ITIMER_REAL, AGAIN_SECONDS)
        return
    if not JOB.expired:
        JOB.stopped_in = JOB.innermost_loop()
    JOB.expired = True
    if JOB.uninterrupted > 0:  # in the tracer's copy step: raised just after it ends
        signal.setitimer(signal.ITIMER_REAL, 0.001)
        return
    signal.setitimer(signal.ITIMER_REAL, AGAIN_SECONDS)
    raise DeadlineExceeded()


def _on_part_cpu(signum, frame):
    """A part's CPU budget ran out (job_state.on_a_budget): PartCut inside the part."""
    if JOB.in_part:
        _cut_part(signal.ITIMER_PROF, frame, PART_AGAIN_SECONDS)


def _cut_part(timer: int, frame, most: float) -> None:
    """Raise PartCut in the part, and again soon: a student's bare `except:` may swallow
    it, and the job's own answer must never wait for the deadline behind it. Not in the
    tracer's copy step, nor between on_a_budget's own bytecodes (the part starting or
    ended): there, again a moment later, in the part or not at all."""
    if JOB.uninterrupted > 0 or (frame is not None and frame.f_code is PART_CODE):
        signal.setitimer(timer, max(min(0.001, most), 0.0005))  # never 0: that would disarm it
        return
    signal.setitimer(timer, max(min(PART_AGAIN_SECONDS, most), 0.0005))
    JOB.part_cut = True  # swallowed by the part or not, its answer is not kept
    raise PartCut()


# A deadline raised where Python ignores exceptions (a weakref callback, `__del__`) is
# printed and lost, and the job runs on. Until run_job disarms the clock, it is raised again
# this often; the parent would otherwise kill the worker at its grace time.
AGAIN_SECONDS = 0.1
PART_AGAIN_SECONDS = 0.01  # the same for a part cut short at its budget (job_state.on_a_budget)


def _on_long_job(signum, frame):
    """After half a second of CPU, a job yields the processor to quicker ones."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 10)
    except OSError:
        pass


def install_clock_handlers() -> None:
    """What the job clocks of start_clocks raise or do (each job's child; tests)."""
    signal.signal(signal.SIGALRM, _on_deadline)
    signal.signal(signal.SIGVTALRM, _on_long_job)
    signal.signal(signal.SIGPROF, _on_part_cpu)


def start_clocks(deadline: float) -> None:
    """The job's deadline (wall clock) and its renice point (CPU time)."""
    JOB.begin()  # nothing an earlier job's stop left open or running is this job's
    JOB.ends_at = time.monotonic() + deadline
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)  # back to normal priority (allowed as root)
    except OSError:
        pass
    signal.setitimer(signal.ITIMER_REAL, deadline)
    signal.setitimer(signal.ITIMER_VIRTUAL, 0.5)


def stop_clocks() -> None:
    JOB.ends_at = None
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.setitimer(signal.ITIMER_VIRTUAL, 0)


def hide_accelerators() -> None:
    """No GPU for a worker, set before torch is imported (the pool's environment does too)."""
    from .pool import HIDDEN_ACCELERATORS
    os.environ.update(HIDDEN_ACCELERATORS)


def release_memory() -> None:
    """After a job: free its graphs and tensors, and give freed pages back to the system."""
    from ..engine.recorder import close_open_tracers
    close_open_tracers()  # hooks on grad_fn would keep each trace's graph alive for good
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc


def run_job(handle, job: dict) -> dict:
    """One job under its deadline; nothing a job does escapes as an exception."""
    deadline = float(job.pop("deadline", 5.0))
    try:
        # Stopping the job here keeps the worker: no new process has to import torch.
        start_clocks(deadline)
        try:
            answer = handle(job)
        finally:
            stop_clocks()
    except DeadlineExceeded:
        return out_of_time(deadline, JOB.stopped_in).to_dict()
    except Exception:  # a bug in chainrule, not in the user's text, unless time ran out
        if JOB.expired:
            return out_of_time(deadline, JOB.stopped_in).to_dict()
        log_bug()
        return INTERNAL
    # Whatever the job's unwinding made of the deadline (an error, or nothing), it ran out.
    return out_of_time(deadline, JOB.stopped_in).to_dict() if JOB.expired else answer


def main() -> None:
    hide_accelerators()
    confine.shield_the_zygote()
    from ..engine.jobs import handle
    JOB.close_after_answer = True  # a child exits after its answer: nothing to close
    channel_in = sys.stdin.buffer
    channel_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Nothing printed, by Python or by a C library, and nothing a job writes to its
    # stdout (it reaches `os` through `torch.os`) may land in the channel as a frame.
    sys.stdout = sys.stderr
    os.dup2(sys.stderr.fileno(), 1)
    warm_up()
    release_memory()
    gc.freeze()  # torch's own objects are never garbage: each job's gc.collect() skips them
    # A trace makes tens of thousands of small objects that live to the job's end: with the
    # default threshold (700) the collector ran hundreds of times per long loop, about half
    # of its time (measured: 8,000 operations 2.0 s → 1.2 s of CPU, seed 001 3.1 → 1.7 ms).
    gc.set_threshold(50_000, 20, 100)
    raise_stack_limit()
    huge_pages.collapse()  # last: what the zygote writes from now on is split off again
    write_message(channel_out, {"ready": True, "pid": os.getpid()})
    try:
        serve(handle, channel_in, channel_out)
    except BrokenPipeError:
        pass  # the server closed our pipe (it is shutting down, or replaced us): just end


def serve(handle, channel_in, channel_out) -> None:
    """Relay each job to a fresh child until the server closes the pipe."""
    child = JobChild(lambda r, w: _child_main(handle, r, w))
    try:
        while True:
            frame = read_frame(channel_in)
            if frame is None:
                return
            deadline = float(json.loads(frame[HEADER.size:]).get("deadline", 5.0))
            answer = child.answer(frame, deadline)
            channel_out.write(answer)
            channel_out.flush()
            # Killed, not awaited: nothing it might still run after its answer (a finalizer
            # of the program's) holds the worker; and gone before the next child exists,
            # so a job never meets the one that runs the next student's job.
            child.end(kill=True)
            child = JobChild(lambda r, w: _child_main(handle, r, w))
            # The parent reads this before the next job (the protocol of a worker that
            # cleaned up after each job; here the next child is forked and waiting).
            write_message(channel_out, {"ready": True})
    finally:
        child.end(kill=True)


def _child_main(handle, job_read: int, answer_write: int) -> None:
    """Confine, read one job, answer it. Nothing of the job runs before `confine`."""
    from ..limits import DEFAULT_LIMITS
    install_clock_handlers()  # here, not in the zygote: a job could signal it (confine.py)
    confine.confine(DEFAULT_LIMITS)
    from .cpython import permission
    # This child may run a program as CPython: inside bubblewrap's walls, or outside them
    # where the server said so at start-up (one person on loopback: isolation.py).
    permission.CONFINED = os.environ.get("CHAINRULE_WALLS") == "bwrap" or \
        os.environ.get("CHAINRULE_UNCONFINED") == "1"
    # A fresh fork runs its first job 2-3 times slower (copy-on-write faults, CPython
    # re-specialising its bytecode: seed 001 7.5 ms against 3.5 ms, measured). On a machine
    # with a core to spare the child pays that on a tiny job of its own while it waits, off
    # the student's path; on a busy one it would only add CPU (7 ms a job, a third more).
    if core_to_spare():
        warm_up_trace(handle)
    with os.fdopen(job_read, "rb") as jobs:
        job = read_message(jobs)
    if job is None:
        return
    started, cpu = time.perf_counter(), time.process_time()
    answer = run_job(handle, job)
    answer = {**answer, "seconds": round(time.perf_counter() - started, 6),  # Server-Timing
              "cpu": round(time.process_time() - cpu, 6)}
    write_all(answer_write, answer_frame(answer))
    os.close(answer_write)


def answer_frame(answer: dict) -> bytes:
    """The framed answer; one too large only for the answers it carries in `also` goes
    without them (a job is never refused for what it made beside its answer)."""
    data = answer_bytes(answer)
    if "also" in answer and data == encode_message(TOO_LARGE):
        data = answer_bytes({key: value for key, value in answer.items() if key != "also"})
    return data


def core_to_spare() -> bool:
    """Whether a core is idle now and was over the last minute. The 1-minute load average
    alone lags a class's opening burst by half a minute, when every core is needed; the
    processes running now (this one included) say it at once."""
    try:
        with open("/proc/loadavg") as loadavg:
            fields = loadavg.read().split()
        average, running = float(fields[0]), int(fields[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return False
    cores = os.cpu_count() or 1
    return average < cores and running < cores


def torch_state_is_fresh() -> bool:
    """torch's process-wide switches are as a fresh worker has them.

    A deadline lands between any two bytecodes: in the middle of a context manager's enter
    or exit (the tracer's copy step, `no_grad`, a dual level) it can leave a mode on the
    stack, the allocation guard off, autograd off or a forward-AD level open, for every
    later job of the process. Restoring each by hand would miss the next one torch adds.
    Each job now runs in its own forked child, which exits after answering, so no job
    inherits another's switches; the tests use this check to show what a stop leaves."""
    import torch
    import torch.autograd.forward_ad as forward_ad
    from torch.overrides import _get_current_function_mode_stack
    return (not _get_current_function_mode_stack() and torch._C._len_torch_dispatch_stack() == 0
            and torch.is_grad_enabled()  # off in inference mode too
            and torch._C._is_torch_function_enabled()
            and forward_ad._current_level == -1
            and not torch.is_anomaly_enabled())


if __name__ == "__main__":
    main()
