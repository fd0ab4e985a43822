"""The animation's steps are built once, in the worker, and carried in the trace (`steps`).

Every reader takes them from there: the page's player (data-trace), /embed, the GIF,
steps.zip and /steps.json, the widget and the CLI (lesson/steps.py reads them for these).
"""
from __future__ import annotations

import json
import re
import urllib.parse

import pytest

from webapp.engine.evaluation import trace_values
from webapp.lesson import practice
from webapp.lesson.steps import export_steps
from webapp.web.examples import BY_SLUG

LOOP = "y = x\nfor i in range({n}):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"


def test_a_trace_carries_its_steps_constants_take_none(limits):
    """Forward: every computed node in forward order; backward: the engine's order. Mutation:
    trace_steps keeping constants' forward steps (0.2 and 5 of the quadratic get one)."""
    trace = trace_values("0.2*x1**2 + 0.2*x2**2 - 5", {"x1": 2.0, "x2": 2.0}, None, limits)
    kinds = {n["id"]: n["kind"] for n in trace["nodes"]}
    assert "constant" in kinds.values()
    assert trace["steps"] == ([{"phase": "forward", "node": i} for i in trace["forward"]
                               if kinds[i] != "constant"]
                              + [{"phase": "backward", "node": i} for i in trace["backward"]])


def test_an_image_trace_carries_steps_too(limits):
    """A trace made without the lesson (an image: names only) still has its steps. Mutation:
    the insertion in evaluation.trace_program moved under `if lesson:`."""
    from webapp.engine.evaluation import trace_program
    trace = trace_program("sin(x) * x", {"x": 1.0}, None, limits, lesson=False)[1].to_json()
    assert "explain" not in trace
    assert [s["phase"] for s in trace["steps"]] == ["forward"] * 3 + ["backward"] * 3


def test_a_folded_box_step_says_which_repetition_it_is(limits):
    """Each forward step of a box counts its repetitions 1, 2, … in the program's order; the
    engine reaches the last repetition first going backward. The count stays on the box.
    Mutation: `enumerate(..., 1)` → `enumerate(..., 2)` in trace_steps."""
    trace = trace_values(LOOP.format(n=6), {"x": 0.5}, None, limits, fold=True)
    boxes = {n["id"]: n["folded"]["count"] for n in trace["nodes"]
             if n.get("folded") and n["kind"] != "constant"}  # a folded constant takes no step
    assert boxes
    for box, count in boxes.items():
        forward = [s["repetition"] for s in trace["steps"] if s["node"] == box and s["phase"] == "forward"]
        backward = [s["repetition"] for s in trace["steps"] if s["node"] == box and s["phase"] == "backward"]
        assert forward == list(range(1, count + 1))
        assert backward == list(range(count, 0, -1))
    assert all("repetitions" not in s for s in trace["steps"])
    plain = [s for s in trace["steps"] if s["node"] not in boxes]
    assert plain and all("repetition" not in s for s in plain)


def test_exports_show_one_frame_per_box_and_no_repetition(limits):
    """/steps.json's frames keep their shape, {phase, node, caption}, folded or not; a folded
    export has one forward and one backward frame per box. Mutation: _captioned copying
    the step whole (`{**s, "caption": …}`): the repetition leaks into steps.json."""
    trace = trace_values(LOOP.format(n=6), {"x": 0.5}, None, limits, fold=True)
    frames = export_steps(trace)
    assert all(list(frame) == ["phase", "node", "caption"] for frame in frames)
    boxes = [n["id"] for n in trace["nodes"] if n.get("folded") and n["kind"] != "constant"]
    assert boxes
    for box in boxes:
        assert [f["phase"] for f in frames if f["node"] == box] == ["forward", "backward"]


def test_practice_keeps_the_step_of_a_gradient_it_asks(client):
    """The second derivative's x gets its gradient from torch.autograd.grad, outside the
    engine's order: its step comes last. A practice page takes x's gradient out, yet the
    player's steps (data-trace) still end at x. Mutation: without_answers rebuilding the
    steps from the stripped trace (`page["steps"] = trace_steps(page)`): x has no step."""
    example = BY_SLUG["second-derivative"]
    query = urllib.parse.urlencode({"f": example.source})
    html = client.get(f"/?{query}&practice=1").get_data(as_text=True)
    shown = json.loads(re.search(r"data-trace='([^']*)'", html).group(1).replace("&#39;", "'"))
    x = next(n for n in shown["nodes"] if n["label"] == "x")
    assert x["id"] in shown["practice"]["asked"] and x["grad"] is None  # taken out…
    assert shown["steps"][-1] == {"phase": "backward", "node": x["id"]}  # …its step stays


def test_without_answers_passes_the_steps_on(limits):
    """lesson/practice.without_answers copies the worker's steps unchanged."""
    example = BY_SLUG["second-derivative"]
    trace = trace_values(example.source, example.inputs, None, limits)
    assert practice.without_answers(trace)["steps"] == trace["steps"]


@pytest.mark.parametrize("body", [{"source": "sin(x) * x", "inputs": {"x": 1.0}},
                                  {"source": LOOP.format(n=150), "inputs": {"x": 0.5}}])
def test_the_api_answer_carries_the_steps(client, body):
    """POST /api/trace: the steps are part of the JSON contract, folded (fold=auto) or not."""
    trace = client.post("/api/trace", json=body).get_json()
    assert trace["steps"] and {s["phase"] for s in trace["steps"]} == {"forward", "backward"}
    assert len(trace["steps"]) == len([i for i in trace["forward"]
                                       if next(n for n in trace["nodes"] if n["id"] == i)["kind"] != "constant"]) \
        + len(trace["backward"])


def test_a_graph_of_your_own_tensors_carries_steps_for_its_players():
    """webapp.graph_of builds its trace in this process, not in a worker; its players (the
    widget, the inline player) read the same steps. Mutation: drop the trace_steps line in
    own_tensors.graph_of: the widget fails with KeyError 'steps'."""
    import torch

    import webapp
    from webapp.widget import PlayerWidget
    w = torch.tensor(2.0, requires_grad=True)
    graph = webapp.graph_of(w * w + 1, params={"w": w})
    assert [s["phase"] for s in graph.trace["steps"]] == ["forward"] * 3 + ["backward"] * 3
    assert len(PlayerWidget(graph.trace, graph.svg()).steps) == len(graph.trace["steps"])
