"""Practice mode's answers: which gradients it asks, a trace without them, and one answer.

A practice page carries the trace with every asked gradient taken out (the node's grad,
the contributions and local derivatives on its edges, its backward sentence, its row of the
evaluation trace); the page asks the server for one node's numbers once the student has
answered it right or asked to see it (web/practice.py). Plain data in, plain data out.
"""
from __future__ import annotations

import copy

from ..errors import bad_input
from .notation import derivatives
from .tape_view import tape_view

#: The same tolerance practice.js stated before the check moved here.
RELATIVE, ABSOLUTE = 1e-3, 1e-6


def asked_ids(trace: dict) -> list[str]:
    """Nodes whose gradient practice asks: a single number reached by the backward pass.

    Not asked: tensors (shown, with a note), constants, and a node outside a folded box that
    feeds one (its gradient gathers a contribution from every repetition, the box shows one).
    """
    nodes = {n["id"]: n for n in trace["nodes"]}
    asked = []
    for node in trace["nodes"]:  # a number: the player gives it a backward step (steps.py)
        if node["kind"] == "constant" or not _number(node.get("grad")):
            continue
        if not node.get("folded") and any(
                e["source"] == node["id"] and not e.get("carried") and not e.get("entry")
                and (nodes.get(e["target"]) or {}).get("folded") for e in trace["edges"]):
            continue
        asked.append(node["id"])
    return asked


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def without_answers(trace: dict) -> dict:
    """A copy of the trace as a practice page carries it: no asked gradient anywhere in it.

    `practice.asked` lists the nodes taken out, so the player still gives each its step.
    """
    order = asked_ids(trace)
    asked = set(order)
    names = {n["name"] for n in trace["nodes"] if n["id"] in asked and n["kind"] in ("input", "leaf")}
    page = dict(trace)
    page["nodes"] = [_drop(n, "grad", "accumulated", "grad_summary") if n["id"] in asked else n
                     for n in trace["nodes"]]
    page["edges"] = [_drop(e, "grad", "local_grad") if e["source"] in asked else e
                     for e in trace["edges"]]
    page["leaves"] = {name: _drop(leaf, "grad", "accumulated") if name in names else leaf
                      for name, leaf in trace.get("leaves", {}).items()}
    explain = trace.get("explain") or {}
    page["explain"] = {**explain, "backward": {k: v for k, v in (explain.get("backward") or {}).items()
                                               if k not in asked}}
    page["tape"] = [_drop(row, "adjoint", "adjoint_sum") if row["id"] in asked else row
                    for row in trace.get("tape") or []]
    page["practice"] = {"asked": order, "derivatives": derivatives(
        [(n["shape"], n.get("grad")) for n in trace["nodes"] if n["kind"] == "output"])}
    return page


def _drop(item: dict, *keys: str) -> dict:
    """A copy without `keys`; a grad or adjoint stays as None (the page reads it so)."""
    kept = {k: v for k, v in item.items() if k not in keys}
    kept.update({k: None for k in ("grad", "adjoint") if k in keys and k in item})
    return kept


def _asked_node(trace: dict, node_id) -> dict:
    node = next((n for n in trace["nodes"] if n["id"] == node_id), None) if isinstance(node_id, str) else None
    if node is None:
        raise bad_input("node must be the id of a node of this graph, like n1.")
    if node_id not in asked_ids(trace):
        raise bad_input(f"Practice does not ask {node.get('name') or node_id}'s gradient: "
                        "only single numbers the backward pass reaches are asked.")
    return node


def is_right(answer: float, truth: float) -> bool:
    """Within relative 1e-3 of PyTorch's number, or 1e-6 absolute near 0."""
    return abs(answer - truth) <= max(RELATIVE * abs(truth), ABSOLUTE)


def check_answer(trace: dict, node_id, answer: float | None = None, reveal: bool = False,
                 grad_text=None, factors: bool = True) -> dict:
    """The verdict on one asked node (`answer` a finite number unless `reveal`). Right, or
    revealed: the node's numbers as the page would have carried them. Wrong: only the local
    derivatives its hint multiplies, and not even those for the first hint (`factors`
    False): that one names the rule, and no number in it may give the answer away.

    `grad_text(node)` is the text the graph's gradient row shows (drawing's value_texts).
    """
    node = _asked_node(trace, node_id)
    right = bool(not reveal and is_right(answer, node["grad"]))
    outgoing = [(i, e) for i, e in enumerate(trace["edges"]) if e["source"] == node_id]
    if not (right or reveal):  # the hint's factors: upstream (shown already) × local
        return {"node": node_id, "right": False, "revealed": False,
                "edges": [{"index": i, "source": e["source"], "target": e["target"],
                           "carried": bool(e.get("carried")),
                           **({"local_grad": e.get("local_grad")} if factors else {})}
                          for i, e in outgoing if e.get("grad") is not None]}
    row = next((r for r in (tape_view(trace) or {"rows": []})["rows"] if r["id"] == node_id), None)
    leaf = (trace.get("leaves") or {}).get(node.get("name")) if node["kind"] in ("input", "leaf") else None
    return {"node": node_id, "right": right, "revealed": True,
            "grad": node["grad"], "accumulated": node.get("accumulated"),
            "grad_text": grad_text(node) if grad_text else None,
            "explain": ((trace.get("explain") or {}).get("backward") or {}).get(node_id),
            "edges": [{"index": i, **copy.deepcopy(e)} for i, e in outgoing],
            "leaf": {"name": node["name"], "grad": leaf.get("grad"), "accumulated": leaf.get("accumulated")}
            if leaf else None,
            "tape": {"bar": row["bar"], "adjoint": row["adjoint"], "contributions": row["contributions"],
                     "sign": row["sign"]}
            if row else None}
