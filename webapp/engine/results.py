"""What a run produced besides its graph, as the trace's types: the output, the leaves, the
value of the program's last line (`result`), its prints, modules and optimizer steps."""
from __future__ import annotations

import torch

from ..model import Leaf, Output, Parameter, Print, Result, Summary, Update
from ..language.frontend import current_language
from ..language.r_printing import print_text
from .jsonvalues import describe, number, plain, tensor_value

from ..limits import MAX_RESULT_TEXT as MAX_TEXT


def describe_output(value, limits) -> Output:
    """The output: a tensor's numbers, shape and dtype (a summary when too large to list)."""
    described = describe(value, limits.max_json_elements)
    if "summary" in described:
        described["summary"] = Summary(**described["summary"])
    return Output(**described)


def describe_leaf(tensor, grad, limits) -> Leaf:
    """A leaf: its value; `grad`, what the pass shown delivered; `accumulated`, its `.grad`."""
    described = describe(tensor, limits.max_json_elements)
    summary = described.get("summary")
    return Leaf(value=described["value"], shape=described["shape"], dtype=described["dtype"],
                **({"summary": Summary(**summary)} if summary else {}),
                grad=None if grad is None else describe(grad, limits.max_json_elements)["value"],
                accumulated=None if tensor.grad is None else
                describe(tensor.grad, limits.max_json_elements)["value"])


def describe_prints(prints: list) -> list:
    """Each printed line: {"line", "text"} from Python, the text alone from R."""
    return [Print(**line) if type(line) is dict else line for line in prints]


def describe_result(value, line, limits) -> Result:
    """The last line's value (kind, value, shape), and how the program's language prints it."""
    result = Result(kind=_kind(value), value=plain(value, limits.max_json_elements), line=line,
                    text=_text(value))
    if isinstance(value, torch.Tensor):  # its "value" is plain's tensor_value already
        result.shape = list(value.shape)
    return result


def describe_modules(interpreter) -> dict:
    """`modules`: path -> class name of each named module (CPython runs; the boxes)."""
    kinds = getattr(interpreter, "module_kinds", None)
    return {"modules": dict(kinds)} if kinds else {}


def describe_updates(interpreter) -> dict:
    """`updates`: each `optimizer.step()` the program ran (cpython/modules.watched_steps),
    its copies as JSON; `updates_total` counts the steps when some were left out."""
    updates = getattr(interpreter, "updates", None)
    if not updates:
        return {}
    described = [Update(**{**update, "parameters": [
        Parameter(**{**p, **{key: _kept_value(p[key]) for key in ("before", "grad", "after")}})
        for p in update["parameters"]]}) for update in updates]
    kept = {"updates": described}
    if interpreter.updates_total > len(updates):
        kept["updates_total"] = interpreter.updates_total
    return kept


def _kept_value(value):
    """A copy's numbers; a large tensor's summary ({"min", "max", "mean"}) stays a dict."""
    if isinstance(value, torch.Tensor):
        return tensor_value(value, value.numel())
    if isinstance(value, dict):
        return Summary(**{key: number(v) for key, v in value.items()})
    return None


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
    """As the program's prompt shows it: R torch's print for an R program, else repr() as
    the Python prompt shows it (only for values whose repr is plain data)."""
    if current_language() == "r":  # the job's language (engine/jobs.py sets it)
        try:
            return print_text(value)[:MAX_TEXT]
        except Exception:  # a tensor that cannot print (e.g. freed storage) still answers
            return f"<{type(value).__name__}>"
    if isinstance(value, (torch.Tensor, bool, int, float, str, type(None))) or \
            (isinstance(value, (tuple, list)) and len(value) <= 100):
        try:
            return repr(value)[:MAX_TEXT]
        except Exception:  # a tensor that cannot print (e.g. freed storage) still answers
            return f"<{type(value).__name__}>"
    return f"<{type(value).__name__}>"
