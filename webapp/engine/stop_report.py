"""Where a job was when its deadline stopped it: the loop running then (no torch import).

The worker's signal handler asks; the interpreter keeps the list (language.active_loops).
"""
from ..language.active_loops import ACTIVE_LOOPS


def innermost_loop() -> tuple | None:
    """(line, col, turns so far) of the innermost loop running now, or None."""
    if not ACTIVE_LOOPS:
        return None
    node, turns = ACTIVE_LOOPS[-1]
    return getattr(node, "lineno", None), getattr(node, "col_offset", -1) + 1, turns


def forget() -> None:
    """Before a job: loops an earlier job's stop left on the list are not this job's."""
    ACTIVE_LOOPS.clear()
