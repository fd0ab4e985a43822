"""How hard a graph is for `dot` to lay out, estimated from the trace before drawing it.

`dot` ranks the boxes left to right and gives every edge that skips ranks one invisible
node per rank it crosses; its positioning then grows much faster than linearly in all
of those nodes. A loop that uses an input in each iteration (`y = sin(y) + x * 0.001`)
draws an edge from `x` to every iteration: 60 iterations made about 11,000 invisible nodes
and ran past a minute. Measured on this machine (2 cores, graphviz 2.43), unfolded:
a cost of 3,000 laid out in about 1 s, 5,200 in 4.5 s, 8,000 in 31 s.
"""
from __future__ import annotations


def estimate(trace: dict) -> int:
    """The boxes and operation circles drawn, plus the invisible nodes of long edges."""
    ops = {n["id"] for n in trace["nodes"] if n["kind"] in ("op", "output")}
    # carried edges are drawn with constraint=false: they take no ranks
    edges = [(e["source"], e["target"]) for e in trace["edges"] if not e.get("carried")]
    into: dict[str, list[str]] = {}
    for source, target in edges:
        into.setdefault(target, []).append(source)
    rank: dict[str, int] = {}
    for node_id in trace["forward"]:  # sources first: a longest-path ranking, as dot starts
        if node_id not in rank:
            sources = into.get(node_id)
            before = max([rank.get(s, 0) for s in sources]) if sources else -1
            rank[node_id] = before + (2 if node_id in ops else 1)  # an op's circle, then its box
    # The rank an edge into a node ends at: an operation's circle stands one rank before it.
    entry = {node_id: r - 1 if node_id in ops else r for node_id, r in rank.items()}
    nearest: dict[str, int] = {}
    for source, target in edges:
        if source not in into:  # a source sits just before its nearest use
            end = entry.get(target, 0)
            if end < nearest.get(source, end + 1):
                nearest[source] = end
    for source, end in nearest.items():
        rank[source] = end - 1
    crossed = 0
    for source, target in edges:
        gap = entry.get(target, 0) - rank.get(source, 0) - 1
        if gap > 0:
            crossed += gap
    return len(trace["nodes"]) + len(ops) + crossed
