"""Draw a trace with graphviz: DOT source from plain trace data, then `dot` to SVG or PNG.

Nothing here imports torch: it renders the JSON the worker returned. Every node's SVG
element carries the trace's node id (`<g id="n3">`), so the page can animate it.

What drawing keeps between graphs is a `DrawingState`: an app's is on its services
(services.py), passed in by the web routes with the asker's key; without one (the CLI,
the Python API) this process's own is used.
"""
from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import graphviz

from . import dot_statements, layout, module_boxes, svg_fill
from ..cache import BoundedCache, SingleFlight, note
from ..errors import ChainruleError, limit
from ..formatting import format_number, format_value
from ..lesson.folding import notice
from ..timing import timed

from ..limits import DOT_TIMEOUT_SECONDS
from ..limits import MAX_DRAWN_NODES, MAX_LAYOUT_COST
from .layout_cost import drawn, estimate as layout_cost

# Okabe–Ito colour-blind-safe hues, as light fills with strong borders; each kind also
# differs in shape or border style, so colour is never the only cue.
STYLE = {
    "input": {"fill": "#d6ecfa", "border": "#0072B2", "style": "rounded,filled", "pen": "1.5"},
    "leaf": {"fill": "#d6ecfa", "border": "#0072B2", "style": "rounded,filled", "pen": "1.5"},
    "op": {"fill": "#ffffff", "border": "#555555", "style": "filled", "pen": "1"},
    "output": {"fill": "#fbe3b5", "border": "#D55E00", "style": "filled,bold", "pen": "2.5"},
    "constant": {"fill": "#f2f2f2", "border": "#777777", "style": "dashed,filled", "pen": "1"},
}
OP_CIRCLE = {"fill": "#f3e0ec", "border": "#CC79A7"}
LEGEND = [("input", "input / leaf (requires_grad)"), ("op", "computed value"),
          ("constant", "constant"), ("output", "output")]


def _escape(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


ROW_CHARS = 34  # a row's longest text: a box stays under a third of a 1280 px projector's graph


def compact(value, shape, summary=None, room: int = ROW_CHARS) -> str:
    """format_value, with as few of a tensor's first entries as keep it within `room`
    characters: "[2×3] (−2.003, 0.7091, …)". The panel and the hover card show every entry."""
    text = format_value(value, shape, summary)
    if len(text) <= room or not isinstance(value, list):
        return text
    dims, flat = "×".join(str(s) for s in shape or [len(value)]), _flat(value)
    shown = format_number(flat[0])
    for number in flat[1:]:
        longer = f"{shown}, {format_number(number)}"
        if len(f"[{dims}] ({longer}, …)") > room:
            break
        shown = longer
    return f"[{dims}] ({shown}, …)"


def _flat(value) -> list:
    return [item for part in value for item in _flat(part)] if isinstance(value, list) else [value]


def value_texts(node: dict) -> tuple[str | None, str | None]:
    """The value row and the gradient row a node shows (None: no such row), each at most
    ROW_CHARS characters of numbers (compact)."""
    value = compact(node["value"], node["shape"], node.get("summary"))
    if node["kind"] == "constant":
        return (value if value != node["label"] else None), None
    grad, summary = node["grad"], node.get("grad_summary")
    room = ROW_CHARS - len("grad ")
    grad_text = compact(grad, node["shape"], summary, room) if grad is not None or summary else "–"
    accumulated = node.get("accumulated")
    if accumulated is not None and accumulated != grad:  # a leaf's .grad holds earlier passes too
        return value, f"grad {grad_text} (.grad {compact(accumulated, node['shape'], None, room)})"
    return value, f"grad {grad_text}"


def placeholder(text: str | None, shortest: int = 8) -> str | None:
    """Same-size stand-in for a value, so the layout depends on structure, not numbers.

    At least `shortest` characters (a scalar at 4 significant digits fits), else rounded up
    to a multiple of 4: a new input value almost always reuses the layout. The real
    text is written in afterwards, centred; the node's minimum width hides the slack.
    """
    if text is None:
        return None
    # `#` never appears in a label or a number, so a constant drawn as "0" stays itself.
    # A `#` is wider than the mean character of a number row (digits, ", ", "." are
    # narrower): a long row gets 0.72 `#` a character, so a tensor's box is as wide as its text.
    if len(text) > shortest:
        return "#" * max(shortest, -(-int(len(text) * HASH_SHARE * 10) // 20) * 2)
    return "#" * shortest


HASH_SHARE = 0.72  # DejaVu Sans: "#" 0.84 em; "(−2.003, 0.7092, …)" 0.6 em a character


def _value_label(node: dict, texts: tuple[str | None, str | None]) -> str:
    style = STYLE[node["kind"]]
    value, grad = texts
    # A minimum width leaves room for "grad: not yet", which the page shows before backward.
    width = ' width="92"' if node["kind"] != "constant" else ""
    title = node.get("name") or node["label"]
    if node.get("folded"):  # folding.py: one box for k repetitions (one text: the player counts rows)
        title = f"{title} ×{node['folded']['count']:,}"
    rows = [f'<tr><td{width}><b>{_escape(title)}</b></td></tr>']
    if value is not None:
        rows.append(f'<tr><td>{_escape(value)}</td></tr>')
    if grad is not None:
        rows.append(f'<tr><td><font color="#8a3c00">{_escape(grad)}</font></td></tr>')
    return (f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="2" '
            f'bgcolor="{style["fill"]}">{"".join(rows)}</table>>')


def values_dot(trace: dict, title: str | None = None, legend: bool = True,
               filled: dict | None = None) -> str:
    """The teaching view: value nodes (name, value, grad) joined by small operation nodes.

    With `filled`, value and gradient rows are drawn as placeholders and their real
    texts are put in `filled[node_id]`, for `svg_fill.fill_values` to write in.
    """
    _check_size(trace)
    graph = new_graph(title)
    op_nodes = {n["id"] for n in trace["nodes"] if n["kind"] in ("op", "output")}
    for node in trace["nodes"]:
        style = STYLE[node["kind"]]
        texts = value_texts(node)
        if filled is not None:
            filled[node["id"]] = texts
            texts = (placeholder(texts[0], 12), placeholder(texts[1], 16))  # "grad −1.234e+05"
        dot_statements.node(graph, node["id"], label=_value_label(node, texts), id=node["id"], shape="box",
                   style=style["style"], fillcolor=style["fill"], color=style["border"],
                   penwidth=style["pen"], tooltip=_tooltip(node),
                   **{"class": f"cr-node cr-{node['kind']}"}, **_folded_look(node))
        if node["id"] in op_nodes:
            dot_statements.node(graph, f"{node['id']}-op", label=_escape_plain(node.get("symbol") or node["op"]),
                       id=f"{node['id']}-op", shape="circle", style="filled", width="0.35",
                       fixedsize="false", fillcolor=OP_CIRCLE["fill"], color=OP_CIRCLE["border"],
                       fontsize="12", tooltip=node["op"] or "", **{"class": "cr-opnode"},
                       **_folded_look(node))
            dot_statements.edge(graph, f"{node['id']}-op", node["id"], id=f"{node['id']}-op-out",
                       arrowsize="0.6", **{"class": "cr-edge"})
    for index, edge in enumerate(trace["edges"]):
        target = f"{edge['target']}-op" if edge["target"] in op_nodes else edge["target"]
        carried = {"style": "dashed", "constraint": "false", "tooltip": "into the next repetition"} \
            if edge.get("carried") else {}
        dot_statements.edge(graph, edge["source"], target, id=f"e{index}-{edge['source']}-{edge['target']}",
                   arrowsize="0.6", **{"class": "cr-edge"}, **carried)
    graph.body += module_boxes.cluster_lines(module_boxes.members(
        trace, lambda n: [n["id"], f"{n['id']}-op"] if n["id"] in op_nodes else [n["id"]]),
        trace.get("modules") or {})
    if legend:
        graph.body += _legend_lines()
    return graph.source


def _folded_look(node: dict) -> dict:
    """A folded box (folding.py) is drawn as a stack: a double border."""
    return {"peripheries": "2"} if node.get("folded") else {}


def new_graph(title):
    graph = graphviz.Digraph(graph_attr={"rankdir": "LR", "bgcolor": "white", "nodesep": "0.25",
                                         "ranksep": "0.35", "fontname": "Helvetica",
                                         "label": title or "", "labelloc": "t"},
                             node_attr={"fontname": "Helvetica", "fontsize": "12", "margin": "0.06"},
                             edge_attr={"color": "#555555"})
    return graph


@functools.lru_cache(maxsize=1)
def _legend_lines() -> tuple[str, ...]:
    """The legend's DOT lines: the same in every drawing, so built once."""
    graph = graphviz.Digraph()
    _legend(graph)
    return tuple(graph.body)


def _legend(graph) -> None:
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", fontsize="10", color="#bbbbbb", style="dashed", id="legend")
        previous = None
        for kind, text in LEGEND:
            style = STYLE[kind]
            legend.node(f"legend-{kind}", label=text, shape="box", style=style["style"],
                        fillcolor=style["fill"], color=style["border"], penwidth=style["pen"],
                        fontsize="10", id=f"legend-{kind}")
            if previous:
                legend.edge(previous, f"legend-{kind}", style="invis")
            previous = f"legend-{kind}"
        legend.node("legend-opnode", label="op", shape="circle", style="filled", fontsize="10",
                    fillcolor=OP_CIRCLE["fill"], color=OP_CIRCLE["border"], id="legend-opnode")
        legend.edge(previous, "legend-opnode", style="invis")


def _tooltip(node: dict) -> str:
    parts = [node["label"]]
    if node.get("op"):
        parts.append(node["op"])
    if node.get("line"):
        parts.append(f"line {node['line']}")
    return " · ".join(parts)


def _escape_plain(text: str) -> str:
    return str(text).replace("\\", "\\\\")


def _check_size(trace: dict) -> None:
    boxes = drawn(trace["nodes"])
    if boxes > MAX_DRAWN_NODES:
        raise graph_too_large(boxes)
    if layout_cost(trace) > MAX_LAYOUT_COST:  # refused at once, not after `dot`'s deadline
        raise too_far_reaching()


def too_far_reaching() -> ChainruleError:
    return limit("This graph's arrows reach across too much of it for graphviz to lay it out "
                 "in time (an input used in every step of a long loop, say). Folded (fold=1), "
                 "its repeated steps are drawn once; the JSON trace still has every node.")


def graph_too_large(count: int) -> ChainruleError:
    return limit(f"This graph has {count:,} nodes, more than the {MAX_DRAWN_NODES:,} chainrule "
                 "draws; the JSON trace still has every node.")


def fold_summary(trace: dict) -> str:
    """"Folded: line 3 repeats 1,999 times (7,994 nodes in 4 boxes)", for a folded trace."""
    return notice(trace)["sentence"].split(". ")[0]


def _image_title(trace: dict, legend: bool) -> str | None:
    """An image of a folded graph says so in its title (the page says it above the graph)."""
    if not legend or "fold" not in trace:
        return None
    return f"{fold_summary(trace)}; each double-bordered box shows the last repetition."


def dot_source(trace: dict, view: str = "values", legend: bool = True) -> str:
    """DOT for a view; the page draws its own legend in HTML (legend=False)."""
    if view == "autograd":
        from .autograd_view import autograd_dot  # it draws with this module's helpers
        return autograd_dot(trace, _image_title(trace, legend))
    return values_dot(trace, title=_image_title(trace, legend), legend=legend)


OWN_CACHE_BYTES = 64 * 2**20  # each cache of the process's own state (an app's: its config)


@dataclass
class DrawingState:
    """Layouts kept warm and reused: the `dot` processes (layout.py), laid-out SVG templates
    by structure, finished drawings by DOT and format (BoundedCache or RedisCache)."""

    layout: layout.LayoutService
    templates: Any
    drawings: Any
    flights: SingleFlight = field(default_factory=SingleFlight)  # one `dot` per DOT at a time
    runs: int = 0  # how often `dot` really ran (/healthz's debug header)

    @classmethod
    def in_process(cls, config) -> "DrawingState":
        """From an app's config (LAYOUT_PROCESSES, LAYOUT_DEADLINE_SECONDS, *_CACHE_BYTES)."""
        service = layout.LayoutService(config.get("LAYOUT_PROCESSES", layout.DEFAULT_PROCESSES),
                                       config.get("LAYOUT_DEADLINE_SECONDS",
                                                  layout.DEFAULT_DEADLINE_SECONDS))
        atexit.register(service.close)
        return cls(service, BoundedCache(config.get("TEMPLATE_CACHE_BYTES", OWN_CACHE_BYTES)),
                   BoundedCache(config.get("DRAWING_CACHE_BYTES", OWN_CACHE_BYTES)))


@functools.lru_cache(maxsize=1)
def own_state() -> DrawingState:
    """This process's state, made on first use, for drawing without an app's (the CLI, the
    Python API: one process, one user)."""
    return DrawingState.in_process({})


def draw(trace: dict, view: str = "values", fmt: str = "svg", legend: bool = True,
         asked=frozenset(), state: DrawingState | None = None, who: str = "local") -> bytes:
    """The graph as SVG or PNG, drawn with `state` (else this process's own) for `who`.

    The values view's SVG is laid out once per structure: a new input value fills its
    numbers into the cached layout instead of running `dot` again. The gradients of the
    nodes in `asked` (practice mode, lesson/practice.py) are left out of the SVG.
    """
    state = state or own_state()
    if view == "values" and fmt == "svg":
        texts = {node["id"]: value_texts(node) for node in trace["nodes"]}
        title = _image_title(trace, legend)
        key = (_structure(trace, texts, legend), title)
        template = state.templates.get(key)
        if template is None:  # a new structure: lay it out once
            laid_out = run_dot(values_dot(trace, title, legend=legend, filled={}), "svg", state, who)
            template = svg_fill.annotate_edges(laid_out, svg_fill.value_edge_ends(trace))  # edges are structure
            state.templates.put(key, template, len(template))
        with timed("fill"):
            return svg_fill.fill_values(template, texts, {n["id"]: n["kind"] for n in trace["nodes"]},
                                        {n["id"]: n.get("name") or n["label"] for n in trace["nodes"]},
                                        asked=asked)
    drawn = run_dot(dot_source(trace, view, legend=legend), fmt, state, who)
    if view == "autograd" and fmt == "svg":  # data- attributes: what the player steps through
        from .autograd_view import annotate
        return annotate(drawn, trace)
    return drawn


def _structure(trace: dict, texts: dict, legend: bool) -> tuple:
    """Everything the layout depends on, and nothing else (not the numbers)."""
    nodes = tuple((n["id"], n["kind"], n["label"], n.get("name"), n.get("symbol"), n.get("op"), n.get("line"),
                   (n.get("folded") or {}).get("count"),
                   tuple(len(placeholder(t, w) or "") for t, w in zip(texts[n["id"]], (12, 16))))
                  for n in trace["nodes"])
    edges = tuple((e["source"], e["target"], e.get("carried")) for e in trace["edges"])
    return nodes, edges, legend


def run_dot(source: str, fmt: str, state: DrawingState | None = None, who: str = "local") -> bytes:
    """Lay out and draw DOT source with `dot`, reusing earlier drawings of the same source
    (`state`'s, else this process's own); a layout past its deadline raises LayoutTimeout."""
    state = state or own_state()
    key = (source, fmt)
    cached = state.drawings.get(key)
    note(cached is not None)
    if cached is None:
        with timed("layout"):
            cached = state.flights.run(key, lambda: _run_dot(source, fmt, state, who))
        state.drawings.put(key, cached, len(cached) + len(source))
    return cached


def _run_dot(source: str, fmt: str, state: DrawingState, who: str) -> bytes:
    """Lay out and draw DOT source with graphviz's `dot`, under a deadline.

    graphviz's Python package builds the DOT text; SVG and PNG go to the layout service's
    running `dot` processes (layout.py); another format starts a `dot` of its own.
    """
    state.runs += 1
    if fmt in layout.END_MARKERS:
        return state.layout.layout(source, fmt, who)
    executable = shutil.which("dot")
    if executable is None:
        raise ChainruleError("internal", "graphviz's `dot` is not installed on the server.", status=500)
    try:
        done = subprocess.run([executable, f"-T{fmt}"], input=source.encode(), capture_output=True,
                              timeout=DOT_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise limit(f"Drawing this graph took longer than {DOT_TIMEOUT_SECONDS} seconds.") from None
    if done.returncode != 0:
        raise ChainruleError("internal", "graphviz could not draw this graph.", status=500)
    return done.stdout
