"""The evaluator process: imports torch once, lowers its OS limits, then answers jobs.

Run as `python -m webapp.worker`. Jobs and answers are JSON, framed by a 4-byte
length, over stdin and stdout; nothing is ever pickled. The parent kills this process
when a job outlives its deadline, and starts a fresh one.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import struct
import sys
import traceback

HEADER = struct.Struct(">I")


def read_message(stream) -> dict | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    return json.loads(stream.read(length))


def write_message(stream, message: dict) -> None:
    data = json.dumps(message, allow_nan=False).encode()
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def warm_up() -> None:
    """Touch every code path that loads libraries or starts threads, before the limits."""
    import torch
    from .jobs import handle
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
    """Bytes of address space; CHAINRULE_WORKER_HEADROOM_MB sets it relative to now (tests)."""
    headroom = os.environ.get("CHAINRULE_WORKER_HEADROOM_MB")
    if not headroom:
        return limits.address_space_bytes
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    return size_kb * 1024 + int(headroom) * 2**20


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


def _on_deadline(signum, frame):
    raise DeadlineExceeded()


def _on_long_job(signum, frame):
    """After half a second of CPU, a job yields the processor to quicker ones."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 10)
    except OSError:
        pass


def start_clocks(deadline: float) -> None:
    """The job's deadline (wall clock) and its renice point (CPU time)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)  # back to normal priority (allowed as root)
    except OSError:
        pass
    signal.setitimer(signal.ITIMER_REAL, deadline)
    signal.setitimer(signal.ITIMER_VIRTUAL, 0.5)


def stop_clocks() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.setitimer(signal.ITIMER_VIRTUAL, 0)


def main() -> None:
    from .jobs import handle
    from .limits import DEFAULT_LIMITS
    channel_in = sys.stdin.buffer
    channel_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing the worker prints may corrupt the channel
    warm_up()
    apply_os_limits(DEFAULT_LIMITS)
    signal.signal(signal.SIGALRM, _on_deadline)
    signal.signal(signal.SIGVTALRM, _on_long_job)
    write_message(channel_out, {"ready": True, "pid": os.getpid()})
    while True:
        job = read_message(channel_in)
        if job is None:
            return
        limit_cpu_for_next_job(DEFAULT_LIMITS.cpu_seconds)
        deadline = float(job.pop("deadline", DEFAULT_LIMITS.deadline_seconds))
        try:
            # Stopping the job here keeps the worker: no new process has to import torch.
            start_clocks(deadline)
            try:
                answer = handle(job)
            finally:
                stop_clocks()
        except DeadlineExceeded:
            answer = {"error": {"kind": "limit", "message": f"This function took longer than "
                                f"{deadline:g} seconds, so it was stopped."}}
        except Exception:  # a bug in chainrule, not in the user's text
            traceback.print_exc()
            answer = {"error": {"kind": "internal",
                                "message": "chainrule failed on this function; this is a bug."}}
        write_message(channel_out, answer)


if __name__ == "__main__":
    main()
