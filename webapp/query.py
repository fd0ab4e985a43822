"""Read a function and its input values from a query string (the share-link format)."""
from __future__ import annotations

import json

from .errors import bad_input

# API.md's reserved names, plus grad_output (the gradient a non-scalar output starts from).
RESERVED = frozenset("f view wrt lo hi n step theme format lr steps grad_output".split())
VIEWS = ("values", "autograd")


def function_from_query(args) -> tuple[str, dict]:
    """(source, inputs) from `?f=...&x1=2&x=[-1,1]`; every other name is an input."""
    source = args.get("f")
    if not source:
        raise bad_input("Give the function in the f parameter, for example ?f=sin(x)&x=1.")
    inputs = {}
    for name, text in args.items():
        if name in RESERVED:
            continue
        try:
            inputs[name] = json.loads(text)
        except ValueError:
            raise bad_input(f"The value of {name} must be a number or a list like [1, 2].") from None
    return source, inputs


def view_from_query(args) -> str:
    view = args.get("view", "values")
    if view not in VIEWS:
        raise bad_input("view must be values or autograd.")
    return view


def grad_output_from_query(args):
    """None (a scalar output), "ones", or a list of numbers, from `grad_output=`."""
    text = (args.get("grad_output") or "").strip()
    if not text:
        return None
    if text == "ones":
        return "ones"
    try:
        return json.loads(text)
    except ValueError:
        raise bad_input('grad_output must be "ones" or a list of numbers like [1, 0].') from None
