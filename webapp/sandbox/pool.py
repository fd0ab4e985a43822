"""A fixed pool of evaluator processes, with a deadline per job and a bounded wait.

The web process never runs user text: it hands each job to an idle worker
(`python -m webapp.sandbox.worker`, inside bubblewrap where it can be built:
isolation.py), which forks a confined child for it, and waits for its JSON answer. A worker that misses the
deadline, or dies (memory, CPU), is killed and replaced in the background. When no
worker frees up within `wait_seconds`, the caller gets a `busy` error (HTTP 429).
"""
from __future__ import annotations

import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time

from ..errors import bad_input, busy, limit, out_of_time, unwrap
from . import isolation
from .protocol import encode_message, read_message


class Worker:
    """One evaluator process and its pipes."""

    def __init__(self, extra_env: dict | None = None):
        path = os.pathsep.join(filter(None, [_package_parent(), os.environ.get("PYTHONPATH")]))
        env = dict(os.environ, PYTHONPATH=path, PYTHONHASHSEED="0", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", **HIDDEN_ACCELERATORS, **(extra_env or {}))
        argv = [sys.executable, "-m", "webapp.sandbox.worker"]
        info_read = info_write = None
        if isolation.wanted():
            info_read, info_write = os.pipe()  # bwrap says the worker's own process id there
            argv = isolation.command(argv, env, info_fd=info_write)
        try:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0,
                pass_fds=(info_write,) if info_write is not None else ())  # unbuffered: select sees every message
        finally:
            if info_write is not None:
                os.close(info_write)
        self.pid = self.process.pid if info_read is None else isolation.read_child_pid(info_read)
        self.owes_ready = False  # after each answer the worker cleans up, then says "ready"

    def wait_ready(self, timeout: float) -> bool:
        return self._wait_readable(timeout) and (read_message(self.process.stdout) or {}).get("ready")

    def _wait_readable(self, timeout: float) -> bool:
        readable, _, _ = select.select([self.process.stdout], [], [], max(timeout, 0))
        return bool(readable)

    def ask(self, job: bytes, deadline: float) -> tuple[dict | None, str]:
        """Send an encoded job; (answer, "ok"), or (None, "deadline", "died" or "gone").

        "gone": the worker died, or did not finish cleaning up, after its previous job and
        before reading this one; the job is not to blame and can go to another worker."""
        if self.process.poll() is not None or not self._zygote_alive() \
                or self.owes_ready and not self._ready_again():
            return None, "gone"
        try:
            pending = memoryview(job)
            while pending:  # an unbuffered write may take part of it
                pending = pending[self.process.stdin.write(pending):]
        except (BrokenPipeError, OSError, ValueError):
            return None, "gone"  # no one read the job: it cannot be what killed the worker
        if not self._wait_readable(deadline):
            return None, "deadline"
        try:
            answer = read_message(self.process.stdout)
        except (ValueError, OSError):
            answer = None
        self.owes_ready = isinstance(answer, dict)
        return (answer, "ok") if isinstance(answer, dict) else (None, "died")

    def _ready_again(self) -> bool:
        """Read the "ready" the worker writes once its last job's memory is released."""
        try:
            return self._wait_readable(self.READY_SECONDS) and \
                bool((read_message(self.process.stdout) or {}).get("ready"))
        except (ValueError, OSError):
            return False
        finally:
            self.owes_ready = False

    READY_SECONDS = 2.0  # freeing a large graph's memory takes well under this

    def _zygote_alive(self) -> bool:
        """Whether the worker inside bubblewrap still runs. bwrap outlives it for a moment
        and holds the job pipe open, so a job written then was taken as the job's fault
        ("more memory or CPU than a student's share") on a busy machine (a flake, seen)."""
        if not self.pid or self.pid == self.process.pid:
            return True  # no sandbox: the process itself is the worker (poll() says)
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in (b"Z", b"X")

    def exited(self, within: float) -> bool:
        """Whether the process has ended, waiting up to `within` seconds for it to be reaped.

        A worker killed for memory may still be tearing down (a CUDA context, big mappings)
        when its pipe closes; reading the status at once would call it a deadline.
        """
        try:
            self.process.wait(timeout=within)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self) -> None:
        if self.pid and self.pid != self.process.pid:
            # The worker is its namespace's process 1: when it dies the kernel kills every
            # process left in the sandbox (bwrap's own process would not take them along).
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.process.kill()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


# chainrule teaches CPU autograd. A visible GPU makes a CUDA build of torch map gigabytes of
# address space at the first backward(), so workers see none, from before torch is imported.
HIDDEN_ACCELERATORS = {"CUDA_VISIBLE_DEVICES": "", "HIP_VISIBLE_DEVICES": "",
                       "ROCR_VISIBLE_DEVICES": "", "ZE_AFFINITY_MASK": "",
                       "ONEAPI_DEVICE_SELECTOR": "opencl:cpu", "PYTORCH_ENABLE_MPS_FALLBACK": "0"}


def _package_parent() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class WorkerPool:
    """`size` workers; `run(job)` returns the answer dict or raises ChainruleError."""

    def __init__(self, size: int = 2, deadline_seconds: float = 5.0, wait_seconds: float = 3.0,
                 startup_seconds: float = 60.0, worker_env: dict | None = None):
        self.size = size
        self.worker_env = worker_env
        self.deadline_seconds = deadline_seconds
        self.wait_seconds = wait_seconds
        self.startup_seconds = startup_seconds
        # First in, first out: each job runs in a fresh child, so no worker's caches are
        # warmer than another's; the worker idle longest has its next child forked and warmed
        # up, while the one that just answered may still be forking (bench/sandbox_bench.py:
        # seed 001 14.2 ms with jobs 20 ms apart on one worker, 6.9 ms 100 ms apart).
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.lock = threading.Lock()
        self.starting = 0
        self.replaced = 0
        self.closed = False
        for _ in range(size):
            self._start_worker()

    def _start_worker(self) -> None:
        with self.lock:
            self.starting += 1
        threading.Thread(target=self._boot, daemon=True, name="chainrule-worker-boot").start()

    def _boot(self) -> None:
        worker = None
        try:
            worker = Worker(self.worker_env)
            ready = worker.wait_ready(self.startup_seconds)
        except OSError:
            ready = False
        with self.lock:
            self.starting -= 1
        if ready and not self.closed:
            self.idle.put(worker)
        else:
            if worker:
                worker.kill()
            if not self.closed:
                time.sleep(1.0)
                self._start_worker()

    # The worker stops a job itself at the deadline, between two torch calls. A job stuck in one
    # long C call is killed this much later: short, so it holds a worker only briefly.
    GRACE_SECONDS = 1.0  # the worker answers for a stuck child after 0.25 s (worker.py)
    # How long a dead worker may take to be reaped before its status is read.
    REAP_SECONDS = 2.0

    def run(self, job: dict, timings: dict | None = None) -> dict:
        """Every path after `_acquire` hands the worker back or replaces it (the `finally`).

        `timings`, when given, gets "job": the worker's own seconds for the job, "job-cpu":
        the CPU seconds its child spent on it, and "also":
        the answers of the jobs it carried in `also` (engine/jobs.py), when it had any."""
        try:
            message = encode_message({**job, "deadline": self.deadline_seconds})
        except (ValueError, TypeError):  # NaN, Infinity or a non-JSON value: refused at the door
            raise bad_input("The inputs must be finite numbers or lists of them.") from None
        for _ in range(self.size + 1):  # a worker gone while idle is replaced, not blamed
            worker = self._acquire()
            answer, outcome = None, "died"
            try:
                answer, outcome = worker.ask(message, self.deadline_seconds + self.GRACE_SECONDS)
            finally:
                if outcome == "ok":
                    self.idle.put(worker)
                else:
                    if outcome == "died" and not worker.exited(self.REAP_SECONDS):
                        outcome = "deadline"  # the pipe broke but the process lives on: a stuck job
                    self._replace(worker)
            if outcome != "gone":
                break
        if outcome == "gone":
            raise busy()
        if outcome == "died":
            raise limit("This function used more memory or CPU time than a student's share, "
                        "so it was stopped.")
        if outcome == "deadline":
            raise out_of_time(self.deadline_seconds)
        if timings is not None:
            timings["job"] = answer.get("seconds")
            timings["job-cpu"] = answer.get("cpu")
            if "also" in answer:
                timings["also"] = answer["also"]
        return unwrap(answer)

    def _acquire(self) -> Worker:
        wait = self.wait_seconds
        with self.lock:
            if self.starting >= self.size:
                wait = self.startup_seconds  # the pool is booting: torch takes seconds to import
        try:
            return self.idle.get(timeout=wait)
        except queue.Empty:
            raise busy() from None

    def _replace(self, worker: Worker) -> None:
        self.replaced += 1
        threading.Thread(target=worker.kill, daemon=True).start()
        self._start_worker()

    def idle_pids(self, wait_seconds: float = 0.0) -> list[int]:
        """Process ids of the idle workers; first waits (up to `wait_seconds`) for all of them."""
        deadline = time.monotonic() + wait_seconds
        while (self.idle.qsize() < self.size or self.starting) and time.monotonic() < deadline:
            time.sleep(0.05)
        return [worker.pid for worker in list(self.idle.queue)]

    def close(self) -> None:
        self.closed = True
        while True:
            try:
                self.idle.get_nowait().kill()
            except queue.Empty:
                break

