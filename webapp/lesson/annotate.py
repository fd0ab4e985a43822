"""Add what teaches to a trace: names, the evaluation trace (`tape`) and `explain`."""
from __future__ import annotations

from .explain import explanations
from .guards import find_guards
from .naming import TraceIndex, assign_names
from .tape import tape_rows
from .tangent_text import tangent_explanations
from .updates import add_update_texts


def add_names(trace: dict) -> dict:
    """Only `name` on every node: what a drawing needs (in place); returns the trace."""
    if trace.get("nodes"):
        assign_names(TraceIndex(trace))
    return trace


def add_lesson(trace: dict, seeded: bool = False, source: str | None = None,
               language: str = "python") -> dict:
    """Fill `name` on every node, `tape`, `explain` and `guards` (in place); returns the trace."""
    add_update_texts(trace)
    if not trace.get("nodes"):
        trace.update(tape=[], explain={"forward": {}, "backward": {}},
                     guards=find_guards(source) if source else [])
        return trace
    ix = TraceIndex(trace)  # beside the trace, not in it
    assign_names(ix)
    trace["tape"] = tape_rows(ix)
    trace["explain"] = explanations(ix, seeded, language)
    tangents = tangent_explanations(ix)
    if tangents:  # only when the request asked for a forward-mode direction
        trace["explain"]["tangent"] = tangents
    trace["guards"] = find_guards(source, trace) if source else []
    return trace
