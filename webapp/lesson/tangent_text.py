"""Forward mode in words: how each node's tangent (PyTorch's forward-mode AD) is made
from its inputs' tangents, `v̇2 = x2·ẋ1 + x1·ẋ2 = 5·1 + 2·0 = 5`, for the evaluation trace."""
from __future__ import annotations

import re

from .explain import dims, local_derivative, with_shape
from ..model import ABSENT, Node
from .naming import TraceIndex, format_value, given, operands
from .notation import factor, term


def dot(name: str) -> str:
    """The tangent's name: x1 → ẋ1 (a combining dot over the letter); loss → tangent(loss)."""
    if re.fullmatch(r"[A-Za-z]\d*", name or ""):
        return name[0] + "\u0307" + name[1:]
    return f"tangent({name})"


def tangent_text(ix: TraceIndex, node: Node) -> str:
    """The rule with names, then with PyTorch's numbers, for one node."""
    value = format_value(given(node.tangent), node.shape)
    if node.kind in ("input", "leaf"):
        return f"{dot(node.name)} = {value}   (the seed direction you chose)"
    if node.kind == "constant":
        return f"{node.name} is a constant: its tangent is 0"
    pairs = [(e, s) for e, s in operands(ix, node.id) if s.kind != "constant"]
    if node.shape or any(s.shape for _, s in pairs):
        moved = " , ".join(with_shape(dot(s.name), s.shape) for _, s in pairs)
        return (f"{dot(node.name)} = the Jacobian of {node.name} times ({moved}) "
                f"→ {dims(node.shape)} = {value}")
    named, numbers = [], []
    for position, (edge, source) in enumerate(pairs):
        local = local_derivative(source, node, pairs, position) or f"∂{node.name}/∂{source.name}"
        named.append({"1": dot(source.name), "−1": f"−{dot(source.name)}"}.get(
            local, f"{factor(local)}·{dot(source.name)}"))
        numbers.append(f"{term(format_value(edge.local_grad, []))}·"
                       f"{term(format_value(given(source.tangent), []))}")
    return (f"{dot(node.name)} = {_sum(named)}\n"
            f"   = {' + '.join(numbers)} = {value}")  # a negative factor in brackets: (−0.4161)·1


def _sum(terms: list[str]) -> str:
    """`a + −b` written `a − b`."""
    text = terms[0] if terms else "0"
    for part in terms[1:]:
        text += f" − {part[1:]}" if part.startswith("−") else f" + {part}"
    return text


def tangent_explanations(ix: TraceIndex) -> dict:
    """{id: text} for every node of a trace that carries tangents; {} otherwise."""
    if not any(n.tangent is not ABSENT for n in ix.trace.nodes):
        return {}
    return {i: tangent_text(ix, ix.nodes[i]) for i in ix.trace.forward}
