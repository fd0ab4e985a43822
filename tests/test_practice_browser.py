"""Issue 26 item 10 in Chromium: a practice page carries no answer, and the practice flow
still works as a student drives it with the keyboard: the server checks each typed number,
a wrong one gets the upstream × local hint, Show me reveals, the score comes at the end.
Every number checked is plain torch's, computed here."""
from __future__ import annotations

import math
import re

import pytest
import torch

from .test_page_typing import wait_until

pytestmark = pytest.mark.browser

PRACTICE = "/?f=sin(x)*x&x=0.7&practice=1"


def _truth():
    """∂y/∂v for y = sin(x)·x at 0.7, by plain torch: v2 (the output), v1 = sin(x), x."""
    x = torch.tensor(0.7, requires_grad=True)
    v1 = torch.sin(x)
    v1.retain_grad()
    y = v1 * x
    y.backward()
    return {"v2": 1.0, "v1": float(v1.grad), "x": float(x.grad)}


# Everything the page says or stores for a reader, hidden or not: text, data-*, aria-*,
# titles and values (not the SVG's coordinates, where 441.18 is a position).
WORDS = """Array.from(document.querySelectorAll('*')).flatMap(e =>
  Array.from(e.attributes).filter(a => /^(data-|aria-|title$|value$|alt$)/.test(a.name))
    .map(a => a.name + '=' + a.value)
  .concat(Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent)))"""


def _four(value: float) -> str:
    """The page's formatting of a number: 4 significant digits (format.js, formatting.py)."""
    return f"{value:.4g}"


def practice_graph_loaded(page, before: int):
    """After the practice box changed, the graph redrawn (with or without the answers)."""
    wait_until(page, f"window.chainrule.state().loads > {before} && !document.querySelector('#graph.stale')",
               timeout=30)


def submit_answer(page, text: str) -> str:
    """Type an answer with the keyboard, press Enter, and return the server's verdict as shown."""
    page.evaluate("document.getElementById('practice-feedback').textContent = ''")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    wait_until(page, "document.getElementById('practice-feedback').textContent !== ''")
    return page.inner_text("#practice-feedback")


def reveal_answer(page) -> str:
    page.evaluate("document.getElementById('practice-feedback').textContent = ''")
    page.click("#practice-reveal")
    wait_until(page, "document.getElementById('practice-feedback').textContent !== ''")
    return page.inner_text("#practice-feedback")


def _grad_text(page, node_id):
    return page.eval_on_selector(f'#graph [id="{node_id}"]', "g => g.querySelector('text[data-row=grad]').textContent")


def _question(page):
    return re.search(r"∂v2/∂(\w+)\?", page.inner_text("#practice-question")).group(1)


def test_a_practice_link_asks_the_server_reveals_and_scores(page, live_server, artifacts):
    """Opened from a practice link: no gradient in the DOM; v2 right at the first try; v1
    wrong (the rule, no number), then right; x shown with Show me (two uses summed); the score.
    Mutation: drop `p.setGradText(...)` in practice.js apply() (x's row stays "grad: not
    yet" after Show me)."""
    truth = _truth()
    replies = []
    page.on("response", lambda r: "/api/practice/answer" in r.url and replies.append(r.status))
    page.goto(live_server + PRACTICE)
    page.wait_for_selector("#graph svg")
    assert page.is_checked("#practice-toggle")
    said = page.evaluate(WORDS)
    assert not any(re.search(r"\bdata-grad", w) for w in said)
    assert not [w for w in said if _four(truth["x"]) in w]  # (v1's, 0.7, is x's value too)
    assert page.is_visible("#plots .practice-hidden")  # f′ at x would be the last answer
    page.click("h1")
    forward = page.evaluate("window.chainrule.player().state().forward")
    for _ in range(forward):
        page.keyboard.press("ArrowRight")
    assert not page.is_visible("#practice-form")

    page.keyboard.press("ArrowRight")  # backward step 1: the output
    assert page.is_visible("#practice-form") and _question(page) == "v2"
    assert "Right" in submit_answer(page, "1"), page.inner_text("#practice-feedback")
    assert _grad_text(page, "n3") == "grad 1"

    page.keyboard.press("ArrowRight")
    assert _question(page) == "v1"
    said = submit_answer(page, "0.5")
    # Issue 29: the first hint names the rule, with no number that gives the answer away.
    assert said == ("Not quite (0.5). Hint: Upstream gradient × local derivative: "
                    "∂v2/∂v1 = ∂v2/∂v2 × v2's local derivative in v1. Try again, or Show me."), said
    assert _grad_text(page, "n2") == "grad: not yet"  # a wrong answer shows nothing more
    page.fill("#practice-answer", "")
    page.focus("#practice-answer")
    said = submit_answer(page, f"{truth['v1']:.5f}")
    assert said == f"Right: ∂v2/∂v1 = {_four(truth['v1'])}.", said
    assert _grad_text(page, "n2") == f"grad {_four(truth['v1'])}"

    page.keyboard.press("ArrowRight")
    assert _question(page) == "x"
    said = reveal_answer(page)
    # Issue 29: only the reveal gives the product, each use's and their sum.
    assert said.startswith("Shown: ∂v2/∂x = ") and said.endswith(
        f" = {_four(truth['x'])}: upstream gradient × local derivative, summed over the 2 uses of x."), said
    assert _grad_text(page, "n1") == f"grad {_four(truth['x'])}"
    assert page.get_attribute('#graph [id="n1"]', "data-grad") == f"grad {_four(truth['x'])}"
    adjoint = page.inner_text("#tape-n1 td.adjoint")
    assert adjoint.endswith(f"= {_four(truth['x'])}") and "(from v1)" in adjoint, adjoint
    assert f"x.grad = {_four(truth['x'])}" in page.inner_text("#chain")

    state = page.evaluate("window.chainrule.player().state()")
    assert state["index"] == state["steps"]
    assert page.inner_text("#practice-score") == "Score: 1 of 3 right at the first try."
    assert replies == [200, 200, 200, 200]  # one request per answer, none before
    assert math.isclose(truth["x"], math.sin(0.7) + 0.7 * math.cos(0.7), rel_tol=1e-6)
    page.screenshot(path=str(artifacts / "practice_revealed.png"), full_page=False)
    assert page.errors == []


def test_the_practice_box_redraws_the_graph_with_or_without_the_answers(page, live_server):
    """Unticked on a practice page: the graph comes back with every gradient and the URL
    loses practice=1; ticked again: none, and the URL has it. An edit in practice mode
    keeps the answers out too.
    Mutation: drop `editor.requestSubmit()` in practice.js's change handler (the graph
    keeps "grad ?" with the box unticked)."""
    page.goto(live_server + PRACTICE)
    page.wait_for_selector("#graph svg")
    before = page.evaluate("window.chainrule.state().loads")
    page.uncheck("#practice-toggle")
    practice_graph_loaded(page, before)
    assert page.evaluate("document.querySelectorAll('#graph [data-grad]').length") == 3
    assert "practice=1" not in page.url
    before = page.evaluate("window.chainrule.state().loads")
    page.check("#practice-toggle")
    practice_graph_loaded(page, before)
    assert page.evaluate("document.querySelectorAll('#graph [data-grad]').length") == 0
    wait_until(page, "location.search.includes('practice=1')")
    before = page.evaluate("window.chainrule.state().loads")
    page.fill('#inputs input[name="x"]', "0.9")
    page.keyboard.press("Enter")
    practice_graph_loaded(page, before)
    assert page.evaluate("JSON.parse(document.getElementById('graph').dataset.trace).leaves.x.value") == 0.9
    assert page.evaluate("document.querySelectorAll('#graph [data-grad]').length") == 0
    assert "practice=1" in page.url
    assert page.errors == []
