"""How hard a graph is for `dot` to lay out, estimated from the trace before drawing it.

`dot` ranks the boxes left to right and gives every edge that skips ranks one invisible
node per rank it crosses; its positioning then grows much faster than linearly in all
of those nodes. A loop that uses an input in each iteration (`y = sin(y) + x * 0.001`)
draws an edge from `x` to every iteration: 60 iterations made about 11,000 invisible nodes
and ran past a minute. Measured on this machine (2 cores, graphviz 2.43), unfolded:
a cost of 3,000 laid out in about 1 s, 5,200 in 4.5 s, 8,000 in 31 s.
"""
from __future__ import annotations


def drawn(nodes: list[dict], unfolded: bool = False) -> int:
    """The boxes drawn: one per node and an operation's circle; `unfolded`, a folded box
    counts once per repetition."""
    return sum(((node.get("folded") or {}).get("count", 1) if unfolded else 1)
               * (2 if node["kind"] in ("op", "output") else 1) for node in nodes)


def estimate(trace: dict) -> int:
    """The boxes and operation circles drawn, plus the invisible nodes of long edges."""
    ops = {n["id"] for n in trace["nodes"] if n["kind"] in ("op", "output")}
    # carried edges are drawn with constraint=false: they take no ranks
    edges = [(e["source"], e["target"]) for e in trace["edges"] if not e.get("carried")]
    return drawn(trace["nodes"]) + _crossed(trace["forward"], edges, ops)


def estimate_autograd(trace: dict) -> int:
    """The same for PyTorch's own view (autograd_view.py): its boxes, plus the ranks its
    long edges cross (a leaf's AccumulateGrad feeds every iteration of a loop that uses it)."""
    view = trace.get("autograd") or {"nodes": [], "edges": []}
    edges = [(e["source"], e["target"]) for e in view["edges"]]
    return len(view["nodes"]) + _crossed(_topological([n["id"] for n in view["nodes"]], edges),
                                         edges, set(), pull=True)


def _topological(node_ids: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Sources first (Kahn's order); the view lists its nodes from the output back."""
    waiting = {node_id: 0 for node_id in node_ids}
    out: dict[str, list[str]] = {}
    for source, target in edges:
        out.setdefault(source, []).append(target)
        waiting[target] = waiting.get(target, 0) + 1
    ready = [node_id for node_id, count in waiting.items() if count == 0]
    order = []
    while ready:
        node_id = ready.pop()
        order.append(node_id)
        for target in out.get(node_id, ()):
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    # A folded view's carried edges close loops: their nodes follow in listed order.
    placed = set(order)
    return order + [node_id for node_id in waiting if node_id not in placed]


def _crossed(order: list[str], edges: list[tuple[str, str]], ops: set, pull: bool = False) -> int:
    """The ranks edges cross strictly between their ends, ranked longest-path as dot starts.

    `order` lists sources before their uses; each node in `ops` has its operation's circle
    one rank before it, where its incoming edges end. With `pull`, a node fed by one edge
    moves next to its nearest use, as dot's balancing does (a leaf's AccumulateGrad)."""
    into: dict[str, list[str]] = {}
    for source, target in edges:
        into.setdefault(target, []).append(source)
    rank: dict[str, int] = {}
    for node_id in order:
        if node_id not in rank:
            sources = into.get(node_id)
            before = max([rank.get(s, 0) for s in sources]) if sources else -1
            rank[node_id] = before + (2 if node_id in ops else 1)  # an op's circle, then its box
    # The rank an edge into a node ends at: an operation's circle stands one rank before it.
    entry = {node_id: r - 1 if node_id in ops else r for node_id, r in rank.items()}
    if pull:
        out: dict[str, list[str]] = {}
        for source, target in edges:
            out.setdefault(source, []).append(target)
        for node_id in reversed(order):
            ends = [entry[t] for t in out.get(node_id, ()) if t in entry]
            if len(into.get(node_id, ())) == 1 and ends:
                rank[node_id] = entry[node_id] = min(ends) - 1
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
    return crossed
