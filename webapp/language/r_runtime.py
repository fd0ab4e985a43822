"""The helpers translated R programs call: R's indexing, vectors, named lists and printing.

Their names start with `_r_`, which the Python validator refuses, so only programs
the R translator produced can reach them (frontend.install_r_helpers).
"""
from __future__ import annotations

import math

import torch

from ..errors import limit, runtime, unsupported
from .vocabulary import SafeFunction


class RList(tuple):
    """An R list: a tuple whose elements may have names (`list(input = g)`)."""

    names: tuple = ()

    def get(self, name):
        if name in self.names:
            return self[self.names.index(name)]
        raise runtime(f"This list has no element called {name}.")


def named(values, names) -> RList:
    result = RList(values)
    result.names = tuple(names)
    return result


def r_number(value) -> str:
    """A number as R prints it with 7 significant digits: 0.3502924, 6.962555e-05, 1e+05."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.6e}".split("e")
    exponent = int(exponent)
    digits = len(mantissa.lstrip("-").replace(".", "").rstrip("0")) or 1
    fixed = f"{value:.{max(0, digits - 1 - exponent)}f}"
    short = mantissa.rstrip("0").rstrip(".")
    scientific = f"{short}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"
    return fixed if len(fixed) <= len(scientific) else scientific


def flat(value) -> list:
    """The elements of an R vector, matrix (column by column) or tensor, as Python values."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dim() == 2:
            value = value.t()
        return [float(v) if value.is_floating_point() else v for v in value.reshape(-1).tolist()]
    if isinstance(value, (list, tuple, range)):
        if value and all(isinstance(row, list) for row in value):
            return [row[i] for i in range(len(value[0])) for row in value]  # matrices: by column
        return [item for element in value for item in flat(element)]
    return [value]


def to_vector(data):
    """The data of `torch_tensor(...)`: R numbers are doubles, so floats (ints of 1:n stay)."""
    if isinstance(data, bool):
        return [data]
    if isinstance(data, (int, float)):
        return [float(data)]
    if isinstance(data, range):
        return list(data)
    if isinstance(data, (list, tuple)):
        return [v if isinstance(v, (bool, list, tuple, torch.Tensor)) else float(v) for v in data]
    return data


def to_index(value):
    """R's 1-based index as Python's: numbers shift by one, logical masks stay."""
    if isinstance(value, bool):
        raise unsupported("A single TRUE/FALSE cannot index here; use a logical tensor.")
    if isinstance(value, (int, float)):
        if value != int(value) or value < 1:
            raise unsupported(f"R indices start at 1; {r_number(value)} cannot index here "
                              "(negative indices are not read).")
        return int(value) - 1
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool:
            return value
        if value.is_floating_point():
            value = value.long()
        return value - 1
    if isinstance(value, range):
        return to_slice(value.start, value.stop - value.step) if value.step == 1 else \
            [to_index(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [to_index(v) for v in value]
    raise unsupported("An index must be a number, a range like 1:3 or a logical tensor.")


def to_slice(low, high):
    if low > high:
        raise unsupported("A decreasing range cannot index here.")
    return slice(to_index(low), int(high))


def to_dim(dim):
    """R torch counts dimensions from 1; negative dims count from the end, as in PyTorch."""
    if isinstance(dim, (list, tuple)):
        return [to_dim(d) for d in dim]
    if isinstance(dim, bool) or not isinstance(dim, (int, float)) or dim != int(dim) or dim == 0:
        raise unsupported("dim counts from 1 in R: dim = 1 is the first dimension.")
    return int(dim) - 1 if dim > 0 else int(dim)


def sequence(low, high) -> range:
    """R's `low:high`, counting down when high < low, as R does."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise unsupported("`:` takes two numbers, as in 1:10.")
    low, high = int(low), int(high)
    return range(low, high + 1) if low <= high else range(low, high - 1, -1)


def make_helpers(prints: list, max_prints: int, interpreter=None) -> dict:
    """The `_r_` names for one run, writing printed lines into `prints`; `x$grad` read as a
    value is announced to the interpreter's observer under that name."""
    state = {"open": False}  # cat() without a final "\n" leaves its line open

    def emit(text: str) -> None:
        lines = text.split("\n")
        if state["open"] and prints:
            prints[-1] = (prints[-1] + lines.pop(0))[:500]
        for line in lines:
            if len(prints) < max_prints:
                prints.append(line[:500])
        if text.endswith("\n") and prints and prints[-1] == "":
            prints.pop()
        state["open"] = not text.endswith("\n")

    def cat(*items, sep=" "):
        words = []
        for item in items:
            if isinstance(item, torch.Tensor):
                raise unsupported("cat() cannot print a tensor in R either; use as.numeric(x).")
            words.extend(v if isinstance(v, str) else r_number(v) for v in flat(item)
                         if v is not None)
        emit(str(sep).join(words))

    def r_print(value):
        emit(describe(value) + "\n")
        return value

    def as_numeric(value):
        values = [float(v) for v in flat(value)]
        return values[0] if len(values) == 1 else values

    def as_array(value):
        if isinstance(value, torch.Tensor):
            return value.detach().tolist()
        return value

    def as_matrix(value):
        if isinstance(value, torch.Tensor) and value.dim() < 2:
            return [[v] for v in flat(value)]
        return as_array(value)

    def r_c(*items):
        if any(isinstance(i, torch.Tensor) for i in items):
            raise unsupported("c() joins numbers; join tensors with torch_cat(list(a, b)).")
        return flat(list(items))

    def grads(value, names):
        if isinstance(value, RList) and any(value.names):
            return tuple(value.get(n) if n in value.names else None for n in names)
        return tuple(value) if isinstance(value, (list, tuple)) else value

    def grad(owner, label):
        if not isinstance(owner, torch.Tensor):
            raise unsupported("`$grad` is a field of tensors.")
        value = owner.grad
        if interpreter is not None and isinstance(value, torch.Tensor) and not interpreter.quiet:
            interpreter.observer.assigned(label, value)
        return value

    def draws(n) -> int:
        if isinstance(n, bool) or not isinstance(n, (int, float)) or n != int(n) or n < 0:
            raise unsupported("The number of draws must be a whole number.")
        if interpreter is not None and n > interpreter.limits.max_tensor_elements:
            raise limit(f"More than {interpreter.limits.max_tensor_elements:,} random numbers.")
        return int(n)

    def runif(n, min=0.0, max=1.0):
        """R's numeric vector as a float tensor (PyTorch's generator, not R's)."""
        return torch.rand(draws(n)) * (max - min) + min

    def rnorm(n, mean=0.0, sd=1.0):
        return torch.randn(draws(n)) * sd + mean

    def field(owner, name):
        if isinstance(owner, RList):
            return owner.get(name)
        raise unsupported(f"`${name}` is not available here.")

    table = {"_r_cat": cat, "_r_print": r_print, "_r_as_numeric": as_numeric,
             "_r_as_array": as_array, "_r_as_matrix": as_matrix, "_r_c": r_c,
             "_r_seq": sequence, "_r_seq_len": lambda n: sequence(1, n) if n >= 1 else range(0),
             "_r_length": lambda v: len(flat(v)), "_r_i": to_index, "_r_slice": to_slice,
             "_r_dim": to_dim, "_r_vector": to_vector,
             "_r_list": lambda names, *values: named(values, names),
             "_r_named": lambda values, names: named(values, names),
             "_r_field": field, "_r_grads": grads, "_r_grad": grad,
             "_r_runif": runif, "_r_rnorm": rnorm}
    return {name: SafeFunction(name[3:], function, kind="language") for name, function in table.items()}


def describe(value) -> str:
    """What R's print() shows, in short: `[1] 0.8`, or a tensor the way R torch prints it."""
    if isinstance(value, torch.Tensor):
        data = value.detach()
        rows = [data.reshape(-1).tolist()] if data.dim() < 2 else data.reshape(data.shape[0], -1).tolist()
        lines = ["torch_tensor"]
        lines += [" ".join(f"{v: .4f}" if isinstance(v, float) else str(v) for v in row)
                  for row in (rows if data.dim() == 2 else [[v] for v in rows[0]])]
        kind = {torch.float32: "CPUFloatType", torch.float64: "CPUDoubleType",
                torch.int64: "CPULongType", torch.bool: "CPUBoolType"}.get(data.dtype, str(data.dtype))
        shape = ",".join(str(s) for s in data.shape)
        suffix = f"[ grad_fn = <{type(value.grad_fn).__name__}> ]" if value.grad_fn is not None \
            else "[ requires_grad = TRUE ]" if value.requires_grad else ""
        return "\n".join(lines + [f"[ {kind}{{{shape}}} ]{suffix}"])
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return f'[1] "{value}"'
    if isinstance(value, RList):
        return "\n".join(f"${name or i + 1}\n{describe(v)}" for i, (name, v)
                         in enumerate(zip(value.names or [None] * len(value), value)))
    return "[1] " + " ".join(r_number(v) for v in flat(value))
