"""The helpers translated R programs call: R's indexing, vectors, named lists and printing.

Their names start with `_r_`, which the Python validator refuses, so only programs
the R translator produced can reach them (frontend.install_r_helpers).
"""
from __future__ import annotations

import math
import re

import torch

from ..errors import limit, runtime, unsupported
from ..limits import DEFAULT_LIMITS
from .vocabulary import SafeFunction

# An R vector holds at most as many numbers as a Python list may (10,000): `1:1e9` is a
# range until something walks it, and walking it is refused first.
MAX_VECTOR = DEFAULT_LIMITS.max_sequence_len
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


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


def bounded(size: int) -> int:
    """`size` numbers, if an R vector may hold them (else one sentence, before any walk)."""
    if size > MAX_VECTOR:
        raise limit(f"This vector would hold {size:,} numbers; one here holds at most "
                    f"{MAX_VECTOR:,} (a for loop may still run over a longer 1:n).")
    return size


def flat(value) -> list:
    """The elements of an R vector, matrix (column by column) or tensor, as Python values."""
    if isinstance(value, range):
        bounded(len(value))
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dim() == 2:
            value = value.t()
        return [float(v) if value.is_floating_point() else v for v in value.reshape(-1).tolist()]
    if isinstance(value, (list, tuple, range)):
        if value and all(isinstance(row, list) for row in value):
            return [row[i] for i in range(len(value[0])) for row in value]  # matrices: by column
        items = []
        for element in value:
            items.extend(flat(element))
            bounded(len(items))
        return items
    return [value]


def to_vector(data):
    """The data of `torch_tensor(...)`: R numbers are doubles, so floats (ints of 1:n stay)."""
    if isinstance(data, bool):
        return [data]
    if isinstance(data, (int, float)):
        return [float(data)]
    if isinstance(data, range):
        bounded(len(data))
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


def make_helpers(prints: list, max_prints: int, interpreter=None, cpython: bool = False) -> dict:
    """The `_r_` names for one run, writing printed lines into `prints`; `x$grad` read as a
    value is announced to the interpreter's observer under that name. With `cpython`, for
    a program CPython runs: `$` reads any object's field (a module's `$weight`)."""
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

    def r_print(value, n=None):  # print(y, n = 10): R torch shows the first 10 rows
        emit(describe(value, n) + "\n")
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
        if cpython and FIELD_NAME.match(name):
            if isinstance(owner, torch.nn.Module) and name == "parameters":
                return list(owner.parameters())  # R torch's model$parameters is a list
            try:
                return getattr(owner, name)
            except AttributeError:
                raise runtime(f"`${name}` is not a field of this {type(owner).__name__}.") from None
        raise unsupported(f"`${name}` is not available here.")

    def set_field(owner, name, value):
        """`owner$name <- value`: a list with that element replaced or added."""
        if isinstance(owner, RList):
            names = list(owner.names) + ([name] if name not in owner.names else [])
            values = [value if n == name else (owner[i] if i < len(owner) else None)
                      for i, n in enumerate(names)]
            return named(values, names)
        if cpython and FIELD_NAME.match(name) and isinstance(owner, torch.nn.Module):
            setattr(owner, name, value)
            return owner
        raise unsupported(f"`${name} <-` sets an element of a list here.")

    def next_functions(function):
        """R torch's `$next_functions`: the functions alone, without PyTorch's indices."""
        if function is None or not hasattr(function, "next_functions"):
            raise unsupported("`$next_functions` is a field of a grad_fn.")
        return named([f for f, _ in function.next_functions], [None] * len(function.next_functions))

    def save_for_backward(ctx, *values):
        """R's ctx$save_for_backward keeps any value; PyTorch's, tensors (the rest on ctx)."""
        ctx.save_for_backward(*[v if isinstance(v, torch.Tensor) else None for v in values])
        ctx.r_saved_values = values

    def saved(ctx, names):
        tensors = ctx.saved_tensors
        values = getattr(ctx, "r_saved_values", tensors)
        return named([t if isinstance(v, torch.Tensor) else v for t, v in zip(tensors, values)],
                     names)

    def parameters(value):
        return [value] if isinstance(value, torch.Tensor) else list(value)

    def append(values, more, after=None):
        if after is None:
            return r_c(values, more)
        items = flat(values)
        return items[:int(after)] + flat(more) + items[int(after):]

    table = {"_r_cat": cat, "_r_print": r_print, "_r_as_numeric": as_numeric,
             "_r_as_array": as_array, "_r_as_matrix": as_matrix, "_r_c": r_c,
             "_r_seq": sequence, "_r_seq_len": lambda n: sequence(1, n) if n >= 1 else range(0),
             "_r_length": lambda v: bounded(len(v)) if isinstance(v, range) else len(flat(v)), "_r_i": to_index, "_r_slice": to_slice,
             "_r_dim": to_dim, "_r_vector": to_vector,
             "_r_list": lambda names, *values: named(values, names),
             "_r_named": lambda values, names: named(values, names),
             "_r_field": field, "_r_grads": grads, "_r_grad": grad,
             "_r_runif": runif, "_r_rnorm": rnorm, "_r_is_null": lambda v: v is None,
             "_r_append": append, "_r_set_field": set_field, "_r_next_functions": next_functions,
             "_r_save_for_backward": save_for_backward, "_r_saved": saved,
             "_r_parameters": parameters,
             "_r_as_tensor": lambda v: v if isinstance(v, torch.Tensor) else torch.tensor(
                 to_vector(v), dtype=torch.get_default_dtype())}
    return {name: SafeFunction(name[3:], function, kind="language") for name, function in table.items()}


def cpython_helpers(runner) -> dict:
    """The `_r_` names as plain functions, for a translated program CPython runs."""
    helpers = make_helpers(runner.prints, runner.limits.max_prints, runner, cpython=True)
    return {name: helper.function for name, helper in helpers.items()}


def describe(value, n=None) -> str:
    """What R's print() shows: a tensor the way R torch prints it (its first `n` lines, if
    given, then R torch's note that the rest was left out), numbers as `[1] 0.8`."""
    from .r_printing import print_text  # r_printing reads RList and r_number from here
    return print_text(value, n)
