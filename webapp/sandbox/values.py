"""What a value may be when it crosses into a worker: finite numbers in lists, one message each.

Checked at the door (the gate checks every job; query.py every typed value), so NaN,
Infinity and 1e400 never reach a worker.
"""
from __future__ import annotations

import math

from ..errors import bad_input
from ..limits import LARGEST_INT, MAX_NESTING

FLOAT32_MAX = 3.4028234663852886e38  # torch.finfo(torch.float32).max, without importing torch


def check_value(name: str, value, depth: int = 0):
    """`value` (parsed JSON) if it is finite numbers in lists; else a 400 naming `name`."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise bad_input(f"The value of {name} must be finite numbers: NaN and Infinity "
                        "are not accepted.", input_name=name)
    if isinstance(value, float) and abs(value) > FLOAT32_MAX:  # it would become Infinity
        raise bad_input(f"The value of {name} holds a number too large for a float32 tensor "
                        f"(the largest is about 3.4e38).", input_name=name)
    if isinstance(value, int) and abs(value) > LARGEST_INT:
        raise bad_input(f"The value of {name} holds a number too large for a tensor.", input_name=name)
    if isinstance(value, (list, tuple)):
        if depth >= MAX_NESTING:
            raise bad_input(f"The value of {name} nests lists more than {MAX_NESTING} deep.", input_name=name)
        for item in value:
            check_value(name, item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(f"{name}.{key}", item, depth + 1)
    return value
