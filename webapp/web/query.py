"""Read a function and its input values from a query string (the share-link format).

Every parameter has one parser and one message naming it. Numbers must be finite:
NaN, Infinity and 1e400 are refused here, at the door, before any worker sees them.
"""
from __future__ import annotations

import json
import math

from flask.json.provider import DefaultJSONProvider

from ..errors import bad_input
from ..limits import MAX_RANGE, default_span  # noqa: F401 - pages.py reads it here
from ..sandbox.values import check_value

# API.md's reserved names, plus grad_output (the gradient a non-scalar output starts from)
# and language ("python" or "r"; detected when absent); /embed's options (embed_options);
# practice=1 opens the page in practice mode (issue 15): a switch, never an input; forward=x
# opens it with forward mode seeded along x, presenter=1 (or =code) in presenter mode (issue 29,
# links.js).
RESERVED = frozenset("f view wrt lo hi n step theme format lr steps grad_output language "
                     "autoplay controls code practice fold fit graph_of forward presenter".split())  # fold: folding.py's option
VIEWS = ("values", "autograd")


def parse_value(name: str, text: str):
    """A number or nested list typed for `name`, parsed and checked."""
    shown = text.strip()
    if not shown:
        raise bad_input(f"The value of {name} is empty: type a number or a list like [1, 2].",
                        input_name=name)
    if shown.lower().lstrip("+-") in _NOT_FINITE:  # nan, inf, Infinity: JSON has no word for them
        raise bad_input(f"The value of {name} must be a finite number ({shown[:20]} is not one).",
                        input_name=name)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _TooLarge as error:
        raise bad_input(f"The value of {name} must be a finite number ({error} is too large).",
                        input_name=name) from None
    except (ValueError, RecursionError):
        raise bad_input(f"The value of {name} must be a number or a list like [1, 2].",
                        input_name=name) from None
    return check_value(name, value)


_NOT_FINITE = frozenset({"nan", "inf", "infinity"})


class _TooLarge(ValueError):
    """A float literal beyond the largest double (1e400): float() would make it inf."""


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise _TooLarge(text[:20])
    return value


def _refuse_constant(text):
    raise ValueError(text)


def number_param(args, name: str, default: float, example: str = "0.001") -> float:
    """A finite number from `?name=`, or the default when it is absent."""
    text = (args.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise bad_input(f"{name} must be a finite number such as {example}.")
    return value


def whole_param(args, name: str, default: int, lo: int, hi: int) -> int:
    """A whole number between lo and hi from `?name=`, or the default."""
    text = (args.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_input(f"{name} must be a whole number from {lo} to {hi}.") from None
    if not lo <= value <= hi:
        raise bad_input(f"{name} must be a whole number from {lo} to {hi}.")
    return value


def plot_range(args, default_lo: float, default_hi: float) -> tuple[float, float]:
    """lo and hi of a plot: finite, ordered, and within ±1e12."""
    lo = number_param(args, "lo", default_lo, "-4")
    hi = number_param(args, "hi", default_hi, "4")
    for name, value in (("lo", lo), ("hi", hi)):
        if abs(value) > MAX_RANGE:
            raise bad_input(f"{name} must be between -1e12 and 1e12.")
    if not lo < hi:
        raise bad_input("lo must be smaller than hi.")
    return lo, hi


def parse_inputs(texts: dict) -> dict:
    """Input values typed as text (a query, the page's boxes, the CLI's --at), each parsed."""
    return {name: parse_value(name, text) for name, text in texts.items()}


def function_from_query(args) -> tuple[str, dict]:
    """(source, inputs) from `?f=...&x1=2&x=[-1,1]`; every other name is an input."""
    source = args.get("f")
    if not source:
        raise bad_input("Give the function in the f parameter, for example ?f=sin(x)&x=1.")
    return source, parse_inputs({k: v for k, v in args.items() if k not in RESERVED})


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
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise bad_input('grad_output must be "ones" or a list of numbers like [1, 0].') from None
    return check_value("grad_output", value)


def plot_job(wanted: dict) -> tuple[str, dict]:
    """The worker job for a plot: ("contour", fields) for two inputs, else ("plot", fields)."""
    if len(wanted["wrt"]) == 2:
        span = [wanted["lo"], wanted["hi"]]
        return "contour", {"wx": wanted["wrt"][0], "wy": wanted["wrt"][1], "ranges": [span, span],
                           "n": wanted["n"]}
    return "plot", {"wrt": wanted["wrt"][0], "lo": wanted["lo"], "hi": wanted["hi"], "n": wanted["n"]}


PLOT_SAMPLES = 200  # a 1-D plot's points when the request does not say


def plot_request(args, inputs: dict, names: list[str] | None = None) -> dict:
    """wrt, lo, hi and n for a plot, with defaults a student would expect."""
    wrt = args.get("wrt") or (names[0] if names else next(iter(inputs), None))
    if not wrt:
        raise bad_input("Choose the input to plot against with wrt, for example wrt=x.")
    wrts = [w.strip() for w in wrt.split(",") if w.strip()]
    points = [inputs.get(w) for w in wrts]
    centre = [p if isinstance(p, (int, float)) and not isinstance(p, bool) else 0.0 for p in points]
    lo, hi = plot_range(args, *default_span(centre))
    n = whole_param(args, "n", 40 if len(wrts) == 2 else PLOT_SAMPLES, 2, 1000)
    return {"wrt": wrts, "lo": lo, "hi": hi, "n": n}


# /embed's switches and what each one does when set to 1 (controls: 0 hides the buttons).
EMBED_SWITCHES = {"autoplay": False, "controls": True, "code": False}


def switch_param(args, name: str, default: bool) -> bool:
    """0 or 1 from `?name=`, or the default when it is absent."""
    text = (args.get(name) or "").strip()
    if not text:
        return default
    if text not in ("0", "1"):
        raise bad_input(f"{name} must be 0 or 1.")
    return text == "1"


def embed_options(args, steps: int) -> dict:
    """/embed's step, autoplay, controls, code, fit and theme; `steps` is the graph's step count.

    step=N opens the animation after N steps (0: nothing computed yet; `steps`: all done).
    """
    options = {name: switch_param(args, name, default) for name, default in EMBED_SWITCHES.items()}
    options["step"] = whole_param(args, "step", 0, 0, steps)
    fit = (args.get("fit") or "readable").strip()
    if fit not in ("readable", "whole"):
        raise bad_input("fit must be readable (node text stays legible, a wide graph scrolls) "
                        "or whole (the whole graph in the frame).")
    options["fit"] = fit
    options["theme"] = page_theme(args) or "light"  # an embed matches its author's choice
    return options


def page_theme(args) -> str | None:
    """"light" or "dark" from `?theme=`; None when absent (the page follows the system's)."""
    from ..drawing.themes import theme_from
    return theme_from(args) if args.get("theme") else None


def graph_of_from_query(args) -> bool:
    """`graph_of=function`: the graph the program's own backward pass ran on (f's, beside
    the graph PyTorch recorded for a gradient made with create_graph=True), not the output's."""
    text = (args.get("graph_of") or "output").strip().lower()
    if text not in ("output", "function"):
        raise bad_input("graph_of must be output or function.")
    return text == "function"


def fold_from_query(args) -> str | bool:
    """`fold` of a query: False (fold=0: every node), True (fold=1), else "auto" (large graphs)."""
    text = (args.get("fold") or "").strip().lower()
    if text in ("0", "false", "no", "off"):
        return False
    return True if text in ("1", "true", "yes", "on") else "auto"


class RequestJSON(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deeply to read is malformed like any other:
    `request.get_json(silent=True)` is then None, never a RecursionError (a 500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None
