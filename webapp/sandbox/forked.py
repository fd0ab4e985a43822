"""One job, one child: a process forked from the warm worker that answers once and exits.

The worker (a zygote that imported torch and warmed chainrule's code) keeps one child
forked and waiting on its own pipe, so the fork is off the student's path. The parent
hands it the job's frame, relays its framed answer, and answers for it when it runs out
of time (killed) or dies (memory, CPU): the worker itself lives on, so a killed job costs
no torch import.

A child holds no descriptor but its own two pipes and stderr. A job reaches `os` through
`torch.os`, so whatever the child inherits, the student's program can use: once it could
write frames into the pool's pipe, and the pool read them as the next student's answer.
The worker never forks the next child before the last one is reaped, so a job never
shares its namespace with the child that will run another student's job.
"""
from __future__ import annotations

import os
import select
import signal

from ..errors import out_of_time
from .protocol import encode_message, log_bug, read_frame

# The child stops a job itself at its deadline, between two bytecodes. One stuck in a long
# C call is killed this much later, and answered for here (the pool's own grace is longer).
CHILD_GRACE_SECONDS = 0.25


class JobChild:
    """One child forked from this warm process, waiting on its own pipe for one job."""

    def __init__(self, main):
        """`main(job_read, answer_write)` runs in the child, which keeps no other descriptor
        but stderr (the pool's job channel on stdin and every other file are closed)."""
        job_read, self.job_write = os.pipe()
        self.answer_read, answer_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child
            status = 70
            try:
                keep_only(job_read, answer_write)
                main(job_read, answer_write)
                status = 0
            except BaseException:  # noqa: BLE001 - a child never returns into the zygote's loop
                log_bug()
            finally:
                os._exit(status)
        os.close(job_read)
        os.close(answer_write)

    def answer(self, frame: bytes, deadline: float) -> bytes:
        """The child's framed answer, or one said for it when it ran out of time or died."""
        try:
            write_all(self.job_write, frame)
        except OSError:
            return encode_message(DIED)
        finally:
            os.close(self.job_write)
            self.job_write = None
        readable, _, _ = select.select([self.answer_read], [], [], deadline + CHILD_GRACE_SECONDS)
        if not readable:
            self.end(kill=True)
            return encode_message(out_of_time(deadline).to_dict())
        with os.fdopen(self.answer_read, "rb", closefd=False) as stream:
            try:
                frame = read_frame(stream)
            except (ValueError, OSError):
                frame = None
        return frame if frame else encode_message(DIED)

    def end(self, kill: bool = False) -> None:
        """Close the pipes and reap the child (killed first when `kill`)."""
        if self.job_write is not None:
            os.close(self.job_write)
            self.job_write = None
        if self.answer_read is not None:
            os.close(self.answer_read)
            self.answer_read = None
        if self.pid:
            if kill:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0


def keep_only(*kept: int) -> None:
    """Close every descriptor but stderr (and stdout, which the worker pointed at stderr)
    and `kept`."""
    low = 3
    for fd in sorted(kept):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))
    if 0 not in kept:
        try:
            os.close(0)  # the worker's job channel: the next students' jobs
        except OSError:
            pass


DIED = {"error": {"kind": "limit", "message": "This function used more memory or CPU time than "
                  "a student's share, so it was stopped."}}


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
