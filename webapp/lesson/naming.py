"""Readable names for trace nodes and each operation written with its inputs' names.

The user's variable where there is one; otherwise `v1, v2, …` in forward order, as
in Baydin et al.'s evaluation trace. A name is never an operator symbol.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import cached_property

from ..formatting import format_value as _format_value
from ..model import ABSENT, Edge, Node, Trace


def _shape_of(value) -> list:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


def format_value(value, shape, summary=None) -> str:
    """formatting.format_value, with the shape read from the value when they disagree
    (a view's gradient can be a list where the node's value is a scalar)."""
    if value is not None and isinstance(value, list) != bool(shape):
        shape = _shape_of(value)
    return _format_value(value, shape, summary)

INFIX = {"+": "+", "−": "−", "×": "·", "÷": "/", "@": "@", "mm": "@", "matmul": "@"}
FUNCTION_NAMES = {"log": "ln"}
# A program's own names; CPython runs also name a parameter by its module path
# (`net.lin.weight`) and a rebound leaf by its binding (`x₁`).
_USER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.₀-₉]*$")


def assign_names(ix: "TraceIndex") -> None:
    """Give every node of `ix.trace` a `name` (in place)."""
    trace, nodes = ix.trace, ix.nodes
    taken = {n.label for n in trace.nodes if n.kind in ("input", "leaf") or n.named}
    counter = 0
    for node_id in dict.fromkeys(trace.forward):  # a folded box: named where it first appears
        node = nodes[node_id]
        if node.kind == "constant":
            node.name = node.label
            continue
        user_named = node.kind in ("input", "leaf") and node.label != "leaf"
        if (user_named or node.named) and _USER_NAME.match(str(node.label)):
            node.name = node.label
            continue
        counter += 1
        while f"v{counter}" in taken:
            counter += 1
        node.name = f"v{counter}"
    for node in trace.nodes:  # nodes outside the forward list (none today): still named
        if node.name is ABSENT:
            node.name = f"v{node.id[1:]}"
    _number_reused_names(ix)


SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _number_reused_names(ix: "TraceIndex") -> None:
    """A name the program assigns again (`y = y * x + 1` in a loop) names several nodes:
    number them in forward order, y₁, y₂, y₃, so no sentence reads ∂y/∂y. An input keeps
    its plain name; a folded box (folding.py) takes the numbers of all its repetitions."""
    trace, nodes = ix.trace, ix.nodes
    order = [nodes[i] for i in dict.fromkeys(trace.forward)]
    order += [n for n in trace.nodes if n.id not in trace.forward]
    computed = [n for n in order if n.kind not in ("input", "leaf", "constant") and n.named]
    uses: dict = {}
    for node in computed:
        uses[node.name] = uses.get(node.name, 0) + repetitions(node)
    seen: dict = {}
    for node in computed:
        name = node.name
        if uses[name] < 2:
            continue
        first = seen.get(name, 0) + 1
        count = repetitions(node)
        seen[name] = first + count - 1
        node.name = f"{name}{_sub(first)}" if count == 1 else f"{name}{_sub(first)}…{name}{_sub(first + count - 1)}"
        if count > 1:  # a repetition of the box is named by its own number (naming._source)
            ix.numbered[node.id] = (name, first)


def repetitions(node: Node) -> int:
    """How many repetitions a node stands for: a folded box's count, else 1."""
    return node.folded.count if node.folded else 1


def given(value):
    """An optional field's value, None when it is ABSENT (format_value's "no value")."""
    return None if value is ABSENT else value


def grad_summary_of(node: Node) -> dict | None:
    """A node's gradient summary as format_value reads it, or None."""
    return node.grad_summary.to_json() if node.grad_summary else None


def summary_of(item) -> dict | None:
    """A node's (or row's) summary as format_value reads it, or None."""
    return item.summary.to_json() if item.summary else None


def _sub(number: int) -> str:
    return str(number).translate(SUBSCRIPTS)


class TraceIndex:
    """A trace's nodes by id and its edges by target and by source, built once per lesson
    (graphs run to thousands of nodes: a scan per node would be quadratic). Kept beside the
    trace, never in it: the lesson's functions take it where they read the trace.

    Folded (folding.py), each box is described as its last repetition, whose numbers it
    shows: `into` leaves out the edges that feed only the first repetition (`entry`), `out`
    the edges from a box into the next repetition (`carried`: they leave an earlier one)."""

    def __init__(self, trace: Trace):
        self.trace = trace
        self.nodes = {n.id: n for n in trace.nodes}
        self.numbered: dict = {}  # a folded box's id -> (its name, its first number): naming._source

    @cached_property
    def _edges(self) -> tuple[dict, dict, dict]:
        into, out, entry = {}, {}, {}
        for edge in self.trace.edges:
            if edge.entry:
                entry.setdefault(edge.target, []).append(edge)
            else:
                into.setdefault(edge.target, []).append(edge)
            if not edge.carried:
                out.setdefault(edge.source, []).append(edge)
        return into, out, entry

    @property
    def into(self) -> dict:
        return self._edges[0]

    @property
    def out(self) -> dict:
        return self._edges[1]

    @property
    def entry(self) -> dict:
        return self._edges[2]

    @cached_property
    def reached(self) -> set:
        """The nodes PyTorch's engine reached in the pass shown."""
        return set(self.trace.backward)


def operands(ix: TraceIndex, node_id: str, first: bool = False) -> list[tuple[Edge, Node]]:
    """(edge, source node) pairs into a node, in the order the operation took them; for a
    folded box, its last repetition's (or with `first`, its first repetition's)."""
    nodes = ix.nodes
    into = list(ix.into.get(node_id, []))
    if first:  # the first repetition takes from before the loop what the others carry
        entry = ix.entry.get(node_id, [])
        slots = {e.input for e in entry}
        into = [e for e in into if e.input not in slots or not e.carried] + entry
    # `0.2 * x` records the constant and the tensor both at slot 0: the constant came first.
    into.sort(key=lambda e: (e.input, nodes[e.source].kind != "constant"))
    return [(e, _source(ix, e)) for e in into]


def repeats(ix: TraceIndex, edge: Edge) -> int:
    """How many real edges a folded edge stands for: a node outside a folded run feeding
    every repetition of a box (`x * 0.001` in the loop); else 1 (within one repetition,
    into the first only, or nothing folded)."""
    nodes = ix.nodes
    target = nodes[edge.target]
    if not target.folded or nodes[edge.source].folded or edge.entry or edge.carried:
        return 1
    return target.folded.count


def _source(ix: TraceIndex, edge: Edge) -> Node:
    """The node an edge comes from; for a carried edge, the repetition it came from (a copy)."""
    node = ix.nodes[edge.source]
    if not edge.carried or edge.source_value is ABSENT:
        return node
    repetition = edge.source_repetition
    numbered = ix.numbered.get(node.id)  # (name, its first number)
    name = f"{numbered[0]}{_sub(numbered[1] + repetition - 1)}" if numbered else \
        f"{node.name} (repetition {repetition:,})"
    return replace(node, value=edge.source_value, shape=edge.source_shape, name=name)


def is_custom(node: Node) -> bool:
    """A user's autograd Function (its grad_fn name does not end in a digit)."""
    return bool(node.op) and not re.search(r"Backward\d+$", node.op)


def formula(node: Node, args: list[str]) -> str:
    """The right-hand side of the node's operation, with names: `v1 · v2`, `ln(x1)`."""
    symbol = node.symbol or node.op or "f"
    if symbol in INFIX and len(args) == 2:
        return f"{args[0]} {INFIX[symbol]} {args[1]}"
    if symbol.startswith("^") and args:
        return f"{args[0]}^{symbol[1:]}"
    if symbol == "−x" and args:
        return f"−{args[0]}"
    if symbol == "1/x" and args:
        return f"1/{args[0]}"
    return f"{FUNCTION_NAMES.get(symbol, symbol)}({', '.join(args)})"


def expression(ix: TraceIndex, node: Node) -> str:
    """The tape's `expr`: `v3 = v1 · v2`, `x1 = 2`, `0.2 (a constant)`."""
    if node.kind in ("input", "leaf"):
        return f"{node.name} = {format_value(node.value, node.shape, summary_of(node))}"
    if node.kind == "constant":
        return f"{node.name} (a constant)"
    args = [source.name for _, source in operands(ix, node.id)]
    if (node.symbol or "").startswith("^"):
        args = [source.name for _, source in operands(ix, node.id) if source.kind != "constant"]
    return f"{node.name} = {formula(node, args)}"
