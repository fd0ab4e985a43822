"""GET /api/point: the page's graph at a new input value, for dragging x (static/js/drag_x.js).

A drag asks for twenty points a second. Each answer is what the page would show at that
point (the same trace, from the same evaluator cache as the page's own request), but only
the parts that move: the nodes' texts, the panel's sentences (in the trace), the tape and
the plot's point. The SVG comes only when the layout differs from the one the page has
(`layout=`), as it does when the graph's shape changes with x (a branch, a loop).
"""
from __future__ import annotations

import hashlib
import re

from flask import Blueprint, jsonify, render_template, request

from ..drawing import render, svg_fill
from ..errors import bad_input
from ..lesson import practice
from ..lesson.tape_view import tape_view
from ..sandbox import gate as evaluator
from ..services import services
from .pages import PageState, page_trace

bp = Blueprint("points", __name__)

OWN = ("layout",)  # this route's own parameters, never input names


@bp.get("/api/point")
def point():
    """The moving parts of the page at the query's point (docs/api.md, "Dragging x")."""
    if request.args.get("f") is None:
        raise bad_input("The query must be the page's own, with f= (the function).")
    state = PageState({k: v for k, v in request.args.items() if k not in OWN})
    trace = page_trace(state)
    shown = practice.without_answers(trace) if state.practice else trace
    asked = frozenset(shown.get("practice", {}).get("asked", ()))
    svg = render.draw(trace, state.view, "svg", legend=False, asked=asked,
                      state=services().drawing, who=evaluator.sender()).decode()
    layout = layout_key(svg)
    body = {
        "inputs": {name: trace["leaves"][name]["value"] for name in trace["inputs"]
                   if name in trace["leaves"]},
        "layout": layout,
        "texts": node_texts(shown, asked),
        "trace": shown,
        "tape": render_template("_tape.html", tape=tape_view(shown)),
        # The plot's point and tangent: f′ is an answer practice asks for.
        "at": None if state.practice else plot_point(trace, request.args.get("wrt")),
    }
    if layout != request.args.get("layout"):
        body["svg"] = svg[svg.index("<svg"):]
    return jsonify(body)


# What svg_fill writes per point: a node's value and gradient rows and its data- texts.
TEXTS = re.compile(r'(data-row="(?:value|grad)">)[^<]*|\s(?:data-value|data-grad|aria-label)="[^"]*"')


def layout_key(svg: str) -> str:
    """Names the drawing without its texts: equal keys, the same boxes and edges, so the
    page may write the new texts into the SVG it has."""
    return hashlib.sha1(TEXTS.sub(r"\1", svg).encode()).hexdigest()[:16]


def node_texts(trace: dict, asked=frozenset()) -> dict:
    """{id: {"value", "grad", "label"}}: the data-value, data-grad and aria-label that
    svg_fill.annotate writes on each node's <g> (None where it writes none)."""
    out = {}
    for node in trace["nodes"]:
        value, grad = render.value_texts(node)
        if node["id"] in asked:
            grad = None
        name = node.get("name") or node["label"]
        out[node["id"]] = {"value": value, "grad": grad,
                           "label": svg_fill.accessible_name(name, value, grad)}
    return out


def plot_point(trace: dict, wrt: str | None) -> dict | None:
    """/api/plot's `at` for a scalar input and a scalar output: x, f and f′ from the trace."""
    scalars = [n for n in trace["inputs"] if trace["leaves"].get(n, {}).get("shape") == []]
    if not scalars or trace["output"]["shape"] != []:
        return None
    name = wrt if wrt in scalars else scalars[0]
    leaf = trace["leaves"][name]
    return {"wrt": name, "x": leaf["value"], "f": trace["output"]["value"], "df": leaf.get("grad")}
