"""The value of a program's last line as JSON: `"result"` of API.md's additions."""
from __future__ import annotations

import torch

from .jsonvalues import plain

from ..limits import MAX_RESULT_TEXT as MAX_TEXT


def describe_result(value, line, limits) -> dict:
    """{"kind", "value", "shape"?, "text", "line"}: the value, and how Python prints it."""
    result = {"kind": _kind(value), "value": plain(value, limits.max_json_elements), "line": line,
              "text": _text(value)}
    if isinstance(value, torch.Tensor):  # its "value" is plain's tensor_value already
        result["shape"] = list(value.shape)
    return result


def _kind(value) -> str:
    if isinstance(value, torch.Tensor):
        return "tensor"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return "tuple"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__.lower()


def _text(value) -> str:
    """repr() as the Python prompt shows it; only for values whose repr is plain data."""
    if isinstance(value, (torch.Tensor, bool, int, float, str, type(None))) or \
            (isinstance(value, (tuple, list)) and len(value) <= 100):
        try:
            return repr(value)[:MAX_TEXT]
        except Exception:  # a tensor that cannot print (e.g. freed storage) still answers
            return f"<{type(value).__name__}>"
    return f"<{type(value).__name__}>"
