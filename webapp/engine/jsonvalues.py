"""Turn tensors and Python values into plain JSON data (never pickles)."""
from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import limit


def number(value: float):
    """A JSON-safe number; non-finite values become the strings JS's Number() reads."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def tensor_value(tensor: torch.Tensor, max_elements: int):
    """Nested lists of a tensor's values, float32 printed as its shortest decimal (0.8)."""
    if tensor.dtype == torch.float32 and tensor.dim() == 0:  # the common case, made quick
        return number(float(str(np.float32(tensor.item()))))
    tensor = tensor.detach()
    if tensor.numel() > max_elements:
        return None
    array = tensor.cpu().numpy()
    if array.dtype == np.float32:
        flat = [number(float(str(x))) for x in array.reshape(-1)]  # np.float32's shortest form
    elif array.dtype.kind == "f":
        flat = [number(float(x)) for x in array.reshape(-1)]
    elif array.dtype.kind == "b":
        flat = [bool(x) for x in array.reshape(-1)]
    else:
        flat = [int(x) for x in array.reshape(-1)]
    return _nest(flat, list(tensor.shape))


def _nest(flat: list, shape: list):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def summary(tensor: torch.Tensor) -> dict:
    """A few statistics for a tensor too large to list."""
    data = tensor.detach().double()
    return {"min": number(data.min().item()), "max": number(data.max().item()),
            "mean": number(data.mean().item())}


def describe(value, max_elements: int) -> dict:
    """{"value", "shape"} for any value a program can produce."""
    if isinstance(value, torch.Tensor):
        described = {"value": tensor_value(value, max_elements), "shape": list(value.shape),
                     "dtype": str(value.dtype).replace("torch.", "")}
        if described["value"] is None:
            described["summary"] = summary(value)
        return described
    return {"value": plain(value, max_elements), "shape": None}


def plain(value, max_elements: int, count: list | None = None):
    """JSON data for a non-tensor value (numbers, lists, strings, None).

    Every number the answer holds counts, however deeply nested (400 rows of 10,000
    are 4 million numbers, not 400): past `max_elements` in all, the answer is refused.
    """
    count = [0] if count is None else count
    if isinstance(value, (list, tuple)):
        count[0] += len(value)
    elif isinstance(value, torch.Tensor):
        count[0] += value.numel()
    else:
        count[0] += 1
    if count[0] > max_elements:
        raise limit(f"The answer would hold more than {max_elements:,} values; "
                    "return or print fewer (a tensor is summarised, a list is not).")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return number(value)
    if isinstance(value, torch.Tensor):
        return tensor_value(value, max_elements)
    if isinstance(value, (list, tuple)):
        return [plain(v, max_elements, count) for v in value]
    if isinstance(value, torch.dtype):
        return str(value)
    return "<object>"  # never an internal class name
