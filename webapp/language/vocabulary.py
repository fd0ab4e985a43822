"""The whitelist: which torch functions, tensor attributes and builtins a program may use.

Every callable the interpreter hands out is wrapped in `SafeFunction`, so user code
never holds a real module, class or bound method of Python's.
"""
from __future__ import annotations

import functools

import math

import torch
import torch.nn.functional as torch_functional

from .names import BARE_MATH

ELEMENTWISE = (
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "exp", "exp2", "log",
    "log10", "log2", "log1p", "sqrt", "rsqrt", "abs", "neg", "tanh", "sigmoid", "relu",
    "clamp", "clamp_min", "clamp_max", "pow", "square", "reciprocal", "sign", "floor",
    "ceil", "round", "maximum", "minimum", "where", "add", "sub", "mul", "div", "true_divide",
    "atan2", "exp", "erf", "softmax", "log_softmax", "fmod", "remainder", "lerp", "isnan",
    "isfinite", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
    "masked_fill", "heaviside",
)
REDUCTIONS = (
    "sum", "mean", "prod", "max", "min", "norm", "std", "var", "argmax", "argmin",
    "logsumexp", "cumsum", "cumprod", "amax", "amin", "all", "any", "dist",
)
LINALG = ("dot", "mm", "matmul", "t", "transpose", "outer", "mv", "bmm", "trace", "diag",
          "inner", "addmm")
SHAPE = ("reshape", "view", "squeeze", "unsqueeze", "flatten", "expand", "expand_as",
         "repeat", "view_as", "reshape_as", "permute", "flip", "unbind", "chunk", "split",
         "narrow", "tril", "triu", "contiguous")

#: Methods callable on a tensor (`x.sum()`), beyond the functions above.
TENSOR_METHODS = frozenset(
    ELEMENTWISE + REDUCTIONS + LINALG + SHAPE + (
        "item", "tolist", "detach", "clone", "requires_grad_", "backward", "retain_grad",
        "size", "numel", "dim", "float", "double", "long", "int", "bool",
        "clip", "sub_", "add_", "mul_", "div_", "zero_", "fill_", "clamp_", "copy_", "neg_",
        "pow_", "abs_", "exp_", "sqrt_", "masked_fill_", "normal_", "uniform_",
    )
)

#: Read-only attributes of a tensor.
TENSOR_PROPERTIES = frozenset({"grad", "shape", "requires_grad", "T", "ndim", "dtype",
                               "is_leaf", "data", "grad_fn"})

CREATION = ("tensor", "arange", "linspace", "zeros", "ones", "full", "eye", "rand", "randn",
            "randint", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like",
            "empty", "logspace", "as_tensor")
TORCH_FUNCTIONS = frozenset(
    ELEMENTWISE + REDUCTIONS + LINALG + SHAPE + CREATION + (
        "cat", "stack", "manual_seed", "is_tensor", "numel", "clone", "detach", "cdist",
        "clip", "einsum",
    )
)

DTYPES = {"float32": torch.float32, "float": torch.float32, "float64": torch.float64,
          "double": torch.float64, "int64": torch.int64, "long": torch.int64,
          "int32": torch.int32, "int": torch.int32, "bool": torch.bool,
          "float16": torch.float16}

FUNCTIONAL = ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "mse_loss", "l1_loss",
              "softplus", "gelu", "leaky_relu", "elu", "linear", "cross_entropy",
              "binary_cross_entropy", "normalize", "silu")

#: Keyword arguments refused everywhere, with the reason a student is told.
FORBIDDEN_KWARGS = {
    "out": "`out=` is not part of the function language; assign the result instead.",
    "layout": "`layout=` is not part of the function language.",
    "pin_memory": "`pin_memory=` is not part of the function language.",
    "generator": "`generator=` is not part of the function language; use torch.manual_seed.",
    "memory_format": "`memory_format=` is not part of the function language.",
    "names": "Named tensors are not part of the function language.",
}

#: Creation functions whose size can be read from their arguments before they run.
SIZED_CREATION = frozenset({"zeros", "ones", "rand", "randn", "empty", "full", "randint"})


class SafeFunction:
    """A whitelisted callable, known by its user-facing name."""

    __slots__ = ("name", "function", "kind")

    def __init__(self, name: str, function, kind: str = "torch"):
        self.name = name
        self.function = function
        self.kind = kind

    def __repr__(self) -> str:
        return f"<function {self.name}>"


class Namespace:
    """A read-only module-like object: `torch`, `math`, `torch.autograd`, `F`."""

    __slots__ = ("name", "members")

    def __init__(self, name: str, members: dict):
        self.name = name
        self.members = members

    def __repr__(self) -> str:
        return f"<module {self.name}>"


class GradMode:
    """`torch.no_grad()` / `torch.enable_grad()` as a context the interpreter enters."""

    __slots__ = ("name", "factory")

    def __init__(self, name: str, factory):
        self.name = name
        self.factory = factory


AUTOGRAD_FUNCTION_BASE = object()  # marker: `torch.autograd.Function` as a base class


def _torch_members() -> dict:
    members = {name: SafeFunction(f"torch.{name}", getattr(torch, name))
               for name in TORCH_FUNCTIONS if hasattr(torch, name)}
    members.update(DTYPES)
    members.update(pi=math.pi, e=math.e, inf=math.inf, nan=math.nan)
    members["manual_seed"] = SafeFunction(
        "torch.manual_seed", lambda seed: torch.random.default_generator.manual_seed(int(seed)) and None,
        kind="language")  # the CPU generator only (see evaluation.seed_cpu)
    members["no_grad"] = SafeFunction("torch.no_grad", lambda: GradMode("no_grad", torch.no_grad),
                                      kind="language")
    members["enable_grad"] = SafeFunction(
        "torch.enable_grad", lambda: GradMode("enable_grad", torch.enable_grad), kind="language")
    members["autograd"] = Namespace("torch.autograd", {
        "Function": AUTOGRAD_FUNCTION_BASE,
        "grad": SafeFunction("torch.autograd.grad", torch.autograd.grad, kind="autograd"),
        "backward": SafeFunction("torch.autograd.backward", torch.autograd.backward, kind="autograd"),
    })
    members["nn"] = Namespace("torch.nn", {"functional": FUNCTIONAL_NAMESPACE})
    members["linalg"] = Namespace("torch.linalg", {
        name: SafeFunction(f"torch.linalg.{name}", getattr(torch.linalg, name))
        for name in ("norm", "vector_norm", "matrix_norm")})
    return members


FUNCTIONAL_NAMESPACE = Namespace("torch.nn.functional", {
    name: SafeFunction(f"F.{name}", getattr(torch_functional, name)) for name in FUNCTIONAL
})

MATH_NAMESPACE = Namespace("math", {
    **{name: SafeFunction(f"math.{name}", getattr(math, name), kind="math")
       for name in ("sqrt", "exp", "log", "log10", "log2", "sin", "cos", "tan", "tanh",
                    "atan", "atan2", "asin", "acos", "fabs", "floor", "ceil", "isfinite",
                    "isnan", "hypot", "sinh", "cosh")},
    "pi": math.pi, "e": math.e, "inf": math.inf, "tau": math.tau,
})

TORCH_NAMESPACE = Namespace("torch", _torch_members())


def module_for_import(dotted: str):
    """The value `import dotted` / `from a import b` binds (names.ALLOWED_IMPORTS only)."""
    value = {"torch": TORCH_NAMESPACE, "math": MATH_NAMESPACE}[dotted.split(".")[0]]
    for part in dotted.split(".")[1:]:
        value = value.members[part]
    return value


def bare_math() -> dict:
    """Functions usable without `torch.` (sin(x)), dispatching numbers to Python's math."""
    # Their own bare names: `sin(2.0)` works like math.sin, while `torch.sin(2.0)` is
    # refused as PyTorch refuses it (calls.call_torch tells them apart by the name).
    return dict(_bare_math())


@functools.lru_cache(maxsize=1)  # made once: the same read-only functions as TORCH_NAMESPACE's
def _bare_math() -> dict:
    members = TORCH_NAMESPACE.members
    return {name: SafeFunction(name, members[name].function, members[name].kind) for name in BARE_MATH}
