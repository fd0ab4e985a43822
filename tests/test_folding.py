"""Folding repeated structure (webapp/folding.py): the folded graph still steps through
PyTorch's own backward order, and unfolding (fold=0) draws every node."""
from __future__ import annotations

import html
import re
import urllib.parse

import torch

from webapp.engine.evaluation import trace_values
from webapp.engine.tracing import walk

LOOP = "y = x\nfor i in range({n}):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"


def plain_engine_order(iterations: int, x_value: float):
    """The loop in plain PyTorch: each grad_fn's creation index, and the engine's order."""
    x = torch.tensor(x_value, requires_grad=True)
    created = []

    def keep(tensor):
        created.append(tensor.grad_fn)
        return tensor

    y = x
    for _ in range(iterations):
        y = keep(keep(keep(torch.sin(y)) * 0.999) + keep(x * 0.001))
    order = []
    for fn in walk(y.grad_fn, 10**6):
        fn.register_prehook(lambda grads, fn=fn: order.append(fn))
    y.backward()
    return created, order


def boxes_of(trace: dict) -> dict:
    """Real node id -> the node drawn for it (itself, or the folded box standing for it)."""
    drawn = {}
    for node in trace["nodes"]:
        for real in (node.get("folded") or {}).get("members", [node["id"]]):
            drawn[real] = node
    return drawn


def test_folded_2000_iteration_loop_steps_through_the_engines_order(limits):
    """Mutation: in folding.fold, `"backward": [rep(i) for i in graph["backward"]]` made
    `sorted(...)` (or mapping every member to ids[0]) fails here."""
    n = 2000
    trace = trace_values(LOOP.format(n=n), {"x": 0.5}, None, limits, fold="auto")
    folded = [node for node in trace["nodes"] if node.get("folded")]
    assert folded and len(trace["nodes"]) < 40  # 8,000 operations drawn as a handful of boxes
    assert {node["folded"]["count"] for node in folded} == {n - 1}
    drawn = boxes_of(trace)
    real_steps = trace["fold"]["backward"]
    # Each step of the folded animation shows the box that stands for the real node.
    assert [drawn[real]["id"] for real in real_steps] == trace["backward"]
    # The real nodes, in forward order, are PyTorch's grad_fns in the order they were made.
    ops = [real for real in trace["fold"]["forward"] if drawn[real]["kind"] in ("op", "output")]
    (x_id,) = [real for real in trace["fold"]["forward"] if drawn[real]["kind"] == "input"]
    created, engine = plain_engine_order(n, 0.5)
    assert len(ops) == len(created) == 4 * n
    index = {fn: i for i, fn in enumerate(created)}
    expected = [ops[index[fn]] if fn in index else x_id for fn in engine]
    assert real_steps == expected


def test_each_box_stands_for_members_wired_alike(limits):
    """The multiplier alternates between x and w: one box per `×` would wire x and w to
    every member. Mutation: `_wired_alike` returning `count` unchecked fails here."""
    source = "y = x\nfor i in range(8):\n    y = y * [x, w][i % 2]\ny"
    inputs = {"x": 0.9, "w": 1.1}
    folded = trace_values(source, inputs, None, limits, fold=True)
    full = trace_values(source, inputs, None, limits, fold=False)
    drawn = boxes_of(folded)
    assert any(node.get("folded") for node in folded["nodes"])
    wires = {}
    for edge in full["edges"]:
        wires.setdefault(edge["target"], set()).add((edge["input"], drawn[edge["source"]]["id"]))
    for node in folded["nodes"]:
        members = (node.get("folded") or {}).get("members", [])
        # after the first (which takes y from before the loop), every member is wired alike
        assert len({frozenset(wires[m]) for m in members[1:]}) <= 1, node["id"]
    assert [drawn[real]["id"] for real in folded["fold"]["backward"]] == folded["backward"]
    assert folded["fold"]["backward"] == full["backward"]


def _page_trace(page: str) -> dict:
    import json
    found = re.search(r"data-trace='([^']*)'", page)
    return json.loads(html.unescape(found.group(1)))


def test_the_page_says_it_folded_and_unfold_draws_every_node(client):
    """Mutation: dropping `fold=state.fold` from pages.build_view (or the unfold link's
    `state.fold = False`) fails here."""
    query = urllib.parse.urlencode({"f": LOOP.format(n=10), "x": "1", "fold": "1"})
    page = client.get(f"/?{query}").get_data(as_text=True)
    assert "Folded: line 3 repeats" in page
    trace = _page_trace(page)
    real = trace["fold"]["forward"]
    link = html.unescape(re.search(r'<a href="([^"]*)" class="fold-link" id="unfold"', page).group(1))
    assert "fold=0" in link
    unfolded = client.get(link).get_data(as_text=True)
    assert "Folded:" not in unfolded and 'id="refold"' in unfolded
    ids = set(re.findall(r'<g id="(n\d+)" class="node', unfolded))
    assert set(real) <= ids and len(real) > len(trace["nodes"])
    full = _page_trace(unfolded)
    assert [n["id"] for n in full["nodes"]] == real and full["backward"] == trace["fold"]["backward"]


def test_an_image_of_a_folded_graph_says_it_is_folded(client):
    """An embedded image has no page around it: its title says what is folded (the page's own
    drawing leaves it to the notice above the graph). Mutation: _image_title returning None."""
    from urllib.parse import urlencode
    query = urlencode({"f": "y = x\nfor i in range(150):\n    y = y * 0.99 + 0.01\ny", "x": "1"})
    for url in (f"/graph.svg?{query}", f"/graph.svg?{query}&view=autograd", f"/graph.dot?{query}"):
        assert "Folded: line 3 repeats 149 times" in client.get(url).get_data(as_text=True), url
    page = client.get(f"/?{query}").get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert "Folded:" not in svg and "Folded: line 3 repeats 149 times" in page


def test_auto_folds_a_loop_repeated_many_times_even_when_small(client):
    """20 iterations (121 nodes, quick to lay out) unfolded are a wall of identical boxes: the
    page folds a body repeated 10 times or more, and offers Unfold; 5 iterations stay as they
    are. Mutation: AUTO_REPEATS = 10**6 (the 20-iteration loop is drawn unfolded)."""
    from urllib.parse import urlencode
    body = "y = x\nfor i in range({n}):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"
    short = client.get("/?" + urlencode({"f": body.format(n=5), "x": "1"})).get_data(as_text=True)
    assert 'id="fold-notice"' not in short
    longer = client.get("/?" + urlencode({"f": body.format(n=20), "x": "1"})).get_data(as_text=True)
    assert "Folded: line 3 repeats 19 times" in longer and 'id="unfold"' in longer
