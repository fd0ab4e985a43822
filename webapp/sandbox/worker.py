"""The evaluator process: imports torch once, lowers its OS limits, then answers jobs.

Run as `python -m webapp.sandbox.worker`. Jobs and answers are JSON, framed by a 4-byte
length, over stdin and stdout; nothing is ever pickled. The parent kills this process
when a job outlives its deadline, and starts a fresh one.
"""
from __future__ import annotations

import ctypes
import gc
import os
import resource
import signal
import sys
import time

from ..deep_graphs import raise_stack_limit
from ..engine import stop_report, uninterrupted
from ..errors import out_of_time
from .protocol import INTERNAL, answer_bytes, log_bug, read_message, write_message


def warm_up() -> None:
    """Touch every code path that loads libraries or starts threads, before the limits."""
    import torch
    from ..engine.jobs import handle
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process
    handle({"kind": "trace", "source": "y = sin(x) * x.sum() @ torch.ones(1)\ny",
            "inputs": {"x": [1.0]}})
    # matplotlib builds its font cache on first use: do it while files may still be written.
    handle({"kind": "plot_image", "source": "sin(x)", "inputs": {"x": 1.0}, "wrt": "x",
            "lo": -1, "hi": 1, "n": 5, "format": "svg"})


def address_space_limit(limits) -> int:
    """The address-space cap: the worker's footprint after warm-up plus a student's share.

    An absolute cap would measure the wrong thing: a CUDA build or some BLAS libraries
    reserve gigabytes of address space at start-up without using memory, and such a worker
    would have nothing left for the student. Footprint plus share gives every worker the
    same room. CHAINRULE_WORKER_HEADROOM_MB sets a smaller share (tests).
    """
    headroom = os.environ.get("CHAINRULE_WORKER_HEADROOM_MB")
    share = int(headroom) * 2**20 if headroom else limits.address_space_bytes
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    return size_kb * 1024 + share


def apply_os_limits(limits) -> None:
    """No files written, no new processes, bounded memory; CPU is set per job."""
    def lower(which, value):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a limit the platform or our privileges do not allow lowering
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write then fails with EFBIG instead
    lower(resource.RLIMIT_FSIZE, 0)
    lower(resource.RLIMIT_CORE, 0)
    lower(resource.RLIMIT_NPROC, 0)
    lower(resource.RLIMIT_AS, address_space_limit(limits))
    raise_stack_limit()


def limit_cpu_for_next_job(seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY and soft > hard:
        soft = hard
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


class DeadlineExceeded(BaseException):
    """Raised inside a job at its deadline (a BaseException: no `except Exception` eats it)."""


# Set when the job's deadline fired. The exception lands between any two bytecodes: in a
# context manager's exit (torch's mode stack, a tracer's flush) the clean-up it interrupted
# may raise again, and that RuntimeError, not DeadlineExceeded, reaches run_job. The flag
# keeps the answer what it was: out of time.
expired = False
stopped_in = None  # (line, col, turns) of the innermost loop running when the deadline fired


# A deadline raised where Python ignores exceptions (a weakref callback, `__del__`) is
# printed and lost, and the job runs on. Until run_job disarms the clock, it is raised again
# this often; the parent would otherwise kill the worker at its grace time.
AGAIN_SECONDS = 0.1


def _on_deadline(signum, frame):
    global expired, stopped_in
    if not expired:
        stopped_in = stop_report.innermost_loop()
    expired = True
    if uninterrupted.depth > 0:  # in the tracer's copy step: raised just after it ends
        signal.setitimer(signal.ITIMER_REAL, 0.001)
        return
    signal.setitimer(signal.ITIMER_REAL, AGAIN_SECONDS)
    raise DeadlineExceeded()


def _on_long_job(signum, frame):
    """After half a second of CPU, a job yields the processor to quicker ones."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 10)
    except OSError:
        pass


def install_clock_handlers() -> None:
    """What the job clocks of start_clocks raise or do (worker.main; tests)."""
    signal.signal(signal.SIGALRM, _on_deadline)
    signal.signal(signal.SIGVTALRM, _on_long_job)


def start_clocks(deadline: float) -> None:
    """The job's deadline (wall clock) and its renice point (CPU time)."""
    global expired, stopped_in
    expired, stopped_in = False, None
    stop_report.forget()
    uninterrupted.depth = 0  # a stretch an earlier job's error left open must not shield this one
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)  # back to normal priority (allowed as root)
    except OSError:
        pass
    signal.setitimer(signal.ITIMER_REAL, deadline)
    signal.setitimer(signal.ITIMER_VIRTUAL, 0.5)


def stop_clocks() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
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
        return out_of_time(deadline, stopped_in).to_dict()
    except Exception:  # a bug in chainrule, not in the user's text, unless time ran out
        if expired:
            return out_of_time(deadline, stopped_in).to_dict()
        log_bug()
        return INTERNAL
    # Whatever the job's unwinding made of the deadline (an error, or nothing), it ran out.
    return out_of_time(deadline, stopped_in).to_dict() if expired else answer


def main() -> None:
    hide_accelerators()
    from ..engine import recorder
    from ..engine.jobs import handle
    recorder.CLOSE_AFTER_ANSWER = True  # release_memory closes them, after the answer is sent
    from ..limits import DEFAULT_LIMITS
    channel_in = sys.stdin.buffer
    channel_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing the worker prints may corrupt the channel
    warm_up()
    release_memory()
    gc.freeze()  # torch's own objects are never garbage: each job's gc.collect() skips them
    # A trace makes tens of thousands of small objects that live to the job's end: with the
    # default threshold (700) the collector ran hundreds of times per long loop, about half
    # of its time (measured: 8,000 operations 2.0 s → 1.2 s of CPU, seed 001 3.1 → 1.7 ms).
    # It still runs, and each job ends with a full collection.
    gc.set_threshold(50_000, 20, 100)
    apply_os_limits(DEFAULT_LIMITS)
    install_clock_handlers()
    write_message(channel_out, {"ready": True, "pid": os.getpid()})
    try:
        serve(handle, channel_in, channel_out)
    except BrokenPipeError:
        pass  # the server closed our pipe (it is shutting down, or replaced us): just end


def serve(handle, channel_in, channel_out) -> None:
    """Answer jobs until the server closes the pipe, or torch is left switched."""
    from ..limits import DEFAULT_LIMITS
    while True:
        job = read_message(channel_in)
        if job is None:
            return
        limit_cpu_for_next_job(DEFAULT_LIMITS.cpu_seconds)
        started = time.perf_counter()
        answer = run_job(handle, job)
        answer = {**answer, "seconds": round(time.perf_counter() - started, 6)}  # Server-Timing
        data = answer_bytes(answer)
        del answer, job
        channel_out.write(data)
        channel_out.flush()
        del data
        release_memory()
        if not torch_state_is_fresh():
            return  # a job stopped mid-way left torch switched: a fresh worker instead
        # The parent reads this before the next job: a worker that died cleaning up is
        # replaced, and the next student is not told that their function was to blame.
        write_message(channel_out, {"ready": True})


def torch_state_is_fresh() -> bool:
    """torch's process-wide switches are as a fresh worker has them.

    A deadline lands between any two bytecodes: in the middle of a context manager's enter
    or exit (the tracer's copy step, `no_grad`, a dual level) it can leave a mode on the
    stack, the allocation guard off, autograd off or a forward-AD level open, for every
    later job of this process. Restoring each by hand would miss the next one torch adds:
    the worker ends and a fresh one takes its place."""
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
