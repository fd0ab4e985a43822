"""The animation's steps, built once in the worker and carried in the trace as `steps`.

`trace_steps` runs on the worker's `Trace` where it is finished (engine/evaluation.trace_program,
after the lesson or the names); the page's player, /embed, the GIF, steps.zip, the widget and the CLI
read `trace["steps"]`, and none builds them again. A step is {"phase", "node"}: the caption
is `explain[phase][node]`. In a folded trace a box's step also says which repetition of
the box it is ("repetition", from 1 to the box's `folded.count`: the count stays on the box,
since a 4,900-iteration loop's 39,000 steps would carry it 39,000 times, 0.8 MB).

Forward steps are the computed nodes in forward order (constants are known from the start,
so they are shown from the first frame and are not steps); backward steps are the nodes in
the order PyTorch's engine reached them.
"""
from __future__ import annotations

import copy
from itertools import repeat

from ..model import Graph, Step, Trace


def trace_steps(trace: Trace | Graph) -> list[Step]:
    """Every step of the animation, from the trace's own orders (before practice strips grads)."""
    if not trace.nodes:
        return []
    kinds = {n.id: n.kind for n in trace.nodes}
    # A folded box's repetitions, numbered from 1 in forward order; trace.fold.forward and
    # .backward name the real node of each step, parallel to trace.forward and .backward.
    repetition = {n.id: {real: k for k, real in enumerate(n.folded.members, 1)}
                  for n in trace.nodes if n.folded}
    fold = trace.fold
    steps = []
    for phase in ("forward", "backward"):
        for node, real in zip(getattr(trace, phase), (getattr(fold, phase) if fold else None) or repeat(None)):
            if phase == "forward" and kinds.get(node) == "constant":
                continue  # known from the start: no step
            step = Step(phase=phase, node=node)
            if node in repetition and real is not None:
                step.repetition = repetition[node].get(real, 0)
            steps.append(step)
    steps += [Step(phase="backward", node=node) for node in unreached(trace)]
    return steps


def unreached(trace: Trace | Graph) -> list[str]:
    """Nodes with a gradient the engine's order never reached: torch.autograd.grad gives an
    input its gradient without running its AccumulateGrad node. Each gets a backward step,
    last, and its sentence (explain.explanations). A practice page strips such a grad later
    (lesson/practice.py): the step, made here, stays."""
    reached = set(trace.backward)
    return [n.id for n in trace.nodes if n.grad is not None and n.kind != "constant" and n.id not in reached]


def animation_steps(trace: dict) -> list[dict]:
    """[{phase, node, caption}, …]: one per step of the trace, as the worker built them."""
    return _captioned(trace, trace["steps"])


def _captioned(trace: dict, steps: list[dict]) -> list[dict]:
    """New dicts (the trace's steps stay as they are), without a folded box's repetition."""
    explain = trace.get("explain", {"forward": {}, "backward": {}})
    return [{"phase": s["phase"], "node": s["node"],
             "caption": caption(explain[s["phase"]].get(s["node"], ""))} for s in steps]


def export_steps(trace: dict) -> list[dict]:
    """The frames of a GIF or step export: every step, or for a folded trace one per box.

    A folded box shows its last repetition's numbers, so its forward frame comes where the
    last repetition was computed and its backward frame where the engine reached that
    repetition (the first time, going backward). The page's player still takes every step.
    """
    steps = trace["steps"]
    if "fold" not in trace:
        return _captioned(trace, steps)
    last_forward = {s["node"]: i for i, s in enumerate(steps) if s["phase"] == "forward"}
    first_backward = {}
    for i, s in enumerate(steps):
        if s["phase"] == "backward":
            first_backward.setdefault(s["node"], i)
    kept = sorted([*last_forward.values(), *first_backward.values()])
    return _captioned(trace, [steps[i] for i in kept])  # captions only for the frames kept


def caption(text: str) -> str:
    """A frame's caption: the step's whole explanation, every line of it, as the page shows
    it (a fan-out keeps each contribution and their sum); only blank lines and trailing
    spaces go. Exports wrap it to their width (drawing/handouts.py), never shorten it."""
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def trace_at(trace: dict, steps: list[dict], done: int) -> dict:
    """A copy of the trace as it stands after `done` steps: unknown values "?", grads "not yet"."""
    known_value = {n["id"] for n in trace["nodes"] if n["kind"] == "constant"}
    known_grad = set()
    for step in steps[:done]:
        (known_value if step["phase"] == "forward" else known_grad).add(step["node"])
    shown = copy.deepcopy({k: v for k, v in trace.items() if k != "steps"})  # a frame draws no steps
    for node in shown["nodes"]:
        node["label"] = node.get("name", node["label"])
        if node["id"] not in known_value:
            node.update(value="?", shape=[], summary=None)
        if node["id"] not in known_grad and node["kind"] != "constant":
            # nor its `.grad` at the end: that is the answer the frame has not reached yet
            node.update(grad="not yet", grad_summary=None, accumulated=None, after_pass=None)
            if node["id"] in known_value:
                node["shape"] = []  # a tensor's value with its shape, its grad as words
                node["value"] = _short(trace, node["id"])
    return shown


def _short(trace: dict, node_id: str):
    from .naming import format_value
    node = next(n for n in trace["nodes"] if n["id"] == node_id)
    return format_value(node["value"], node["shape"], node.get("summary"))
