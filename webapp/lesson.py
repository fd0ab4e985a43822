"""Add what teaches to a trace: names, the evaluation trace (`tape`) and `explain`."""
from __future__ import annotations

from .explain import explanations
from .naming import assign_names
from .tape import tape_rows


def add_lesson(trace: dict, seeded: bool = False) -> dict:
    """Fill `name` on every node, `tape` and `explain` (in place); returns the trace."""
    if not trace.get("nodes"):
        trace.update(tape=[], explain={"forward": {}, "backward": {}})
        return trace
    assign_names(trace)
    trace["tape"] = tape_rows(trace)
    trace["explain"] = explanations(trace, seeded)
    return trace
