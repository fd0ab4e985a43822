"""How a number or a tensor's value reads on the page: one definition for every Python side.

A leaf: imports nothing of the package, so the worker (tracing) formats without loading
graphviz, and drawing, lesson and web format the same way. static/js/format.js is its
JavaScript twin.
"""
from __future__ import annotations


def format_number(value) -> str:
    """Scalars to 4 significant digits; the strings NaN/Infinity as they are."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return {"Infinity": "inf", "-Infinity": "−inf"}.get(value, value)
    if isinstance(value, bool):
        return str(value)
    if value != value:  # a float NaN (lesson/notation.numbers_of) reads as the JSON's "NaN"
        return "NaN"
    if value == 0:  # −0.0 (a gradient times −1 at 0) reads 0: a student never sees −0
        value = 0 if isinstance(value, int) else 0.0
    text = str(value) if isinstance(value, int) else f"{value:.4g}"
    return text.replace("-", "−")  # one minus sign for ints and floats (format.js has no ints)


WHOLE = 8


def format_value(value, shape, summary=None) -> str:
    """A value as a student reads it: `4`, or `[3] (1, 2, 3)`, or `[64×100] 0.1, −2, …`;
    a 1-element tensor reads as its number with its shape as a mark: `4 [1]`."""
    if not shape and not isinstance(value, list):
        return format_number(value)
    if not shape:  # a node whose shape is unknown (no record) still draws its numbers
        shape = [len(value)]
    dims = "×".join(str(s) for s in shape)
    if value is None:
        if summary:
            return f"[{dims}] min {format_number(summary['min'])} max {format_number(summary['max'])}"
        return f"[{dims}]"
    flat = _flatten(value)
    if len(flat) == 1:  # R's torch_tensor(2) is [1]: a number, not a one-entry list
        return f"{format_number(flat[0])} [{dims}]"
    whole = len(flat) <= WHOLE  # up to 8 entries are shown whole ([0, 4, 8, 12] is the lesson)
    shown = ", ".join(format_number(v) for v in (flat if whole else flat[:3]))
    more = "" if whole else ", …"
    return f"[{dims}] ({shown}{more})"


def _flatten(value) -> list:
    if isinstance(value, list):
        return [item for part in value for item in _flatten(part)]
    return [value]
