"""What a job keeps beside its answer in a worker: one object, `JOB`, begun afresh per job.

The deadline is a signal, raised between any two bytecodes. Cut inside the tracer's copy
step (a dispatch mode set aside, torch functions off, autograd off), a job would leave the
process switched that way, so inside such a stretch (`uninterrupted` > 0) the deadline
waits until it ends. A job stopped at its deadline says which loop it was in: the loops
running now are the interpreter's list (language.loop_exits.ACTIVE_LOOPS). A worker's child
exits after its answer, so its tracers are closed once the answer is written, not while
the student waits (`close_after_answer`; a tenth of a folded loop's job, measured).

A job may ask for a second answer it can do without (the page's plot beside its graph:
one fork, not two). That part runs on a budget of its own (`on_a_budget`): cut short at
the budget, it costs the job nothing, and the job's own answer is already made.

No torch here: the worker's signal handler reads this before torch is imported.
"""
from __future__ import annotations

import signal
import time
import weakref

from ..language.loop_exits import ACTIVE_LOOPS


class JobState:
    """The job's bookkeeping the engine and the worker's signal handler share."""

    def __init__(self):
        self.uninterrupted = 0  # stretches open that the deadline waits out (snapshots.Copying)
        self.close_after_answer = False  # set by the worker: tracers closed after the answer
        self.closing: list = []  # tracers recorder.close_later keeps until then
        self.tracers: "weakref.WeakSet" = weakref.WeakSet()  # every tracer not yet closed
        # The deadline fired (the worker's handler). It lands between any two bytecodes: in
        # a context manager's exit (torch's mode stack, a tracer's flush) the clean-up it
        # interrupted may raise again, and that error, not DeadlineExceeded, reaches the
        # worker's run_job; this flag keeps the answer what it was: out of time.
        self.expired = False
        self.stopped_in: tuple | None = None  # innermost_loop() when the deadline fired
        # time.monotonic() of the job's deadline while its clock runs (the worker's
        # start_clocks); None in-process, where no clock cuts a part short
        self.ends_at: float | None = None
        self.in_part = False  # inside on_a_budget's part: its clock raises PartCut
        self.part_cut = False  # a PartCut was raised in the part (it may have been swallowed)
        self.made = False  # a part began: the job's own answer is made, the deadline spares it

    def begin(self) -> None:
        """Before a job: a stretch an earlier job's error left open must not shield this one,
        and loops an earlier job's stop left on the list are not this job's."""
        self.uninterrupted = 0
        self.expired, self.stopped_in = False, None
        self.in_part = self.part_cut = self.made = False
        ACTIVE_LOOPS.clear()

    @staticmethod
    def innermost_loop() -> tuple | None:
        """(line, col, turns so far) of the innermost loop running now, or None."""
        if not ACTIVE_LOOPS:
            return None
        node, turns = ACTIVE_LOOPS[-1]
        return getattr(node, "lineno", None), getattr(node, "col_offset", -1) + 1, turns


JOB = JobState()  # one job runs at a time in a process


class PartCut(BaseException):
    """Raised in a part of a job at its own budget (a BaseException, as the deadline)."""


def on_a_budget(cpu_seconds: float, wall_seconds: float, part):
    """`part()`, or None when it raised or ran past its budget: a part the job can do without,
    called once the job's own answer is made.

    The budget is CPU time (the same on a busy machine as on a quiet one), and at most
    `wall_seconds` and half the wall time left before the deadline. It starts only while the
    job's clock runs with a second left. Its clocks (SIGPROF, and SIGALRM as the deadline)
    raise PartCut inside the part; from here on the deadline cuts only the part, never the
    answer made (the worker's handlers). A part that swallowed a cut and finished anyway
    (a bare `except:`) skipped a step: its answer is not kept.
    """
    if JOB.ends_at is None:
        return None
    left = JOB.ends_at - time.monotonic()
    if left < 1.0:
        return None
    JOB.in_part = JOB.made = True
    JOB.part_cut = False
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    signal.setitimer(signal.ITIMER_REAL, min(wall_seconds, left / 2))
    try:
        made = part()
        return None if JOB.part_cut else made
    except PartCut:
        return None
    except Exception:  # noqa: BLE001 - the part's refusal or failure is its own request's to say
        return None
    finally:
        JOB.in_part = False
        signal.setitimer(signal.ITIMER_PROF, 0)


PART_CODE = on_a_budget.__code__  # a signal landing in these bytecodes, not the part's, waits
