"""Calling whitelisted torch functions and tensor methods with checked arguments."""
from __future__ import annotations

import math
import os

import torch

from ..errors import OUT_OF_MEMORY, ChainruleError, limit, runtime, unsupported
from .budget import Budget, nested_numel, numel_of_size
from .student_terms import shape_mismatch
from .vocabulary import CREATION, ELEMENTWISE, FORBIDDEN_KWARGS, SIZED_CREATION

# Ops whose output can be much larger than their inputs: sized on the meta device first.
GROWING = frozenset({"matmul", "mm", "bmm", "outer", "repeat", "cat", "stack", "where",
                     "maximum", "minimum", "add", "sub", "mul", "div", "pow", "masked_fill",
                     "cdist", "expand", "atan2", "lerp", "fmod", "remainder", "addmm", "mv",
                     "inner", "dist", "true_divide", "heaviside", "linear"})


# Binary functions torch accepts only with two tensors; a plain number is made a tensor.
TENSOR_ONLY_PAIRS = frozenset({"maximum", "minimum", "atan2", "heaviside", "dist"})

BROADCASTING = frozenset({"where", "maximum", "minimum", "add", "sub", "mul", "div", "pow",
                          "atan2", "lerp", "fmod", "remainder", "true_divide", "heaviside",
                          "masked_fill"})
MATRIX_PRODUCTS = frozenset({"matmul", "mm", "bmm", "outer", "mv", "inner"})

DATA_TYPES = (int, float, bool, str, type(None), torch.Tensor, torch.dtype, torch.Size, slice)


def check_data(value, node=None, depth=0) -> None:
    """Only numbers, strings, tensors, dtypes and lists of them may reach torch."""
    if isinstance(value, DATA_TYPES):
        return
    if isinstance(value, (tuple, list)) and depth < 32:
        for item in value:
            check_data(item, node, depth + 1)
        return
    raise unsupported(f"{describe_kind(value)} cannot be passed to a torch function.", node)


def describe_kind(value) -> str:
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return f"`{name}`"
    return f"A {type(value).__name__} value"


def check_kwargs(kwargs: dict, node=None) -> None:
    for key, value in kwargs.items():
        if key in FORBIDDEN_KWARGS:
            raise unsupported(FORBIDDEN_KWARGS[key], node)
        if key == "device" and str(value) != "cpu":
            raise unsupported(f"device={value!r} is not available: chainrule computes on the CPU.", node)
        if key == "dtype" and not isinstance(value, torch.dtype):
            raise unsupported("dtype= takes a torch dtype such as torch.float32.", node)
        check_data(value, node)


def predict_numel(name: str, function, args, kwargs, budget: Budget, node=None) -> None:
    """Refuse an op whose result would be too large, before running it."""
    short = name.rsplit(".", 1)[-1]
    numel = None
    if short in SIZED_CREATION:
        sizes = args[:-1] if short in ("full", "randint") and args else args
        if short == "randint":
            sizes = args[-1:] if args else ()
        numel = numel_of_size(sizes if sizes else kwargs.get("size", ()))
        if numel is None and "size" in kwargs:
            numel = numel_of_size((kwargs["size"],))
    elif short in ("linspace", "logspace"):
        steps = kwargs.get("steps", args[2] if len(args) > 2 else None)
        numel = steps if isinstance(steps, int) else None
    elif short == "arange":
        numbers = [a for a in args if isinstance(a, (int, float))]
        if numbers:
            start, end, step = (0, numbers[0], 1) if len(numbers) == 1 else \
                (numbers[0], numbers[1], numbers[2] if len(numbers) > 2 else 1)
            step = kwargs.get("step", step)
            if isinstance(step, (int, float)) and step != 0:
                numel = max(0, math.ceil((end - start) / step))
    elif short == "eye":
        ints = [a for a in args if isinstance(a, int)]
        numel = ints[0] * (ints[1] if len(ints) > 1 else ints[0]) if ints else None
    elif short in ("tensor", "as_tensor") and args:
        numel = nested_numel(args[0])
    elif short in BROADCASTING:
        numel = _numel_of_broadcast(args, kwargs)
    elif short in MATRIX_PRODUCTS:
        numel = _numel_of_product(short, args)
    elif short in GROWING:
        numel = _numel_on_meta(function, args, kwargs)
    if numel is not None:
        budget.tensor_size(numel, node)


def _numel_of_broadcast(args, kwargs) -> int | None:
    """Elements of an elementwise result: the broadcast of its operands' shapes (cheap)."""
    with torch._C.DisableTorchFunction():  # shape reads: nothing for the allocation guard to size
        shapes = [v.shape for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor)]
    if shapes and all(shape == shapes[0] for shape in shapes):
        return math.prod(shapes[0])  # `y * 0.99`, `a + b` of one shape: nothing to broadcast
    try:
        return math.prod(torch.broadcast_shapes(*shapes)) if shapes else None
    except RuntimeError:
        return None  # torch will refuse the shapes itself, with its own message


def _numel_of_product(short: str, args) -> int | None:
    """Elements of a matrix product or outer product, from the operands' shapes."""
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if len(tensors) != 2:
        return None
    a, b = tensors
    if short == "outer":
        return a.numel() * b.numel()
    if a.dim() == 0 or b.dim() == 0:
        return None
    rows = a.shape[-2] if a.dim() > 1 else 1
    cols = b.shape[-1] if b.dim() > 1 else 1
    batch_a, batch_b = a.shape[:-2], b.shape[:-2] if b.dim() > 2 else ()
    try:
        batch = math.prod(torch.broadcast_shapes(batch_a, batch_b))
    except RuntimeError:
        return None
    return batch * rows * cols


def _numel_on_meta(function, args, kwargs) -> int | None:
    """Run the op on shape-only meta tensors to learn its output size without data."""
    def to_meta(value):
        if isinstance(value, torch.Tensor):
            return torch.empty(value.shape, dtype=value.dtype, device="meta")
        if isinstance(value, (list, tuple)):
            return type(value)(to_meta(v) for v in value)
        return value
    try:
        with torch.no_grad():
            result = function(*to_meta(list(args)), **{k: to_meta(v) for k, v in kwargs.items()})
    except Exception:  # not every op has a meta kernel; the result is checked after anyway
        return None
    if isinstance(result, torch.Tensor):
        return result.numel()
    return None


def call_torch(name: str, function, args: list, kwargs: dict, budget: Budget, node=None,
               operator: bool = False, numbers_as_tensors: bool = False):
    """Call a whitelisted torch function, tensor method or (`operator=True`) operator.

    A bare `sin(2.0)` (a name without `torch.`) or `numbers_as_tensors` (R's torch, which
    converts R numbers) takes a plain number as a tensor; `torch.sin(2.0)` is PyTorch's
    TypeError, as in plain PyTorch.
    """
    for value in args:
        check_data(value, node)
    check_kwargs(kwargs, node)
    short = name.rsplit(".", 1)[-1]
    converts = numbers_as_tensors or "." not in name
    if not operator and converts and short in ELEMENTWISE and args and _is_number(args[0]) \
            and short != "where" and not any(isinstance(a, torch.Tensor) for a in args):  # pow(2, x) stays pow.Scalar
        args = [torch.tensor(float(args[0]))] + list(args[1:])  # sin(2.0) works like math.sin
    if not operator and converts and short in TENSOR_ONLY_PAIRS:
        args = [torch.tensor(float(a)) if _is_number(a) else a for a in args]  # maximum(x, 0)
    if short in CREATION or short in GROWING:
        predict_numel(name, function, args, kwargs, budget, node)
    result = guarded(lambda: function(*args, **kwargs), node, operands=args)
    budget.produced(result, node, inputs=args)
    return result


# What PyTorch raises when a call it was given is wrong (its Python half checks with `assert`
# too: torch.autograd.backward([0])).
TORCH_ERRORS = (RuntimeError, TypeError, ValueError, IndexError, ZeroDivisionError,
                AssertionError, NotImplementedError)
_TORCH_FOLDER = os.path.dirname(torch.__file__) + os.sep
_ENGINE_FOLDER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "engine") + os.sep


def raised_for_the_program(exc: BaseException) -> bool:
    """True when PyTorch raised `exc` for what the program asked: raised inside torch (or a
    RuntimeError, PyTorch's C++ errors), with no frame of chainrule's engine (the recorder,
    its hooks) on the way, whose failures stay chainrule's bugs."""
    files = []
    traceback = exc.__traceback__
    while traceback is not None:
        files.append(traceback.tb_frame.f_code.co_filename)
        traceback = traceback.tb_next
    if not files or any(name.startswith(_ENGINE_FOLDER) for name in files):
        return False
    return isinstance(exc, RuntimeError) or files[-1].startswith(_TORCH_FOLDER)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def guarded(thunk, node=None, operands=None):
    """Run a torch call, turning its exceptions into one plain sentence at `node`; with its
    tensor `operands`, a mistake of the student's is said in their terms (student_terms.py)."""
    try:
        return thunk()
    except ChainruleError as error:
        raise error.at(node)
    except MemoryError:
        raise limit(OUT_OF_MEMORY, node) from None
    except OverflowError:
        raise limit("A number grew too large to represent.", node) from None
    except RecursionError:
        raise limit("This function is nested too deeply.", node) from None
    except TORCH_ERRORS as exc:
        message = explain_torch_error(exc)
        if operands is not None:
            message = shape_mismatch(str(exc), node, list(operands)) or message
        if message == OUT_OF_MEMORY:
            raise limit(message, node) from None
        raise runtime(message, node) from None


def _changed_in_place(text: str) -> str:
    """PyTorch's version-counter error, said as what happened and what to write instead."""
    import re
    op = re.search(r"output \d+ of (\w+?)(?:Backward\d*)?,", text)
    versions = re.search(r"is at version (\d+); expected version (\d+)", text)
    saved = f"the result of {op.group(1)}" if op else "a tensor"
    when = (f" (PyTorch saved it at version {versions.group(2)}; it is now at version "
            f"{versions.group(1)})") if versions else ""
    return (f"backward() needs {saved} as it was computed, but an in-place operation (a "
            f"method ending in `_` such as `add_`, or `+=`) changed it afterwards{when}: "
            "make a new tensor instead, e.g. `y = y + 1` rather than `y.add_(1)`.")


def explain_torch_error(exc: Exception) -> str:
    """PyTorch's own words, first sentence only, with a hint for the well-known ones."""
    text = str(exc).strip().split("\n")[0]
    if "can't allocate memory" in text or "DefaultCPUAllocator" in text:
        return OUT_OF_MEMORY
    if "grad can be implicitly created only for scalar outputs" in text:
        return ("grad can be implicitly created only for scalar outputs: the output is not a "
                "single number, so backward() needs a gradient of the output's shape; choose "
                "grad_output \"ones\" (the same as summing the output first) or give a vector.")
    if "backward through the graph a second time" in text:
        return ("Trying to backward through the graph a second time: PyTorch frees the saved "
                "values after backward(); pass retain_graph=True to the first backward() to "
                "run it again.")
    if "a leaf Variable that requires grad" in text:
        return ("A leaf tensor that requires grad is being changed in place; wrap the update "
                "in `with torch.no_grad():`.")
    if "does not require grad and does not have a grad_fn" in text:
        return ("element 0 of tensors does not require grad and does not have a grad_fn: "
                "no tensor with requires_grad=True reached this one (a comparison such as "
                "x > 0 has no gradient either), so PyTorch recorded no graph to go back "
                "through; create the input with requires_grad=True and call backward() on "
                "a result computed from it.")
    if text == "Expected output to be a torch.Tensor":  # torch.autograd.backward([0])
        return ("backward() goes back from tensors, and it was given something else (a plain "
                "number?): pass the output tensor, as in torch.autograd.backward([y]).")
    if "modified by an inplace operation" in text:
        return _changed_in_place(text)
    if type(exc) is ZeroDivisionError:
        return "Division by zero."
    if len(text) > 300:  # at a word, not mid-word
        text = text[:297].rsplit(" ", 1)[0] + " …"
    return text[:1].upper() + text[1:] if text else f"{type(exc).__name__} in PyTorch."
