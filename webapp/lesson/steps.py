"""The animation's steps, defined once: the page, the GIF, the step SVGs and the CLI use them.

Forward steps are the computed nodes in forward order (constants are known from the
start, so they are shown from the first frame and are not steps); backward steps are
the nodes in the order PyTorch's engine reached them.
"""
from __future__ import annotations

import copy


def animation_steps(trace: dict) -> list[dict]:
    """[{phase, node, caption}, …]: one per frame of the animation."""
    return _captioned(trace, _steps(trace))


def _steps(trace: dict) -> list[dict]:
    kinds = {n["id"]: n["kind"] for n in trace["nodes"]}
    steps = [{"phase": "forward", "node": i} for i in trace["forward"] if kinds[i] != "constant"]
    steps += [{"phase": "backward", "node": i} for i in trace["backward"]]
    # torch.autograd.grad gives an input its gradient without running its AccumulateGrad node,
    # so the engine's order never reaches it: it gets its step last (as player.js does).
    reached = set(trace["backward"])
    steps += [{"phase": "backward", "node": n["id"]} for n in trace["nodes"]
              if n.get("grad") is not None and n["kind"] != "constant" and n["id"] not in reached]
    return steps


def _captioned(trace: dict, steps: list[dict]) -> list[dict]:
    explain = trace.get("explain", {"forward": {}, "backward": {}})
    for step in steps:
        text = explain[step["phase"]].get(step["node"], "")
        step["caption"] = caption(text)
    return steps


def export_steps(trace: dict) -> list[dict]:
    """The frames of a GIF or step export: every step, or for a folded trace one per box.

    A folded box shows its last repetition's numbers, so its forward frame comes where the
    last repetition was computed and its backward frame where the engine reached that
    repetition (the first time, going backward). The page's player still takes every step.
    """
    steps = _steps(trace)
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
    """One line for a frame: the explanation's first and last lines (the result)."""
    from .explain import PATTERNS  # a pattern line names the gate; the caption keeps the numbers
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and line.strip() not in PATTERNS.values()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    return f"{lines[0]}  …  {lines[-1]}"


def trace_at(trace: dict, steps: list[dict], done: int) -> dict:
    """A copy of the trace as it stands after `done` steps: unknown values "?", grads "not yet"."""
    known_value = {n["id"] for n in trace["nodes"] if n["kind"] == "constant"}
    known_grad = set()
    for step in steps[:done]:
        (known_value if step["phase"] == "forward" else known_grad).add(step["node"])
    shown = copy.deepcopy(trace)
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
