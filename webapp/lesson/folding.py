"""Fold repeated structure in a trace: a loop body run k times becomes one set of boxes.

Works on the engine's typed graph (model.Graph; no torch), like torchview's `roll`: a run
of k ≥ 3 consecutive repetitions of the same operations (same kind, operation, label and
source position, in forward order) wired the same way each time collapses into the last
repetition's nodes, each carrying `folded` (Folded: count k, the real ids). An edge from
one repetition into the next becomes a `carried` edge between the folded boxes. `notice`
reads the trace's JSON, as the page has it.

Nothing is lost: `forward` and `backward` keep one step per real node, in the real order
(PyTorch's engine order for backward), each step naming the box that stands for its node;
`fold` keeps the real ids of those steps and what was folded, so the page can say so and
the student can unfold (`fold=0`).
"""
from __future__ import annotations

import dataclasses

from ..limits import AUTO_FOLD_COST, MAX_FOLD_PERIOD
from ..model import ABSENT, AutogradEdge, AutogradView, Edge, Fold, Folded, FoldRun, Graph, Node

MIN_REPEATS = 3
AUTO_ABOVE = 400         # `fold=auto` folds graphs with more nodes than this
AUTO_REPEATS = 10        # … and a loop body repeated this many times


def wanted(option, node_count: int) -> bool:
    """Whether a trace with `node_count` nodes is folded under the request's `fold` option."""
    if option in (None, False, 0, "0", "false", "no", "off"):
        return False
    if option == "auto":
        return node_count > AUTO_ABOVE
    return True


def fold_auto(graph: Graph, layout_cost: int | None) -> Graph:
    """`fold=auto`: fold a graph of many nodes, one `dot` would take long to lay out
    (drawing/layout_cost.py), or one with a loop body repeated AUTO_REPEATS times or more
    (twenty repetitions unfolded are a wall of identical boxes); else leave it."""
    if len(graph.nodes) > AUTO_ABOVE or (layout_cost or 0) > AUTO_FOLD_COST:
        return fold(graph)
    runs = find_runs(graph.nodes, graph.edges)
    return fold(graph, runs) if any(count >= AUTO_REPEATS for _, _, count in runs) else graph


def fold(graph: Graph, runs: list | None = None) -> Graph:
    """The graph with its repeated runs folded; the same graph when nothing repeats.

    The nodes and edges kept are the graph's own objects, marked (`folded`, `carried`, …):
    the unfolded graph is not to be used afterwards."""
    nodes = graph.nodes
    runs = find_runs(nodes, graph.edges) if runs is None else runs
    if not runs:
        return graph
    display = {}   # real id -> the id of the box that stands for it
    members = {}   # box id -> real ids, forward order
    summary = []
    for start, period, count in runs:
        for offset in range(period):
            ids = [nodes[start + j * period + offset].id for j in range(count)]
            members[ids[-1]] = ids
            for real in ids:
                display[real] = ids[-1]
        lines = sorted({n.line for n in nodes[start:start + period] if n.line})
        summary.append(FoldRun(count=count, period=period, nodes=count * period, lines=lines,
                               boxes=[nodes[start + (count - 1) * period + o].id
                                      for o in range(period)]))
    shown = []
    for node in nodes:
        box = display.get(node.id, node.id)
        if box != node.id:
            continue
        if box in members:
            node.folded = Folded(count=len(members[box]), members=members[box])
        shown.append(node)
    by_id = {node.id: node for node in nodes}
    return Graph(nodes=shown, edges=_fold_edges(graph.edges, display, members, by_id),
                 forward=[display.get(i, i) for i in graph.forward],
                 backward=[display.get(i, i) for i in graph.backward],
                 autograd=_fold_autograd(graph.autograd, display, members),
                 fold=Fold(runs=summary, nodes=len(nodes), shown=len(shown),
                           forward=graph.forward, backward=graph.backward))


def unfold_steps(trace: dict, phase: str = "backward") -> list[str]:
    """The real node of each step of a folded trace (the trace's own steps when unfolded)."""
    return trace["fold"][phase] if "fold" in trace else trace[phase]


# -- finding runs -------------------------------------------------------------------------
def find_runs(nodes: list[Node], edges: list[Edge]) -> list[tuple[int, int, int]]:
    """(start, period, count) of each foldable run, in forward order, not overlapping."""
    codes, seen = [], {}
    for node in nodes:
        symbol = node.symbol if node.symbol is not ABSENT else None
        signature = (node.kind, node.op, symbol, node.label, node.line, node.col, tuple(node.shape))
        codes.append(seen.setdefault(signature, len(seen)))
    position = {node.id: i for i, node in enumerate(nodes)}
    into: dict[int, list] = {}
    for edge in edges:
        into.setdefault(position[edge.target], []).append((edge.input, position[edge.source]))
    runs, i, n = [], 0, len(codes)
    while i < n:
        found = None
        if nodes[i].kind not in ("input", "leaf", "output"):
            candidates = []
            for period in range(1, min(MAX_FOLD_PERIOD, (n - i) // MIN_REPEATS) + 1):
                count = _repeats(codes, i, period)
                if count >= MIN_REPEATS:
                    candidates.append((-count * period, period, count))
            # the widest coverage first; a shorter period that is wired differently gives way
            for _, period, count in sorted(candidates):
                count = _wired_alike(into, i, period, count)
                if count >= MIN_REPEATS:
                    found = (i, period, count)
                    break
        if found:
            runs.append(found)
            i += found[1] * found[2]
            continue
        i += 1
    return runs


def _repeats(codes: list, start: int, period: int) -> int:
    """How many times codes[start:start+period] repeats back to back from `start`."""
    block, count, at = codes[start:start + period], 1, start + period
    while codes[at:at + period] == block:
        count += 1
        at += period
    return count


def _wired_alike(into: dict, start: int, period: int, count: int) -> int:
    """How many leading repetitions are wired the same way (inputs from the same offsets of
    their own repetition, of the one before, or from the same node outside the run)."""
    end = start + period * count

    def pattern(j):
        first = start + j * period
        after, previous = first + period, max(start, first - period)
        shape = []
        for offset in range(period):
            wires = []
            for slot, source in into.get(first + offset, ()):
                if first <= source < after:
                    wires.append((slot, "in", source - first))
                elif previous <= source < first:
                    wires.append((slot, "prev", source - first + period))
                elif start <= source < end:
                    wires.append((slot, "far", None))  # from an older repetition: not alike
                else:
                    wires.append((slot, "out", source))
            shape.append(tuple(sorted(wires, key=_slot_and_kind)) if len(wires) > 1 else tuple(wires))
        return shape

    if count < 2:
        return count
    second = pattern(1)
    if any(kind == "far" for wires in second for _, kind, _ in wires) or \
            not _entry_alike(pattern(0), second):
        return 0
    alike = 2
    while alike < count and pattern(alike) == second:
        alike += 1
    return alike


def _slot_and_kind(wire: tuple) -> tuple:
    return wire[0], wire[1]


def _entry_alike(first: list, second: list) -> bool:
    """The first repetition is wired like the second, except that it takes from outside the
    run what the second takes from the repetition before (y = x before the loop)."""
    for wires0, wires1 in zip(first, second):
        if [w[0] for w in wires0] != [w[0] for w in wires1]:
            return False
        for (_, kind0, where0), (_, kind1, where1) in zip(wires0, wires1):
            if not (kind0 == "out" if kind1 == "prev" else (kind0, where0) == (kind1, where1)):
                return False
    return True


# -- the folded edges and PyTorch's view ------------------------------------------------------
def _fold_edges(edges: list[Edge], display: dict, members: dict, by_id: dict) -> list[Edge]:
    """One edge per (box, box, input slot); it keeps the numbers of the instance that ends at
    the shown node (edges come in forward order, so the last one seen).

    A box shows its last repetition, so the lesson needs to know which edges are not that
    repetition's: a `carried` edge comes from the repetition before (its `source_value` and
    `source_repetition` say which), an `entry` edge feeds only the first repetition (`y = x`
    before the loop; its `target_grad` is the first repetition's gradient)."""
    index = {real: j for box, ids in members.items() for j, real in enumerate(ids)}
    last = {}  # key -> the last edge with it, in the order a dict of the last ones would have
    for edge in edges:
        real_source, real_target = edge.source, edge.target
        carried = real_source in index and real_target in index and \
            index[real_target] == index[real_source] + 1  # from one repetition into the next
        key = (display.get(real_source, real_source), display.get(real_target, real_target),
               edge.input, carried)
        last.pop(key, None)
        last[key] = edge
    folded = []
    for key, edge in last.items():  # only the edges kept are changed (a long loop drops most)
        real = by_id[edge.source]
        edge.source, edge.target = key[0], key[1]
        if key[3]:
            edge.carried = True
            edge.source_value, edge.source_shape = real.value, real.shape
            edge.source_repetition = index[real.id] + 1
        folded.append(edge)
    carried_slots = {(e.target, e.input) for e in folded if e.carried is True}
    for edge in folded:
        if edge.carried is not True and (edge.target, edge.input) in carried_slots:
            edge.entry = True
            edge.target_grad = by_id[members[edge.target][0]].grad  # the first repetition's
    return sorted(folded, key=_edge_order)


def _edge_order(edge: Edge):
    return (int(edge.target[1:]) if edge.target[1:].isdigit() else 0, edge.input)


def _fold_autograd(view: AutogradView | None, display: dict, members: dict):
    """PyTorch's own view with the same boxes: `n7-acc`, `n7-saved0` follow their node."""
    if not view:
        return view

    def rep(node_id):
        if "-" not in node_id:  # most ids: a node's own
            return display.get(node_id, node_id)
        base, dash, rest = node_id.partition("-")
        return display.get(base, base) + dash + rest

    nodes, edges = {}, {}
    for node in view.nodes:
        new_id = rep(node.id)
        if new_id not in nodes:
            base = new_id.partition("-")[0]
            count = len(members.get(base, ()))
            label = f"{node.label} ×{count}" if count and node.kind == "function" else node.label
            nodes[new_id] = dataclasses.replace(node, id=new_id, label=label)
    for edge in view.edges:
        pair = (rep(edge.source), rep(edge.target))
        edges.setdefault(pair, AutogradEdge(source=pair[0], target=pair[1]))
    return AutogradView(nodes=list(nodes.values()), edges=list(edges.values()))


def notice(trace: dict | None) -> dict | None:
    """What the page says about folding: the sentence, or None when nothing was folded."""
    if not trace or "fold" not in trace:
        return None
    runs = trace["fold"]["runs"]
    parts = []
    for run in runs:
        where = (f"line {run['lines'][0]}" if len(run["lines"]) == 1 else
                 f"lines {run['lines'][0]}–{run['lines'][-1]}") if run["lines"] else "a block"
        parts.append(f"{where} repeats {run['count']:,} times ({run['nodes']:,} nodes in "
                     f"{run['period']} boxes)")
    return {"sentence": "Folded: " + "; ".join(parts) + ". Each double-bordered box stands for "
            "all its repetitions and shows the last one's numbers; a dashed arrow carries a value "
            "into the next repetition. The animation still takes every step, "
            f"{len(trace['backward']):,} backward steps in PyTorch's engine order.",
            "nodes": trace["fold"]["nodes"], "shown": trace["fold"]["shown"]}
