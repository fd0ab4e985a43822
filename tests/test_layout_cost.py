"""drawing/layout_cost.py: what `dot` would have to lay out, known before it runs.

The oracle is graphviz itself: `dot -Tplain` gives each box's position; the ranks an arrow
passes strictly between its ends are the invisible nodes dot made for it.
"""
from __future__ import annotations

import subprocess
from urllib.parse import urlencode

import pytest

from webapp.drawing import layout_cost, render
from webapp.engine.jobs import handle

from . import seeds

SIN_LOOP = "y = x\nfor i in range({n}):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"
CASES = {
    "sin loop 10": (SIN_LOOP.format(n=10), {"x": 1.0}),
    "sin loop 25": (SIN_LOOP.format(n=25), {"x": 1.0}),
    "simple loop 100": ("y = x\nfor i in range(100):\n    y = y * 0.99 + 0.01\ny", {"x": 1.0}),
    "seed001": (seeds.SEED001_QUADRATIC, {}),
    "seed003 log-sin": (seeds.SEED003_LOG_SIN, {}),
    "seed004 helpers": (seeds.SEED004_HELPERS, {}),
    "seed002 network": (seeds.SEED002_NETWORK, {}),
    "two uses far apart": ("a = x * 2\nb = a * 3\nc = b * 4\nd = c * 5\nd + x", {"x": 1.0}),
}


def _crossed_by_dot(dot_source: str) -> int:
    out = subprocess.run(["dot", "-Tplain"], input=dot_source.encode(), capture_output=True,
                         timeout=120, check=True).stdout.decode()
    xs, edges = {}, []
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "node":
            xs[parts[1].strip('"')] = round(float(parts[2]), 2)
        elif parts[0] == "edge" and "dashed" not in line:  # dashed: constraint=false, no ranks
            edges.append((parts[1].strip('"'), parts[2].strip('"')))
    rank = {x: i for i, x in enumerate(sorted(set(xs.values())))}  # rankdir=LR: a rank per x
    return sum(max(0, abs(rank[xs[b]] - rank[xs[a]]) - 1) for a, b in edges)


@pytest.mark.parametrize("case", list(CASES))
def test_the_estimate_counts_the_ranks_dot_crosses(case):
    """Mutations seen failing: sources left at rank 0 (no `min(entry(t)…) - 1`); an op's
    circle not counted (`+ 2` → `+ 1`)."""
    source, inputs = CASES[case]
    trace = handle({"kind": "trace", "source": source, "inputs": inputs, "fill_missing": 1.5,
                    "fold": False, "lesson": False})["ok"]
    drawn = len(trace["nodes"]) + sum(1 for n in trace["nodes"] if n["kind"] in ("op", "output"))
    assert layout_cost.estimate(trace) - drawn == _crossed_by_dot(render.values_dot(trace, legend=False))


def _layouts(client) -> int:
    return int(client.get("/healthz").headers["X-Chainrule-Layouts"])


def test_a_short_loop_reusing_its_input_is_folded_not_left_to_time_out(client):
    """60 iterations that each use x: 361 nodes (under fold=auto's 400) whose arrows from x
    cross about 11,000 ranks; unfolded, `dot` ran past its 20 s deadline and the sender was
    cooled down. Now the page folds it and offers no Unfold, and fold=0 is refused before any
    `dot` starts. Mutation: AUTO_FOLD_COST = 10**9 (the page waits 20 s, then refuses)."""
    query = urlencode({"f": SIN_LOOP.format(n=60), "x": "1"})
    page = client.get(f"/?{query}").get_data(as_text=True)
    assert "<svg" in page and 'id="fold-notice"' in page and "repeats 59 times" in page
    assert 'id="unfold"' not in page and "Too large to unfold here" in page
    before = _layouts(client)
    refused = client.get(f"/graph.dot?{query}&fold=0")
    assert refused.status_code == 400 and "in time" in refused.json["error"]["message"]
    assert _layouts(client) == before  # no `dot` was asked
    assert client.get(f"/graph.svg?{query}&fold=0").status_code == 400  # a picture of the refusal
    assert client.get(f"/graph.svg?{query}").status_code == 200  # no cool-down followed


def test_a_graph_too_large_to_draw_unfolded_offers_no_unfold(client):
    """700 iterations of `y * 0.99 + 0.01`: x, then per iteration 2 constants and 2 operations
    (each drawn as a box and a circle): 1 + 700 × 6 = 4,201 drawn unfolded, past the 2,500
    drawn. The page says so instead of linking to a refusal. Mutation: the
    `drawn > MAX_DRAWN_NODES` branch of fold_links removed."""
    query = urlencode({"f": "y = x\nfor i in range(700):\n    y = y * 0.99 + 0.01\ny", "x": "1"})
    page = client.get(f"/?{query}").get_data(as_text=True)
    assert 'id="unfold"' not in page and "Too large to unfold here: 4,201 boxes" in page
    refused = client.get(f"/graph.dot?{query}&fold=0")
    assert refused.status_code == 400 and "more than the 2,500" in refused.json["error"]["message"]


@pytest.mark.parametrize("case", list(CASES))
def test_the_autograd_views_estimate_counts_the_ranks_dot_crosses(case):
    """PyTorch's own view (view=autograd) has long edges too: a leaf's AccumulateGrad feeds
    every iteration that uses it. Mutations seen failing: the view's nodes left in their
    listed order (output first) instead of `_topological`; sources left at rank 0."""
    source, inputs = CASES[case]
    trace = handle({"kind": "trace", "source": source, "inputs": inputs, "fill_missing": 1.5,
                    "fold": False, "lesson": False})["ok"]
    crossed = layout_cost.estimate_autograd(trace) - len(trace["autograd"]["nodes"])
    assert crossed == _crossed_by_dot(render.dot_source(trace, "autograd"))


def test_pytorchs_own_view_unfolded_is_refused_before_dot_runs(client):
    """100 iterations that each use x, in PyTorch's own view unfolded (view=autograd&fold=0):
    x's AccumulateGrad feeds every iteration; `dot` ran past a minute on it, holding a layout
    process for the 20 s deadline and cooling the sender down. Now it is refused at once, no
    `dot` is asked, and the folded view still draws. Mutation: the estimate_autograd check
    removed from autograd_dot (the request then waits for `dot`)."""
    query = urlencode({"f": SIN_LOOP.format(n=100), "x": "1", "view": "autograd"})
    before = _layouts(client)
    refused = client.get(f"/graph.dot?{query}&fold=0")
    assert refused.status_code == 400 and "in time" in refused.json["error"]["message"]
    assert _layouts(client) == before  # no `dot` was asked
    assert client.get(f"/graph.svg?{query}&fold=0").status_code == 400  # a picture of the refusal
    folded = client.get(f"/graph.svg?{query}")
    assert folded.status_code == 200 and b"AccumulateGrad" in folded.data
