"""Which mistake a wrong backward-step answer shows, read from that step's own numbers.

A node's gradient is the sum, over the edges leaving it, of upstream gradient × local
derivative (each edge's `grad`, its contribution). A wrong answer that equals one of the
factors, one term of the sum, the right number negated or the node's forward value shows
which part of the chain rule the student skipped. Every number compared is PyTorch's,
from the trace; nothing is recomputed here. Plain data in, plain data out.
"""
from __future__ import annotations

from ..errors import bad_input
from .practice import asked_ids, is_right

#: The kinds, in the order they are tried: when two factors happen to be equal, the first
#: kind that fits names the answer (a fan-out's term before the upstream gradient it carries).
KINDS = ("sign", "one_path", "upstream_only", "local_only", "forward_value", "other")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: How close a wrong answer must be to a factor to be read as that factor: a student types
#: three significant figures (0.841 for 0.84147), looser than practice's 1e-3 for right.
CLOSE = 5e-3


def _close(value: float, number) -> bool:
    return _number(number) and abs(value - number) <= max(CLOSE * abs(number), 1e-6)


def _which(value: float, numbers) -> int | None:
    """The index of the first of `numbers` `value` stands for, or None."""
    return next((i for i, n in enumerate(numbers) if _close(value, n)), None)


def diagnose(trace: dict, node_id, value: float) -> dict:
    """{"correct", "mistake", "hint"} for `value` typed as `node_id`'s gradient.

    Right is practice mode's rule (lesson/practice.is_right). A node practice does not ask
    is refused (bad_input naming `node`), as in practice mode.
    """
    nodes = {n["id"]: n for n in trace["nodes"]}
    if node_id not in asked_ids(trace):
        raise bad_input("node must be the id of a node whose gradient practice asks (a single "
                        "number the backward pass reaches), like n1.")
    node = nodes[node_id]
    name = node.get("name") or node["label"]
    edges = [e for e in trace["edges"] if e["source"] == node_id and e.get("grad") is not None]
    consumers = [nodes[e["target"]] for e in edges]
    truth = node["grad"]
    if is_right(value, truth):
        return {"correct": True, "mistake": None, "hint": f"Right: that is ∂out/∂{name}."}
    kind, at = "other", None
    if _number(truth) and truth != 0 and _close(-value, truth):
        kind = "sign"
    elif len(edges) > 1 and (at := _which(value, [e.get("grad") for e in edges])) is not None:
        kind = "one_path"
    elif (at := _which(value, [c.get("grad") for c in consumers])) is not None:
        kind = "upstream_only"
    elif (at := _which(value, [e.get("local_grad") for e in edges])) is not None:
        kind = "local_only"
    elif _close(value, node.get("value")):
        kind = "forward_value"
    return {"correct": False, "mistake": kind, "hint": _hint(kind, name, consumers, at)}


def _hint(kind: str, name: str, consumers: list[dict], at: int | None) -> str:
    names = [c.get("name") or c["label"] for c in consumers]
    one = names[at] if at is not None else ""
    every = ", ".join(names) or "the output"
    return {
        "sign": "Right size, wrong sign: look again at the sign of the local derivative.",
        "one_path": f"That is the contribution through {one} alone: {name} feeds {len(names)} "
                    f"operations ({every}), and its gradient is the sum of their contributions.",
        # "{one}'s local derivative in {name}", not ∂{one}/∂{name}: where {one} is the output
        # that would read as the very gradient asked (explain._rule words it the same)
        "upstream_only": f"That is the upstream gradient arriving from {one}; multiply it by "
                         f"{one}'s local derivative in {name}.",
        "local_only": f"That is {one}'s local derivative in {name} alone; multiply it by the "
                      f"upstream gradient arriving from {one}.",
        "forward_value": f"That is {name}'s forward value; the gradient is ∂out/∂{name}, "
                         "from the backward pass.",
        "other": f"For each operation {name} feeds ({every}), multiply the upstream gradient by "
                 "the local derivative, then add the products.",
    }[kind]
