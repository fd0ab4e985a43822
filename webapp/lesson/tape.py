"""The evaluation trace (Baydin et al.'s primal / tangent / adjoint table) as rows."""
from __future__ import annotations

from ..model import ABSENT, Node, TapeRow
from .naming import TraceIndex, expression, format_value, repeats
from .notation import bar, relation, term


def adjoint_sum(ix: TraceIndex, node: Node) -> str | None:
    """`x̄1 = 0.5 (from v4) + 5 (from v3) = 5.5` for a node that feeds several others."""
    if node.grad is None:
        return None
    nodes = ix.nodes
    parts = [e for e in ix.out.get(node.id, []) if e.grad is not None]
    total = sum(repeats(ix, e) for e in parts)
    if len(parts) < 2 and total == len(parts):  # one plain contribution: nothing to add up
        return None
    if total > len(parts):  # folded: the shown edges stand for more, their terms do not add up
        return (f"{bar(node.name)} = the sum of {total:,} contributions, one per repetition of "
                f"the folded boxes it feeds = {format_value(node.grad, node.shape)}")
    terms = " + ".join(f"{term(format_value(e.grad, node.shape))} (from {nodes[e.target].name})"
                       for e in parts)
    sign = relation([e.grad for e in parts], node.grad)
    return f"{bar(node.name)} = {terms} {sign} {format_value(node.grad, node.shape)}"


def tape_rows(ix: TraceIndex) -> list[TapeRow]:
    """One row per node in forward order; `adjoint` is the node's gradient as shown."""
    nodes = ix.nodes
    rows = []
    for node_id in dict.fromkeys(ix.trace.forward):  # a folded trace steps a box many times
        node = nodes[node_id]
        total = adjoint_sum(ix, node)
        rows.append(TapeRow(id=node_id, name=node.name, expr=expression(ix, node), line=node.line,
                            value=node.value, adjoint=node.grad, shape=node.shape,
                            tangent=node.tangent, adjoint_sum=total or ABSENT))
    return rows
