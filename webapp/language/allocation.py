"""One guard for every allocation: each torch call's result is sized before it runs.

`AllocationGuard` is a TorchFunctionMode active for the whole job. Every torch function,
tensor method and operator passes through it (`a < b`, `a // b`, `a.clamp(b)`,
`torch.eye(n=...)`, `x[index_tensor]`, builtins that end in `+`), whatever the argument
form, so no call site can forget the check. The result's size comes from

- broadcasting the tensor operands, for elementwise functions and operators (cheap);
- nothing, for calls that make no new storage (basic indexing, shape queries);
- otherwise, running the same call on shape-only "meta" tensors, remembered per
  signature so a loop pays for it once.

A TorchFunctionMode costs about a microsecond per call; a TorchDispatchMode, which sees
every aten op, costs thirty, too slow for a loop of 200,000 turns.
"""
from __future__ import annotations

import math

import torch
from torch.overrides import TorchFunctionMode

from ..errors import limit
from ..limits import Limits
from .budget import Budget
from .vocabulary import ELEMENTWISE

# Operators and functions whose result has the broadcast shape of their tensor operands.
BROADCAST = frozenset(ELEMENTWISE) | frozenset({
    "floordiv", "floor_divide", "truediv", "mod", "and", "or", "xor", "invert", "pos",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "clone", "contiguous",
    "float", "double", "long", "int", "bool", "half", "to", "type_as", "zero", "fill",
    "copy", "normal", "uniform", "detach", "logical_xor", "sum", "mean", "prod", "amax",
    "amin", "std", "var", "norm", "cumsum", "cumprod", "logsumexp", "all", "any", "argmax",
    "argmin", "softplus", "gelu", "silu", "leaky_relu", "elu", "hardtanh", "mse_loss",
})
# Calls that read a tensor or make a view: no new storage to size.
NO_STORAGE = frozenset({
    "__get__", "__set__", "__repr__", "__str__", "__format__", "__bool__", "__len__",
    "__hash__", "__iter__", "__setitem__", "__float__", "__int__", "__index__",
    "__contains__", "__reduce_ex__", "__deepcopy__", "tolist", "item", "dim", "size",
    "numel", "backward", "requires_grad_", "retain_grad", "is_floating_point", "is_tensor",
    "view", "view_as", "reshape", "expand", "expand_as", "t", "T", "transpose", "permute",
    "unsqueeze", "squeeze", "flatten", "unbind", "split", "chunk", "narrow", "select",
    "tensor", "as_tensor", "manual_seed", "grad", "register_hook", "stride", "storage_offset",
})
BASIC_INDEX = (int, slice, type(None), type(Ellipsis))
from ..limits import MAX_DIMENSIONS
CACHE_SIZE = 4096
_SIZES: dict = {}  # (func, signature of args, of kwargs) -> elements of the result, or None
_NAMES: dict = {}  # func -> short_name(func)


def short_name(func) -> str:
    """`Tensor.__radd__` -> "add", `torch.Tensor.add_` -> "add", `torch.lt` -> "lt"."""
    name = getattr(func, "__name__", "")
    if name.startswith("__") and name.endswith("__") and name not in NO_STORAGE:
        name = name[2:-2]
        if name[:1] in "ri" and name[1:] in BROADCAST | {"matmul"}:
            name = name[1:]
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


class AllocationGuard(TorchFunctionMode):
    """Refuse any torch call whose result would exceed the tensor-size limit."""

    def __init__(self, limits: Limits):
        super().__init__()
        self.budget = Budget(limits)
        # Shared by every job of the process: a prediction depends on the call's signature
        # alone, and a small trace had paid meta runs of its own calls each time (profiled).
        self.sizes = _SIZES
        self.names = _NAMES

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        numel = self.predict(func, args, kwargs)
        if numel is not None:
            self.budget.tensor_size(numel)
        result = func(*args, **kwargs)
        if isinstance(result, torch.Tensor) and result.dim() > MAX_DIMENSIONS:
            raise limit(f"Tensors may have at most {MAX_DIMENSIONS} dimensions here.")
        return result

    def predict(self, func, args, kwargs) -> int | None:
        """Elements of the call's result, or None when it makes no new storage or is unknown."""
        name = self.names.get(func)
        if name is None:
            if len(self.names) >= CACHE_SIZE:
                self.names.clear()
            name = self.names[func] = short_name(func)
        if name in NO_STORAGE:
            return None
        shapes = None
        if name in BROADCAST:
            shapes = [v.shape for v in args if isinstance(v, torch.Tensor)]
            if kwargs:
                shapes += [v.shape for v in kwargs.values() if isinstance(v, torch.Tensor)]
        if shapes:  # no tensor among them (`torch.normal(0, 1, (n, k))`): sized on meta below
            if len(shapes) == 1 or all(shape == shapes[0] for shape in shapes):
                return math.prod(shapes[0])  # one shape (or an expanded view made contiguous)
            try:
                return math.prod(torch.broadcast_shapes(*shapes))
            except RuntimeError:
                return None  # torch refuses the shapes itself, with its own message
        if name == "getitem" and _basic_index(args[1] if len(args) > 1 else None):
            return None
        try:
            key = (func, _signature(args), _signature(kwargs))
            hash(key)
        except TypeError:
            return _numel_on_meta(func, args, kwargs)
        if key not in self.sizes:
            if len(self.sizes) >= CACHE_SIZE:
                self.sizes.clear()
            self.sizes[key] = _numel_on_meta(func, args, kwargs)
        return self.sizes[key]


def _basic_index(index) -> bool:
    """Whether `x[index]` is a view (ints, slices, None, ...), not a gather of new storage."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, BASIC_INDEX) and not isinstance(p, bool) for p in parts)


def _signature(value):
    """A hashable stand-in for arguments: tensors by shape and dtype, the rest as they are."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), value.dtype)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *(_signature(v) for v in value))
    if isinstance(value, dict):
        return tuple((k, _signature(v)) for k, v in value.items())
    if isinstance(value, slice):
        return ("slice", _signature(value.start), _signature(value.stop), _signature(value.step))
    if isinstance(value, (bool, int, float)):  # 2, 2.0 and True are equal keys, not equal calls
        return (type(value), value)
    return value


def _numel_on_meta(func, args, kwargs) -> int | None:
    """Run the call on shape-only meta tensors to learn its result's size without data."""
    has_tensor = []

    def to_meta(value):
        if isinstance(value, torch.Tensor):
            has_tensor.append(True)
            return torch.empty(value.shape, dtype=value.dtype, device="meta")
        if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
            return type(value)(to_meta(v) for v in value)
        return value
    try:
        meta_args = [to_meta(a) for a in args]
        meta_kwargs = {k: to_meta(v) for k, v in kwargs.items()}
        if not has_tensor:
            meta_kwargs["device"] = "meta"  # a creation function: torch.eye(n=...), arange(end=...)
        with torch.no_grad():
            result = func(*meta_args, **meta_kwargs)
    except Exception:  # no meta kernel, or data-dependent: the budget checks the result after
        return None
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    sizes = [r.numel() for r in outputs if isinstance(r, torch.Tensor)]
    return max(sizes) if sizes else None
