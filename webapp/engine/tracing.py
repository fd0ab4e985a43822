"""Turn what `recorder.GraphTracer` recorded into the trace's graph (model.Graph).

`GraphBuilder` walks `grad_fn` from the roots of the backward pass shown (the program's
last, else the output), as torchviz does, and returns nodes (values snapshotted when
PyTorch computed them, gradients the engine passed in), edges (what each carried and its
local derivative or vector-Jacobian product), the forward order, the engine's backward
order, and PyTorch's own view of the graph.
"""
from __future__ import annotations

import re

import torch

from ..errors import limit
from ..model import Edge, Graph, Node
from .recorder import KEY, GraphTracer  # noqa: F401 (GraphTracer re-exported)
from .grad_fn_view import grad_fn_view
from .edge_locals import Locals
from .node_values import Unconverted, add_summaries, compact, constant_label, fill_edge, shape_of

from ..limits import MAX_FOLDED_NODES, MAX_GRAPH_NODES

SYMBOLS = {"Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Pow": "^", "Neg": "−x",
           "Mm": "mm", "Matmul": "@", "Dot": "dot", "Reciprocal": "1/x", "Rsub": "−"}


def op_symbol(fn) -> str:
    """A short label for a grad_fn: MulBackward0 → ×, SinBackward0 → sin, x**2 → ^2.

    Built-in nodes end in a digit (`MulBackward0`); a user's autograd Function keeps
    its own name (`MyReLUBackward` → `MyReLU`).
    """
    fn_name = type(fn).__name__
    symbol = _SYMBOL_OF.get(fn_name)
    if symbol is None:
        if len(_SYMBOL_OF) > 4096:  # users' Functions bring new names: stay bounded
            _SYMBOL_OF.clear()
        symbol = _SYMBOL_OF[fn_name] = _symbol_of_name(fn_name)
    if symbol == "^":
        exponent = getattr(fn, "_saved_exponent", None)
        return f"^{exponent:g}" if isinstance(exponent, (int, float)) else "^"
    return symbol


_SYMBOL_OF: dict = {}  # grad_fn class name -> its symbol ("^" for Pow: it needs the exponent)


def _symbol_of_name(fn_name: str) -> str:
    if not re.search(r"Backward\d+$", fn_name):
        return re.sub(r"Backward$", "", fn_name) or fn_name
    base = re.sub(r"Backward\d+$", "", fn_name)
    return "^" if base == "Pow" else SYMBOLS.get(base, aten_name(base))


def aten_name(base: str) -> str:
    """A built-in grad_fn's op as torch names it: `BinaryCrossEntropyWithLogits` →
    `binary_cross_entropy_with_logits`, `MaxPool2DWithIndices` → `max_pool2d_with_indices`
    (lower case run together read as one word: `binarycrossentropywithlogits`)."""
    return _WORD_START.sub("_", base).lower()


# a capital after a small letter, or one that starts a word after capitals or digits (2DWith)
_WORD_START = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z0-9])(?=[A-Z][a-z])")


def walk(root, max_nodes: int = MAX_GRAPH_NODES) -> list:
    """Every grad_fn reachable from `root` (or a list of roots), depth first from the output
    (torchviz's order)."""
    roots = root if isinstance(root, (list, tuple)) else [root]
    seen, order, stack = set(), [], [r for r in reversed(roots) if r is not None]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        order.append(fn)
        if len(order) > max_nodes:
            raise limit(f"The graph has more than {max_nodes:,} operations, more than chainrule "
                        "draws" + (f" one by one; folded (a repeated loop body drawn once, `fold=1`) "
                                   f"it can draw up to {MAX_FOLDED_NODES:,}."
                                   if max_nodes < MAX_FOLDED_NODES else "."))
        for next_fn, _ in reversed(fn.next_functions):
            if next_fn is not None and next_fn not in seen:
                stack.append(next_fn)
    return order


def walk_of_pass(tracer: GraphTracer, root_fns: list, max_nodes: int) -> list:
    """walk(root_fns): the tracer's walk of its backward pass when it began at the same
    nodes (a node's edges never change; an in-place change after the pass is a new root)."""
    walked = tracer.walked
    if walked is not None and len(walked[1]) <= max_nodes and len(root_fns) == len(walked[0]) \
            and all(a is b for a, b in zip(root_fns, walked[0])):
        return list(walked[1])
    return walk(root_fns, max_nodes)


class Link:
    """An edge while the builder works (its nodes have no ids yet): the operand, the node that
    used it, and the tensors its numbers come from. Engine working state, never in the trace."""

    __slots__ = ("source", "target", "input", "grad", "locals", "index")

    def __init__(self, source: Node, target: Node, input: int, grad=None, locals_=None, index=0):
        self.source, self.target, self.input = source, target, input
        self.grad = grad          # the gradient the engine sent along it (a tensor), or None
        self.locals = locals_     # edge_locals.Locals of the target; None for a constant's edge
        self.index = index        # the operand's place in the target's next_functions


class GraphBuilder:
    """Turn the recorded graph into the trace's graph (model.Graph): typed nodes and edges,
    the forward and backward orders, and PyTorch's own view.

    What the builder needs beside the data (the tensor each node came from, the order it was
    computed in, a constant's operand slot) stays in its own tables. With `deferred` (a graph
    that will be folded) the numbers of op nodes and edges wait in `unconverted` until
    folding has said which are shown (node_values.Unconverted).
    """

    def __init__(self, tracer: GraphTracer, output, leaf_names: dict, inputs: list[str],
                 max_nodes: int = MAX_GRAPH_NODES, deferred: bool = False):
        self.tracer = tracer
        self.max_nodes = max_nodes
        self.output = output
        self.inputs = inputs
        self.leaf_names = {id(t): name for name, t in leaf_names.items()}
        self.nodes: list[Node] = []
        self.node_of: dict = {}       # grad_fn (or a leaf tensor's id) -> its Node
        self.seq: dict[int, float] = {}  # id(Node) -> when it was computed: the forward order
        self.constant_links: dict[int, Link] = {}  # id(constant Node) -> its edge
        self.links: list[Link] = []
        self.delivered: dict[int, object] = {}  # leaf id -> gradient this pass delivered
        self.unconverted = Unconverted() if deferred else None

    def roots(self) -> list:
        """The tensors of the backward pass shown: the program's last, else the output."""
        if self.tracer.roots:
            return self.tracer.roots
        output = self.output
        return [output] if isinstance(output, torch.Tensor) and output.requires_grad else []

    def build(self) -> Graph:
        roots = self.roots()
        if not roots:
            return Graph(nodes=[], edges=[], forward=[], backward=[], autograd=None)
        fns = walk_of_pass(self.tracer, [r.grad_fn for r in roots], self.max_nodes)
        self.versions = {}
        for fn in reversed(fns):
            self.versions.update(fn.metadata.get(KEY, {}).get("leaf_versions", {}))
        for root in roots:
            if root.grad_fn is None and id(root) not in self.node_of:
                self._leaf_node(root)
                grad = self.tracer.leaf_roots.get(id(root))
                self.node_of[id(root)].grad = compact(grad)
                self.delivered[id(root)] = grad
        for fn in fns:
            if hasattr(fn, "variable"):
                self._leaf_node(fn.variable, fn)
            else:
                self._op_node(fn)
        for fn in fns:
            if not hasattr(fn, "variable"):
                self._links_into(fn)
        self._leaf_grads(fns)
        for root in roots:
            self.node_of[root.grad_fn if root.grad_fn is not None else id(root)].kind = "output"
        edges = self._number()
        forward = [node.id for node in self.nodes]
        return Graph(nodes=self.nodes, edges=edges, forward=forward, backward=self._backward(fns),
                     autograd=grad_fn_view(fns, roots, self.node_of))

    # -- nodes ---------------------------------------------------------------------
    def _leaf_node(self, tensor, fn=None):
        name = self.leaf_names.get(id(tensor))
        seq = self.tracer.leaf_order.get(id(tensor), (10**9 + len(self.nodes),))[0]
        if name in self.inputs:
            seq = -len(self.inputs) + self.inputs.index(name)
        # The leaf as the graph used it (a descent loop changes it afterwards).
        value = self.tracer.leaf_values.get(self.versions.get(id(tensor)), tensor)
        node = Node(id="", kind="input" if name in self.inputs else "leaf", label=name or "leaf",
                    op=None, value=compact(value), grad=None, accumulated=compact(tensor.grad),
                    shape=shape_of(tensor), line=None, col=None, origin=None)
        after = getattr(self.tracer, "grad_after_pass", {}).get(id(tensor))
        if after is not None:  # `.grad` as the program's last pass left it (explain._grad_line)
            node.after_pass = compact(after)
        add_summaries(node, value, None)
        self._add(node, seq, fn if fn is not None else id(tensor))

    def _add(self, node: Node, seq: float, key=None) -> None:
        self.nodes.append(node)
        self.seq[id(node)] = seq
        if key is not None:
            self.node_of[key] = node

    def _op_node(self, fn):
        record = fn.metadata.get(KEY, {})
        fn_name = type(fn).__name__
        upstream = self.tracer.upstream.get(fn)
        values = record.get("values") or ({0: record["value"]} if "value" in record else {})
        count = max(len(upstream) if upstream else 0, max(values, default=0) + 1 if values else 0)
        symbol = op_symbol(fn)
        names = record.get("names") or {}
        label = ", ".join(names[i] for i in sorted(names)) if len(names) > 1 else record.get("name")
        node = Node(id="", kind="op", label=label or symbol, op=fn_name, symbol=symbol,
                    line=record.get("line"), col=record.get("col"), origin=record.get("origin"),
                    named=record.get("name") is not None, value=None, grad=None, shape=[])
        if record.get("derivative"):  # a backward op PyTorch recorded (create_graph=True)
            node.derivative = True
        if record.get("module"):  # made inside this named module's forward (CPython runs)
            node.module = record["module"]
        if count > 1:  # split, unbind: one node, every output's value and gradient
            node.outputs = count
            node.value = [compact(values.get(i)) for i in range(count)]
            node.grad = None if upstream is None else [compact(g) for g in upstream]
            shapes = {tuple(shape_of(v)) for v in values.values()}
            node.shape = [count, *shapes.pop()] if len(shapes) == 1 else [count]
        else:
            value = values.get(0)
            grad = upstream[0] if upstream else None
            self._numbers(node, value, grad)
            node.shape = shape_of(value if value is not None else grad)
            add_summaries(node, value, grad)
        if self.tracer.tangents:
            tangents = record.get("tangents") or {}
            node.tangent = compact(tangents.get(0)) if count <= 1 else \
                [compact(tangents.get(i)) for i in range(count)]
        seq = record.get("seq", 10**9)
        self._add(node, seq, fn)
        for index, constant in enumerate(record.get("constants", [])):
            const_value = constant["value"]
            const = Node(id="", kind="constant", label=constant["name"] or constant_label(const_value),
                         op=None, value=None, grad=None, shape=shape_of(const_value),
                         line=node.line, col=node.col, origin=None)
            self._numbers(const, const_value, None)
            self._add(const, seq - 0.5 + index * 0.01)
            # `1 - x` is aten.rsub(x, 1): the constant is the first operand a student wrote.
            position = 0 if fn_name.startswith("Rsub") else constant["position"]
            self.constant_links[id(const)] = Link(const, node, position)

    def _numbers(self, node: Node, value, grad) -> None:
        """A node's value and gradient now, or once folding has kept it (deferred)."""
        if self.unconverted is None:
            node.value, node.grad = compact(value), compact(grad)
        else:
            self.unconverted.nodes.append((node, value, grad))

    def _leaf_grads(self, fns):
        """What this pass delivered to each leaf: AccumulateGrad's input, else the edges' sum."""
        for fn in fns:
            if not hasattr(fn, "variable"):
                continue
            node = self.node_of[fn]
            upstream = self.tracer.upstream.get(fn)
            grad = upstream[0] if upstream else None
            if grad is None:
                parts = [link.grad for link in self.links
                         if link.source is node and link.grad is not None]
                grad = sum(parts[1:], parts[0]) if parts else None
            node.grad = compact(grad)
            add_summaries(node, None, grad)
            self.delivered[id(fn.variable)] = grad

    # -- edges ---------------------------------------------------------------------
    def _links_into(self, fn):
        target = self.node_of[fn]
        tracer = self.tracer
        contributions = tracer.contributions.get(fn)
        upstream = tracer.upstream.get(fn)
        pointwise = fn.metadata.get(KEY, {}).get("pointwise", False)
        locals_ = Locals(tracer, fn, upstream, contributions, pointwise)
        # `1 - x` records RsubBackward with x as its first input, but x is the second operand.
        shift = 1 if type(fn).__name__.startswith("Rsub") else 0
        for index, (next_fn, _) in enumerate(fn.next_functions):
            if next_fn is None:
                continue
            contribution = contributions[index] if contributions and index < len(contributions) else None
            self.links.append(Link(self.node_of[next_fn], target, index + shift, contribution,
                                   locals_, index))

    # -- ids and orders --------------------------------------------------------------
    def _number(self) -> list[Edge]:
        """Ids in forward order, then the edges by target and operand."""
        seq = self.seq
        self.nodes.sort(key=lambda node: seq[id(node)])
        links = self.links
        for number_, node in enumerate(self.nodes, start=1):
            node.id = f"n{number_}"
            if node.kind == "constant":
                # A constant's input slot is its place among the operands (x3 * 0.2: slot 1).
                links.append(self.constant_links[id(node)])
        links.sort(key=lambda link: (seq[id(link.target)], link.input))
        edges = []
        for link in links:
            edge = Edge(source=link.source.id, target=link.target.id, local_grad=None, grad=None,
                        input=link.input)
            if link.locals is not None:  # an operand's edge; a constant's carries no numbers
                if self.unconverted is None:
                    fill_edge(edge, link)
                else:
                    self.unconverted.edges.append((edge, link))
            edges.append(edge)
        return edges

    def _backward(self, fns) -> list[str]:
        order, in_graph = {}, set(fns)  # a dict: ordered, and membership without a scan
        for fn in self.tracer.engine_order:
            if fn in in_graph and fn in self.node_of:
                order.setdefault(self.node_of[fn].id, None)
        return list(order)
