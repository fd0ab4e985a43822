"""The player's public surface, which other scripts build on: the graph root dispatches
"chainrule:loaded" and "chainrule:step" (bubbling), and the player offers go, step, reset,
play, pause and state."""
from __future__ import annotations

import pytest

from webapp.lesson.steps import animation_steps

from .test_page_typing import oracle, page_inputs, wait_until

pytestmark = pytest.mark.browser

RECORD = """
window.seen = [];
document.addEventListener("chainrule:loaded", e => window.seen.push(
  {type: "loaded", nodes: e.detail.trace.nodes.length, root: e.target.id, hasPlayer: !!e.detail.player}));
document.addEventListener("chainrule:step", e => window.seen.push(
  {type: "step", index: e.detail.index, phase: e.detail.phase, node: e.detail.node && e.detail.node.id,
   stepNode: e.detail.step && e.detail.step.node, same: e.detail.player === window.chainrule.player()}));
"""


def test_player_events_and_methods(page, live_server):
    """Each render says which step it shows; go/step/reset move the player of the graph shown.
    Mutation: in player.js render(), make the step event `bubbles: false`: nothing is seen."""
    page.add_init_script(RECORD)
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    trace = oracle(live_server, "sin(x)*x", page_inputs(page))
    steps = animation_steps(trace)
    wait_until(page, "window.seen.some(e => e.type === 'loaded')")
    loaded = page.evaluate("window.seen.find(e => e.type === 'loaded')")
    assert loaded == {"type": "loaded", "nodes": len(trace["nodes"]), "root": "graph", "hasPlayer": True}
    page.evaluate("window.seen = []")
    page.keyboard.press("ArrowRight")
    page.evaluate("window.chainrule.player().go(3)")
    page.evaluate("window.chainrule.player().step(-1)")
    events = page.evaluate("window.seen")
    assert [(e["index"], e["phase"], e["node"]) for e in events] == [
        (i, steps[i - 1]["phase"], steps[i - 1]["node"]) for i in (1, 3, 2)]
    assert all(e["same"] and e["stepNode"] == e["node"] for e in events)
    page.evaluate("window.chainrule.player().reset()")
    assert page.evaluate("window.chainrule.player().state().index") == 0
    assert page.evaluate("window.seen[window.seen.length - 1]")["phase"] is None
    page.evaluate("window.chainrule.player().play(50)")
    wait_until(page, f"window.chainrule.player().state().index === {len(steps)}")
    assert page.evaluate("window.chainrule.player().state().playing") is False
    assert page.inner_text('[data-action="play"]') == "▶ Play"
    assert page.errors == []


def test_one_player_per_graph(page, live_server):
    """A new graph gets a new player; the old one no longer drives the page.
    Mutation: in page.js load(), `if (page.player) return;` (the old player is kept)."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    page.evaluate("window.firstPlayer = window.chainrule.player()")
    page.fill('#inputs input[name="x"]', "2")
    page.keyboard.press("Enter")
    wait_until(page, "window.chainrule.player() !== window.firstPlayer")
    assert page.evaluate("window.chainrule.player().root === document.getElementById('graph')")
    assert page.evaluate("window.firstPlayer.root.isConnected") is False


def test_each_step_lights_the_edges_of_the_trace(page, live_server):
    """Forward: the edges into the node; backward: the edges out of it, as the trace's edge
    list says, found through the SVG's data-source / data-target, in both views.
    Mutation: in svg_fill.value_edge_ends, swap source and target: forward lights the
    edges out of the node."""
    for view in ("values", "autograd"):
        page.goto(f"{live_server}/?f=log(x**2)*sin(x)%20%2B%201/x&x=2&view={view}")
        page.wait_for_selector("#graph svg")
        trace = page.evaluate("window.chainrule.player().trace")
        kinds = {n["id"]: n["kind"] for n in trace["nodes"]}
        for step in animation_steps(trace):
            page.keyboard.press("ArrowRight")
            lit = page.eval_on_selector_all(
                "#graph .cr-edge.active:not([data-part])", "es => es.map(e => [e.dataset.source, e.dataset.target])")
            node = step["node"]
            end = "target" if step["phase"] == "forward" else "source"
            wanted = {(e["source"], e["target"]) for e in trace["edges"] if e[end] == node}
            if view == "autograd":  # only the edges between grad_fn boxes are drawn
                wanted = {(s, t) for s, t in wanted if kinds[t] != "constant" and kinds[s] != "constant"}
            assert {tuple(pair) for pair in lit} == wanted, (view, step)


def test_a_backward_step_outlines_the_box_not_the_operation_that_made_it(page, live_server):
    """sin(x)·x: v1 = sin(x)'s forward step outlines its box and its sin circle; its backward
    step, whose gradient comes from the × it feeds, outlines the box alone (a bold sin beside
    a sentence about × misled a student). Mutation seen failing: player.js render() marking
    the circle current in both phases."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    steps = page.evaluate("window.chainrule.player().steps")
    v1 = page.evaluate("window.chainrule.player().trace.nodes.find(n => n.op && n.op.startsWith('Sin')).id")
    current = (f"[document.querySelector('#graph [id=\"{v1}\"][data-kind]').classList.contains('st-current'),"
               f" document.querySelector('#graph [id=\"{v1}-op\"]').classList.contains('st-current')]")
    for phase, wanted in (("forward", [True, True]), ("backward", [True, False])):
        index = next(i for i, s in enumerate(steps) if s["node"] == v1 and s["phase"] == phase) + 1
        page.evaluate(f"window.chainrule.player().go({index})")
        assert page.evaluate(current) == wanted, phase
    assert page.errors == []
