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
    into: dict[str, list[str]] = {}
    out_of: dict[str, list[str]] = {}
    for edge in trace["edges"]:
        if edge.get("carried"):  # drawn with constraint=false: no ranks of its own
            continue
        into.setdefault(edge["target"], []).append(edge["source"])
        out_of.setdefault(edge["source"], []).append(edge["target"])
    rank: dict[str, int] = {}
    for node_id in trace["forward"]:  # sources first: a longest-path ranking, as dot starts
        if node_id not in rank:
            before = max((rank.get(s, 0) for s in into.get(node_id, ())), default=-1)
            rank[node_id] = before + (2 if node_id in ops else 1)  # an op's circle, then its box

    def entry(node_id: str) -> int:  # the rank an edge into this node ends at
        return rank.get(node_id, 0) - (1 if node_id in ops else 0)

    for node_id, targets in out_of.items():
        if node_id not in into:  # a source sits just before its nearest use
            rank[node_id] = min(entry(t) for t in targets) - 1
    crossed = sum(max(0, entry(e["target"]) - rank.get(e["source"], 0) - 1)
                  for e in trace["edges"] if not e.get("carried"))
    return len(trace["nodes"]) + len(ops) + crossed
