"""PyTorch's own view of a trace as DOT: the grad_fn nodes, AccumulateGrad, leaves and the
output tensor (torchviz's node set), each box named as the values view names it."""
from __future__ import annotations

from . import dot_statements, module_boxes, svg_fill
from ..limits import MAX_DRAWN_NODES, MAX_LAYOUT_COST
from .layout_cost import estimate_autograd
from .render import new_graph, graph_too_large, too_far_reaching


def autograd_dot(trace: dict, title: str | None = None) -> str:
    """PyTorch's own view: the grad_fn nodes, AccumulateGrad, leaves and the output tensor."""
    view = trace.get("autograd") or {"nodes": [], "edges": []}
    if len(view["nodes"]) > MAX_DRAWN_NODES:
        raise graph_too_large(len(view["nodes"]))
    if estimate_autograd(trace) > MAX_LAYOUT_COST:  # refused at once, not after `dot`'s deadline
        raise too_far_reaching()
    graph = new_graph(title)
    fills = {"function": "#e6e6e6", "variable": "#d6ecfa", "tensor": "#fbe3b5", "saved": "#fff3c4"}
    names = {n["id"]: n.get("name") or n["label"] for n in trace["nodes"]}
    for node in view["nodes"]:
        label = _autograd_label(names, view, node)
        if "shape" in node:  # a shape, written so that it cannot be read as a value
            dims = "×".join(str(s) for s in node["shape"])
            label += "\nshape [" + dims + "]" if dims else "\nshape: scalar"
        dot_statements.node(graph, node["id"], label=label, id=node["id"], shape="box", style="filled",
                   fillcolor=fills[node["kind"]], fontname="monospace", fontsize="10",
                   **{"class": f"cr-node cr-{node['kind']}"})
    for index, edge in enumerate(view["edges"]):
        dot_statements.edge(graph, edge["source"], edge["target"], id=f"a{index}-{edge['source']}-{edge['target']}",
                   arrowsize="0.6", **{"class": "cr-edge"})
    drawn = {node["id"] for node in view["nodes"]}
    graph.body += module_boxes.cluster_lines(module_boxes.members(
        trace, lambda n: [i for i in (n["id"], f"{n['id']}-acc") if i in drawn]),
        trace.get("modules") or {})
    return graph.source


def _autograd_label(names: dict, view: dict, node: dict) -> str:
    """A grad_fn box says whose it is in the values view's names (`v2.grad_fn`), so the
    chain-rule panel's names are on this view too."""
    node_id, label = node["id"], node["label"]
    if node["kind"] == "function" and node_id in names:
        return f"{label}\n{names[node_id]}.grad_fn"
    if node["kind"] == "function" and node_id.endswith("-acc") and node_id[:-4] in names:
        return f"{label}\nwrites {names[node_id[:-4]]}.grad"
    if node["kind"] == "variable":
        return names.get(node_id, label)
    if node["kind"] == "tensor":  # the output tensor: named after the grad_fn that made it
        maker = next((e["source"] for e in view["edges"] if e["target"] == node_id), None)
        return names.get(maker, label)
    return label


def annotate(svg: bytes, trace: dict) -> bytes:
    """data-kind on each box, and on each edge between two trace nodes their trace ids (a
    leaf's AccumulateGrad stands for the leaf), so the page's player steps through this view."""
    view = trace.get("autograd") or {"nodes": [], "edges": []}
    ids = {n["id"] for n in trace["nodes"]}

    def trace_id(node_id):
        return node_id[:-4] if node_id.endswith("-acc") else node_id
    ends = {}
    for index, edge in enumerate(view["edges"]):
        source, target = trace_id(edge["source"]), trace_id(edge["target"])
        if source in ids and target in ids and source != target:
            ends[f"a{index}-{edge['source']}-{edge['target']}"] = (source, target, None)
    svg = svg_fill.annotate(svg, {}, {n["id"]: n["kind"] for n in view["nodes"]})
    return svg_fill.annotate_edges(svg, ends)
