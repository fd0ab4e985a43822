"""Record the graph PyTorch built, its forward values and its backward pass.

While the interpreter runs, `GraphTracer` hears of every tensor produced (stored in
the producing `grad_fn`'s own `metadata`, so it lives and dies with the graph), of
every name given, and of every backward pass about to run (it hooks the `grad_fn`
nodes then, so the engine itself reports the order it reaches them and the gradients
it passes). `build_trace` then walks `grad_fn` from the output, as torchviz does, and
returns plain data: nodes, edges, forward order, backward order, and PyTorch's own view.
"""
from __future__ import annotations

import re
import weakref

import torch

from .errors import limit
from .jsonvalues import describe, number
from .render import format_number
from .language.interpreter import Observer

KEY = "chainrule"
MAX_GRAPH_NODES = 3000
MAX_NODE_ELEMENTS = 1000

SYMBOLS = {"Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Pow": "^", "Neg": "−x",
           "Mm": "mm", "Matmul": "@", "Dot": "dot", "Reciprocal": "1/x", "Rsub": "−"}


def op_symbol(fn) -> str:
    """A short label for a grad_fn: MulBackward0 → ×, SinBackward0 → sin, x**2 → ^2.

    Built-in nodes end in a digit (`MulBackward0`); a user's autograd Function keeps
    its own name (`MyReLUBackward` → `MyReLU`).
    """
    fn_name = type(fn).__name__
    if not re.search(r"Backward\d+$", fn_name):
        return re.sub(r"Backward$", "", fn_name) or fn_name
    base = re.sub(r"Backward\d+$", "", fn_name)
    exponent = getattr(fn, "_saved_exponent", None)
    if base == "Pow" and isinstance(exponent, (int, float)):
        return f"^{exponent:g}"
    return SYMBOLS.get(base, base.lower())


OPEN_TRACERS: "weakref.WeakSet[GraphTracer]" = weakref.WeakSet()


def close_open_tracers() -> None:
    """Release every tracer's graph; the worker calls this when a job ends."""
    for tracer in list(OPEN_TRACERS):
        tracer.close()


class GraphTracer(Observer):
    """Listens to the interpreter; keeps only what the graph needs."""

    def __init__(self):
        OPEN_TRACERS.add(self)  # closed by the worker after each job (see close)
        self.sequence = 0
        self.leaf_order: dict[int, tuple[int, torch.Tensor]] = {}
        self.hooks: list = []
        self.engine_order: list = []
        self.upstream: dict = {}      # grad_fn -> gradients arriving at it
        self.contributions: dict = {}  # grad_fn -> gradients it sends to its inputs
        self.constant_names: dict[int, tuple[str, torch.Tensor]] = {}

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def note_leaf(self, tensor: torch.Tensor) -> None:
        if tensor.requires_grad and tensor.grad_fn is None and id(tensor) not in self.leaf_order:
            self.leaf_order[id(tensor)] = (self._next(), tensor)

    # -- interpreter callbacks ---------------------------------------------------
    def result(self, value, node, operands):
        for operand in operands:
            if isinstance(operand, torch.Tensor):
                self.note_leaf(operand)
        fn = value.grad_fn
        if fn is None:
            self.note_leaf(value)
            return
        if KEY in fn.metadata:
            return
        constants = [dict(self._constant(o), position=position) for position, o in enumerate(operands)
                     if _is_number(o) or (isinstance(o, torch.Tensor) and not o.requires_grad)]
        fn.metadata[KEY] = {
            "seq": self._next(), "value": value.detach(), "name": None, "origin": None,
            "line": getattr(node, "lineno", None),
            "col": getattr(node, "col_offset", -1) + 1 if node is not None else None,
            "constants": constants,
        }

    def assigned(self, name, value):
        fn = value.grad_fn
        if fn is not None and KEY in fn.metadata and fn.metadata[KEY]["name"] is None:
            fn.metadata[KEY]["name"] = name
        elif fn is None:
            self.note_leaf(value)
            if not value.requires_grad and len(self.constant_names) < 10_000:
                self.constant_names.setdefault(id(value), (name, value))

    def _constant(self, value) -> dict:
        """A number or a tensor that needs no gradient, named if the program named it."""
        if isinstance(value, torch.Tensor):
            named = self.constant_names.get(id(value))
            name = named[0] if named and named[1] is value else None
            return {"value": value.detach(), "name": name}
        return {"value": value, "name": None}

    def returned(self, function_name, value):
        fn = value.grad_fn
        if fn is not None and KEY in fn.metadata and fn.metadata[KEY]["origin"] is None:
            fn.metadata[KEY]["origin"] = function_name

    def before_backward(self, tensor):
        """Hook every grad_fn reachable from `tensor`; the last backward pass is the one shown."""
        for handle in self.hooks:
            handle.remove()
        self.hooks, self.engine_order = [], []
        self.upstream, self.contributions = {}, {}
        for fn in walk(tensor.grad_fn):
            self.hooks.append(fn.register_prehook(self._prehook(fn)))
            if not hasattr(fn, "variable"):
                self.hooks.append(fn.register_hook(self._posthook(fn)))

    def close(self) -> None:
        """Remove the hooks: they tie the autograd graph to this tracer, out of gc's sight."""
        for handle in self.hooks:
            handle.remove()
        self.hooks, self.engine_order, self.upstream, self.contributions = [], [], {}, {}

    def _prehook(self, fn):
        def record(grad_outputs):
            if fn not in self.upstream:
                self.engine_order.append(fn)
            self.upstream[fn] = tuple(None if g is None else g.detach().clone() for g in grad_outputs)
        return record

    def _posthook(self, fn):
        def record(grad_inputs, grad_outputs):
            self.contributions[fn] = tuple(None if g is None else g.detach().clone()
                                           for g in grad_inputs)
        return record


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def walk(root) -> list:
    """Every grad_fn reachable from `root`, depth first from the output (torchviz's order)."""
    seen, order, stack = set(), [], [root] if root is not None else []
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        order.append(fn)
        if len(order) > MAX_GRAPH_NODES:
            raise limit(f"The graph has more than {MAX_GRAPH_NODES:,} operations; chainrule "
                        "draws graphs up to that size.")
        for next_fn, _ in reversed(fn.next_functions):
            if next_fn is not None and next_fn not in seen:
                stack.append(next_fn)
    return order


def compact(value, max_elements: int = MAX_NODE_ELEMENTS):
    """JSON for a node's value or gradient: the numbers, or None when too large."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return describe(value, max_elements)["value"]
    if _is_number(value):
        return number(float(value))
    return value


def _shape(value):
    return list(value.shape) if isinstance(value, torch.Tensor) else []


class _Builder:
    """Turn the recorded graph into the nodes/edges/forward/backward of API.md."""

    def __init__(self, tracer: GraphTracer, output, leaf_names: dict, inputs: list[str]):
        self.tracer = tracer
        self.output = output
        self.inputs = inputs
        self.leaf_names = {id(t): name for name, t in leaf_names.items()}
        self.nodes: list[dict] = []
        self.key_of: dict = {}     # grad_fn (or leaf tensor id) -> node dict
        self.edges: list[dict] = []

    def build(self) -> dict:
        output = self.output
        if not isinstance(output, torch.Tensor) or not output.requires_grad:
            return {"nodes": [], "edges": [], "forward": [], "backward": [], "autograd": None}
        fns = walk(output.grad_fn) if output.grad_fn is not None else []
        if output.grad_fn is None:
            self._leaf_node(output)
        for fn in fns:
            if hasattr(fn, "variable"):
                self._leaf_node(fn.variable, fn)
            else:
                self._op_node(fn)
        for fn in fns:
            if not hasattr(fn, "variable"):
                self._edges_into(fn)
        self._mark_output()
        self._assign_ids()
        return {"nodes": self.nodes, "edges": self.edges, "forward": self._forward(),
                "backward": self._backward(fns), "autograd": self._autograd_view(fns)}

    # -- nodes ---------------------------------------------------------------------
    def _leaf_node(self, tensor, fn=None):
        name = self.leaf_names.get(id(tensor))
        seq = self.tracer.leaf_order.get(id(tensor), (10**9 + len(self.nodes),))[0]
        if name in self.inputs:
            seq = -len(self.inputs) + self.inputs.index(name)
        node = {"id": None, "kind": "input" if name in self.inputs else "leaf",
                "label": name or "leaf", "op": None, "value": compact(tensor),
                "grad": compact(tensor.grad), "shape": _shape(tensor), "seq": seq,
                "line": None, "col": None, "origin": None}
        _add_summaries(node, tensor, tensor.grad)
        self.nodes.append(node)
        self.key_of[fn if fn is not None else id(tensor)] = node

    def _op_node(self, fn):
        record = fn.metadata.get(KEY, {})
        fn_name = type(fn).__name__
        upstream = self.tracer.upstream.get(fn)
        grad = upstream[0] if upstream and len(upstream) == 1 else None
        value = record.get("value")
        symbol = op_symbol(fn)
        node = {"id": None, "kind": "op", "label": record.get("name") or symbol,
                "op": fn_name, "symbol": symbol, "value": compact(value),
                "grad": compact(grad), "shape": _shape(value), "seq": record.get("seq", 10**9),
                "line": record.get("line"), "col": record.get("col"),
                "origin": record.get("origin"), "named": record.get("name") is not None}
        _add_summaries(node, value, grad)
        self.nodes.append(node)
        self.key_of[fn] = node
        for index, constant in enumerate(record.get("constants", [])):
            const_value = constant["value"]
            self.nodes.append({
                "id": None, "kind": "constant",
                "label": constant["name"] or _constant_label(const_value),
                "op": None, "value": compact(const_value), "grad": None,
                "shape": _shape(const_value), "seq": node["seq"] - 0.5 + index * 0.01,
                "line": node["line"], "col": node["col"], "origin": None, "target": node,
                "position": constant["position"]})

    def _mark_output(self):
        root = self.output.grad_fn if self.output.grad_fn is not None else id(self.output)
        self.key_of[root]["kind"] = "output"

    # -- edges ---------------------------------------------------------------------
    def _edges_into(self, fn):
        target = self.key_of[fn]
        contributions = self.tracer.contributions.get(fn)
        locals_ = _local_gradients(fn, self.tracer.upstream.get(fn), contributions)
        # `1 - x` records RsubBackward with x as its first input, but x is the second operand.
        shift = 1 if type(fn).__name__.startswith("Rsub") else 0
        for index, (next_fn, _) in enumerate(fn.next_functions):
            if next_fn is None:
                continue
            contribution = contributions[index] if contributions and index < len(contributions) else None
            self.edges.append({"source": self.key_of[next_fn], "target": target,
                               "local_grad": compact(locals_[index] if locals_ else None),
                               "grad": compact(contribution), "input": index + shift})

    # -- ids and orders --------------------------------------------------------------
    def _assign_ids(self):
        self.nodes.sort(key=lambda n: n["seq"])
        for number_, node in enumerate(self.nodes, start=1):
            node["id"] = f"n{number_}"
        for node in self.nodes:
            if node["kind"] == "constant":
                # A constant's input slot is its place among the operands (x3 * 0.2: slot 1).
                self.edges.append({"source": node, "target": node.pop("target"),
                                   "local_grad": None, "grad": None, "input": node.pop("position")})
        self.edges.sort(key=lambda e: (e["target"]["seq"], e["input"]))
        for edge in self.edges:
            edge["source"], edge["target"] = edge["source"]["id"], edge["target"]["id"]
        for node in self.nodes:
            node.pop("seq")

    def _forward(self) -> list[str]:
        return [node["id"] for node in self.nodes]

    def _backward(self, fns) -> list[str]:
        order, in_graph = [], set(fns)
        for fn in self.tracer.engine_order:
            if fn in in_graph and fn in self.key_of:
                node_id = self.key_of[fn]["id"]
                if node_id not in order:
                    order.append(node_id)
        return order

    # -- PyTorch's own view (torchviz's node and edge set) ------------------------------
    def _autograd_view(self, fns) -> dict:
        nodes, edges = [], []
        variables = [(fn.variable, self.key_of[fn]["id"]) for fn in fns if hasattr(fn, "variable")]
        for fn in fns:
            fn_id = self.key_of[fn]["id"]
            if hasattr(fn, "variable"):
                nodes.append({"id": fn_id, "kind": "variable", "label": self.key_of[fn]["label"],
                              "shape": self.key_of[fn]["shape"]})
                nodes.append({"id": f"{fn_id}-acc", "kind": "function", "label": "AccumulateGrad"})
                edges.append({"source": fn_id, "target": f"{fn_id}-acc"})
                continue
            nodes.append({"id": fn_id, "kind": "function", "label": type(fn).__name__})
            for next_fn, _ in fn.next_functions:
                if next_fn is not None:
                    source = self.key_of[next_fn]["id"]
                    if hasattr(next_fn, "variable"):
                        source += "-acc"
                    edges.append({"source": source, "target": fn_id})
            for index, tensor in enumerate(_saved_tensors(fn)):
                # A saved leaf is the leaf's own node (torchviz draws one node per object).
                leaf_id = next((node_id for var, node_id in variables if var is tensor), None)
                saved_id = leaf_id or f"{fn_id}-saved{index}"
                if leaf_id is None:
                    nodes.append({"id": saved_id, "kind": "saved", "label": "saved",
                                  "shape": list(tensor.shape)})
                edges.append({"source": saved_id, "target": fn_id})
        if self.output.grad_fn is not None:
            out_id = self.key_of[self.output.grad_fn]["id"]
            nodes.append({"id": "out", "kind": "tensor", "label": self.key_of[self.output.grad_fn]["label"],
                          "shape": list(self.output.shape)})
            edges.append({"source": out_id, "target": "out"})
        return {"nodes": nodes, "edges": edges}


def _add_summaries(node: dict, value, grad) -> None:
    """Min, max and mean for a value or gradient too large to list."""
    for key, tensor in (("summary", value), ("grad_summary", grad)):
        if isinstance(tensor, torch.Tensor) and tensor.numel() > MAX_NODE_ELEMENTS:
            node[key] = describe(tensor, 0)["summary"]


def _saved_tensors(fn) -> tuple:
    """Saved tensors of a custom Function's node (torchviz always draws these)."""
    if not isinstance(fn, torch.autograd.function.BackwardCFunction):
        return ()  # a built-in node: torchviz draws its saved tensors only on request
    try:
        saved = fn.saved_tensors
    except RuntimeError:
        return ()  # freed by a backward pass without retain_graph
    return tuple(t for t in saved if isinstance(t, torch.Tensor))


def _constant_label(value) -> str:
    if isinstance(value, torch.Tensor):
        if value.numel() == 1:
            return format_number(value.item())
        return "tensor " + "×".join(str(s) for s in value.shape)
    return format_number(value)


def _local_gradients(fn, upstream, contributions):
    """∂(node)/∂(each input): the node's backward applied to ones (exact for scalars).

    Falls back to contribution ÷ upstream when the saved values were already freed.
    """
    if upstream is None or len(upstream) != 1 or upstream[0] is None:
        return None
    try:
        with torch.no_grad():
            result = fn(torch.ones_like(upstream[0]))
        return result if isinstance(result, tuple) else (result,)
    except Exception:  # freed saved tensors, or a node that cannot be re-run
        if contributions is None or upstream[0].numel() != 1 or upstream[0].item() == 0:
            return None
        scale = upstream[0].item()
        return tuple(None if c is None else c / scale for c in contributions)


def build_trace(tracer: GraphTracer, output, leaves: dict, inputs: list[str]) -> dict:
    """The graph part of the trace (`nodes`, `edges`, `forward`, `backward`, `autograd`)."""
    return _Builder(tracer, output, leaves, inputs).build()
