"""Read a function and its input values from a query string (the share-link format)."""
from __future__ import annotations

import json

from .errors import bad_input

# API.md's reserved names, plus grad_output (the gradient a non-scalar output starts from)
# and language ("python" or "r"; detected when absent).
RESERVED = frozenset("f view wrt lo hi n step theme format lr steps grad_output language".split())
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


def plot_request(args, inputs: dict, names: list[str] | None = None) -> dict:
    """wrt, lo, hi and n for a plot, with defaults a student would expect."""
    wrt = args.get("wrt") or (names[0] if names else next(iter(inputs), None))
    if not wrt:
        raise bad_input("Choose the input to plot against with wrt, for example wrt=x.")
    wrts = [w.strip() for w in wrt.split(",") if w.strip()]
    points = [inputs.get(w) for w in wrts]
    centre = [p if isinstance(p, (int, float)) and not isinstance(p, bool) else 0.0 for p in points]
    try:
        lo = float(args["lo"]) if args.get("lo") else min(-4.0, min(centre) - 1)
        hi = float(args["hi"]) if args.get("hi") else max(4.0, max(centre) + 1)
        n = int(args.get("n") or (40 if len(wrts) == 2 else 200))
    except ValueError:
        raise bad_input("lo and hi must be numbers and n a whole number.") from None
    return {"wrt": wrts, "lo": lo, "hi": hi, "n": n}
