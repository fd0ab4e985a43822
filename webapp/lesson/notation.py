"""One notation for every sentence: a negative operand in brackets, a tensor's entries,
a 1-element tensor as its number, `=` or `≈` as the shown numbers allow, the adjoint's name.

templates/_notation.html is the key the page shows for it.
"""
from __future__ import annotations

import math
import re

from ..formatting import format_number


def term(text: str) -> str:
    """A negative term, factor, base or divisor in brackets: 0.9093 + (−0.5769), (−0.5984)^2."""
    return f"({text})" if text.startswith(("−", "-")) else text


def factor(text: str) -> str:
    """A factor of a product: in brackets when negative (term) or when a space outside any
    bracket makes it a sum or a condition: ō · (1 − o²), not ō · 1 − o², which reads as
    (ō · 1) − o²; ȳ · (1 if x > 0 else 0)."""
    depth = 0
    for char in text:
        depth += (char in "([") - (char in ")]")
        if char == " " and depth == 0:
            return f"({text})"
    return term(text)


# JSON has no NaN or infinity: the worker writes them as these strings (engine/jsonvalues.py).
NOT_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def numbers_of(value) -> list | None:
    """A value's entries, flat, as numbers (NaN and ±inf included: a step at x = 0 of 1/x
    still shows its arithmetic); None when it has none to show (no value, a summary)."""
    flat = _flatten(value) if value is not None else None
    if not flat:
        return None
    flat = [NOT_FINITE.get(v, v) if isinstance(v, str) else v for v in flat]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat):
        return None
    return flat


def one_number(value, shape) -> float | None:
    """The number a scalar or a 1-element tensor holds (it reads like a number), else None."""
    if shape and math.prod(shape) != 1:
        return None
    flat = numbers_of(value)
    return flat[0] if flat is not None and len(flat) == 1 else None


def entries(values: list) -> str:
    """`(1, −2, 3)`: a small tensor's entries in a step (its shape is said on the line above)."""
    return "(" + ", ".join(format_number(v) for v in values) + ")"


def shown(value: float) -> float:
    """The number a reader sees: the value at the 4 significant digits shown."""
    return float(format_number(value).replace("−", "-"))


def agrees(parts: list, total: float, combine) -> bool:
    """Whether combining the numbers as shown gives the total as shown: `=` may be written;
    otherwise the sentence says `≈` (PyTorch's total is exact, the shown parts are rounded)."""
    try:
        return format_number(combine([shown(p) for p in parts])) == format_number(total)
    except (ValueError, OverflowError):  # inf, nan: nothing to round
        return True


def relation(parts: list, total, combine=sum) -> str:
    """`=` or `≈` for entrywise parts (each a list of entries) and their total's entries."""
    columns = [numbers_of(p) for p in parts]
    totals = numbers_of(total)
    if totals is None or any(c is None or len(c) != len(totals) for c in columns):
        return "="
    return "=" if all(agrees([c[i] for c in columns], t, combine) for i, t in enumerate(totals)) else "≈"


def bar(name: str) -> str:
    """The adjoint's name, ∂output/∂name, one notation everywhere: a bar over the name.
    x1 → x̄1 and y₂ → ȳ₂ (a macron over the letter, Baydin's v̄ᵢ); a longer name is overlined
    whole (loss → l̅o̅s̅s̅)."""
    if re.fullmatch(r"[A-Za-z][\d₀-₉]*", name or ""):
        return name[0] + "\u0304" + name[1:]
    return "".join(c + "\u0305" for c in name or "")


def _flatten(value) -> list:
    if isinstance(value, list):
        return [item for part in value for item in _flatten(part)]
    return [value]


def derivatives(outputs: list) -> bool:
    """Whether a pass's gradients are derivatives, ∂y/∂v: one output of one entry, started from
    1. After any other seed (a grad_output, a tensor's ones, several outputs) they are adjoints,
    v̄, the derivative weighted by the seed: explain.py's rules, practice's questions and the
    tape's caption say so. `outputs`: (shape, grad) of each output node."""
    if len(outputs) != 1:
        return False
    shape, grad = outputs[0]
    return math.prod(shape) == 1 and numbers_of(grad) == [1]
