"""Python builtins of the language, each bounded so none can loop or allocate without limit."""
from __future__ import annotations

import builtins
import math

import torch

from ..errors import runtime, unsupported
from .budget import Budget
from .calls import check_kwargs
from .vocabulary import SafeFunction


def make_builtins(budget: Budget, prints: list, max_prints: int, line=lambda: None) -> dict:
    """The builtin names for one evaluation, closed over its budget and print buffer."""

    def bounded_list(iterable, node=None):
        if isinstance(iterable, torch.Tensor):
            budget.sequence(len(iterable) if iterable.dim() else 0, node)
            if iterable.dim() == 0:
                raise runtime("Cannot iterate over a 0-d tensor.", node)
            return list(iterable.unbind(0))
        if isinstance(iterable, range):
            budget.sequence(len(iterable), node)
            return list(iterable)
        if isinstance(iterable, (list, tuple, torch.Size)):
            return list(iterable)
        raise unsupported("Only lists, tuples, ranges and tensors can be iterated over.", node)

    def py_range(*args):
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise runtime("range() takes whole numbers.")
        return range(*args)

    def py_len(value):
        if isinstance(value, (torch.Tensor, list, tuple, range, torch.Size, str)):
            return len(value)
        raise runtime("len() takes a tensor, list or tuple.")

    def iterating(py_function):
        """min/max as Python runs them: iterate (a tensor unbinds), compare, keep one item."""
        def dispatch(*args, **kwargs):
            check_kwargs(kwargs)  # max(x, out=...) is refused like torch.max(x, out=...)
            if kwargs:
                raise unsupported(f"{py_function.__name__}() here is Python's; for a tensor's "
                                  f"{py_function.__name__} along a dim write torch.{py_function.__name__}(x, dim=…).")
            if len(args) == 1 and not isinstance(args[0], (int, float)):
                return py_function(bounded_list(args[0]))
            return py_function(*args)
        return dispatch

    def py_sum(iterable, start=0):
        # Python's sum, as Python runs it: `sum(x**2)` unbinds x**2 and adds 0 + x0 + x1 + …
        total = start
        for item in bounded_list(iterable):
            total = total + item
        return total

    def python_abs(value, **kwargs):
        check_kwargs(kwargs)  # abs(x, out=...) is refused like torch.abs(x, out=...)
        if kwargs:
            raise unsupported("abs() takes one value and no keywords.")
        return builtins.abs(value)

    def py_print(*args):
        if len(prints) < max_prints:
            prints.append({"line": line(), "text": " ".join(shown(a) for a in args)[:500]})

    def py_zip(*iterables):
        lists = [bounded_list(i) for i in iterables]
        return list(zip(*lists))

    def py_enumerate(iterable, start=0):
        return list(enumerate(bounded_list(iterable), start))

    def py_float(value=0.0):
        return float(value)

    def py_round(value, ndigits=None):
        if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > 100):
            raise runtime("round() takes at most 100 digits.")  # 10**(10**9) would never end
        return builtins.round(value, ndigits) if ndigits is not None else builtins.round(value)

    def py_int(value=0):
        if isinstance(value, float) and not math.isfinite(value):
            raise runtime("Cannot turn an infinite number into an integer.")
        return int(value)

    table = {
        "range": py_range, "len": py_len, "abs": python_abs,
        "min": iterating(builtins.min), "max": iterating(builtins.max),
        "sum": py_sum, "float": py_float, "int": py_int, "bool": builtins.bool,
        "round": py_round, "print": py_print, "list": bounded_list,
        "tuple": lambda iterable=(): tuple(bounded_list(iterable)),
        "enumerate": py_enumerate, "zip": py_zip,
        "reversed": lambda iterable: list(reversed(bounded_list(iterable))),
    }
    names = {name: SafeFunction(name, function, kind="builtin") for name, function in table.items()}
    names["pow"] = SafeFunction("pow", None, kind="pow")  # routed through the `**` operator
    names["pi"] = math.pi
    return names


SHOWN_AS_IS = (int, float, bool, str, type(None), torch.Tensor, torch.dtype, torch.Size, range)


def shown(value, depth: int = 0) -> str:
    """What print() shows: values as Python does; anything else by its name, never an address."""
    if isinstance(value, SHOWN_AS_IS):
        return str(value)
    if isinstance(value, (list, tuple)) and depth < 8:
        inner = ", ".join(shown(v, depth + 1) for v in value[:100])
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    name = getattr(value, "name", None)
    return f"<{name}>" if isinstance(name, str) else "<object>"
