"""Add what teaches to a trace: names, the evaluation trace (`tape`), `explain` and `guards`.

The lesson reads and fills the worker's `Trace` (webapp/model.py) before it becomes JSON:
it adds model objects, never keys to JSON data.
"""
from __future__ import annotations

from ..model import Explain, Guard, Trace
from .explain import explanations
from .guards import find_guards
from .naming import TraceIndex, assign_names
from .tape import tape_rows
from .tangent_text import tangent_explanations
from .updates import add_update_texts


def add_names(trace: Trace) -> Trace:
    """Only `name` on every node: what a drawing needs (in place); returns the trace."""
    if trace.nodes:
        assign_names(TraceIndex(trace))
    return trace


def add_lesson(trace: Trace, seeded: bool = False, source: str | None = None,
               language: str = "python") -> Trace:
    """Fill `name` on every node, `tape`, `explain` and `guards` (in place); returns the trace."""
    add_update_texts(trace)
    if not trace.nodes:
        trace.tape, trace.explain = [], Explain(forward={}, backward={})
        trace.guards = _guards(source, [])
        return trace
    ix = TraceIndex(trace)  # beside the trace, not in it
    assign_names(ix)
    trace.tape = tape_rows(ix)
    trace.explain = Explain(**explanations(ix, seeded, language))
    tangents = tangent_explanations(ix)
    if tangents:  # only when the request asked for a forward-mode direction
        trace.explain.tangent = tangents
    trace.guards = _guards(source, trace.nodes)
    return trace


def _guards(source: str | None, nodes: list) -> list[Guard]:
    return [Guard(**guard) for guard in find_guards(source, nodes)] if source else []
