"""Practice teaches (issue 29 item 8): the first hint names the rule (upstream × local, a sum
at a fan-out) with no number; the second gives the two factors; only Show me gives the
product; the question and its feedback sit beside the node asked. Driven with keys in
Chromium at 1280×720; the numbers checked are plain torch's, computed here."""
from __future__ import annotations

import re

import pytest
import torch

from .test_page_typing import wait_until
from .test_practice_browser import PRACTICE, _four, reveal_answer, submit_answer
from .test_practice_browser import _truth as gradients_by_torch

pytestmark = pytest.mark.browser


def _truth():
    """y = sin(x)·x at 0.7: the upstream gradients (test_practice_browser's, by plain torch)
    and the local derivatives cos(0.7) and sin(0.7)."""
    return {**gradients_by_torch(), "cos": float(torch.cos(torch.tensor(0.7))),
            "sin": float(torch.sin(torch.tensor(0.7)))}


def _beside(page, node_id) -> float:
    """How far the practice card is from the node's box (0 when they touch), both on screen."""
    card = page.evaluate("document.getElementById('practice-card').getBoundingClientRect().toJSON()")
    node = page.evaluate(f"document.querySelector('#graph [id=\"{node_id}\"]').getBoundingClientRect().toJSON()")
    assert 0 <= card["top"] and card["bottom"] <= 720 and 0 <= card["left"] and card["right"] <= 1280, card
    dx = max(node["left"] - card["right"], card["left"] - node["right"], 0)
    dy = max(node["top"] - card["bottom"], card["top"] - node["bottom"], 0)
    return max(dx, dy)


# How much of the step's consumers (what its highlighted edges reach) and of the player's
# controls the practice card covers, in px² (0: none).
COVERED = """(() => { const card = document.getElementById('practice-card').getBoundingClientRect();
  const ids = new Set(); document.querySelectorAll('#graph .cr-edge.active').forEach(e => ids.add(e.dataset.target));
  const els = Array.from(ids).flatMap(id => Array.from(document.querySelectorAll(
    `#graph [id="${id}"][data-kind], #graph [id="${id}-op"]`))).concat([document.getElementById('player')]);
  return els.reduce((sum, e) => { const r = e.getBoundingClientRect();
    const w = Math.min(card.right, r.right) - Math.max(card.left, r.left), h = Math.min(card.bottom, r.bottom) - Math.max(card.top, r.top);
    return sum + (w > 0 && h > 0 ? w * h : 0); }, 0); })()"""


def test_hints_come_a_level_at_a_time_beside_the_node(page, live_server, artifacts):
    """v1: a first wrong answer gets the rule and no number, a second the two factors, both
    in the card beside v1's box. x (used twice): the rule says it is a sum; Show me alone
    gives the products and their sum. Into the output v2 the factors are the seed and v2's
    local derivative, never ∂v2/∂v2 × ∂v2/∂v1, which read as circular. Mutations: practice.js `const level = quiz.tries === 0
    ? 1 : 2` -> `2` (the first hint has the numbers); place() returning at once (the card
    stays in the Practice box, far below the node); practice.js term() without its output
    case (the circular hint again); place() weighing the step's consumers as any other node
    (the card sat over v1's gradient, a factor of x's)."""
    truth = _truth()
    page.set_default_navigation_timeout(120_000)  # a cold worker pool on a busy machine
    page.goto(live_server + PRACTICE)
    page.wait_for_selector("#graph svg")
    page.click("h1")
    for _ in range(page.evaluate("window.chainrule.player().state().forward") + 1):
        page.keyboard.press("ArrowRight")
    assert "Right" in submit_answer(page, "1")  # v2, the output
    page.keyboard.press("ArrowRight")
    assert page.is_visible("#practice-form") and "∂v2/∂v1?" in page.inner_text("#practice-question")
    assert _beside(page, "n2") <= 16  # the question already sits beside v1
    first = submit_answer(page, "0.5")
    assert first == ("Not quite (0.5). Hint: Upstream gradient × local derivative: "
                     "∂v2/∂v1 = ∂v2/∂v2 × v2's local derivative in v1. Try again, or Show me."), first
    assert not re.search(r"=\s*-?\d", first)
    assert _beside(page, "n2") <= 16
    page.fill("#practice-answer", "")
    page.focus("#practice-answer")
    second = submit_answer(page, "0.6")
    assert second == ("Not quite (0.6). Hint: The factors: ∂v2/∂v2 = 1 (the seed, above) and "
                      f"v2's local derivative in v1 = {_four(0.7)}. Multiply them. Try again, or Show me."), second
    page.screenshot(path=str(artifacts / "practice_hint_beside.png"))
    page.fill("#practice-answer", "")
    page.focus("#practice-answer")
    assert "Right" in submit_answer(page, f"{truth['v1']:.5f}")

    page.keyboard.press("ArrowRight")
    assert "∂v2/∂x?" in page.inner_text("#practice-question")
    rule = submit_answer(page, "3")
    assert rule == ("Not quite (3). Hint: A fan-out: x feeds 2 operations, so its gradient is a sum, one "
                    "upstream gradient × local derivative per use: ∂v2/∂x = ∂v2/∂v1 × ∂v1/∂x + "
                    "∂v2/∂v2 × v2's local derivative in x. Try again, or Show me."), rule
    assert _beside(page, "n1") <= 16
    assert page.evaluate(COVERED) == 0  # v1's and v2's gradients, the factors, stay in sight
    shown = reveal_answer(page)
    products = [f"{_four(truth['v1'])} × {_four(truth['cos'])}", f"1 × {_four(truth['sin'])}"]
    assert shown.startswith("Shown: ∂v2/∂x = " + " + ".join(products) + " = "), shown
    assert shown.endswith(f" = {_four(truth['x'])}: upstream gradient × local derivative, "
                          "summed over the 2 uses of x."), shown
    assert _beside(page, "n1") <= 16
    assert page.evaluate(COVERED) == 0
    page.screenshot(path=str(artifacts / "practice_reveal_beside.png"))
    page.keyboard.press("ArrowLeft")  # stepping on clears the verdict and takes the card back
    wait_until(page, "!document.getElementById('practice-card').classList.contains('beside')")
    assert page.errors == []


def test_the_first_hint_carries_no_local_derivative(client):
    """The server's half: "hint": 1 with a wrong answer leaves out the local derivatives,
    the default (2) keeps them; a reveal alone carries the gradient. Mutation: web/practice.py
    passing `factors=True` always."""
    url = "/api/practice/answer?f=sin(x)*x&x=0.7"
    first = client.post(url, json={"node": "n1", "answer": 3, "hint": 1}).get_json()
    assert first["right"] is False and all(set(e) == {"index", "source", "target", "carried"} for e in first["edges"])
    second = client.post(url, json={"node": "n1", "answer": 3, "hint": 2}).get_json()
    truth = _truth()  # x's two uses: sin(x), local cos(x); sin(x)·x, local sin(x)
    assert sorted(e["local_grad"] for e in second["edges"]) == pytest.approx(sorted([truth["cos"], truth["sin"]]), rel=1e-6)
    assert "grad" not in first and "grad" not in second
    assert client.post(url, json={"node": "n1", "answer": 3, "hint": 3}).status_code == 400


def test_after_a_seed_of_2_practice_asks_for_adjoints(page, live_server):
    """x·w with grad_output 2: the pass carries 2 · ∂v1/∂x, so practice asks for v̄1 and x̄,
    never ∂v1/∂x (a false question), and its hints and its reveal use the same names; the
    numbers are plain torch's. Mutations seen failing: practice.js derivatives() returning true
    (the questions read ∂v1/∂v1 and ∂v1/∂x again); score() saying "right so far" again."""
    x = torch.tensor(3.0, requires_grad=True)
    (x * 0.5).backward(torch.tensor(2.0))
    page.set_default_navigation_timeout(120_000)
    page.goto(live_server + "/?f=x*w&x=3&w=0.5&grad_output=2&practice=1")
    page.wait_for_selector("#graph svg")
    page.click("h1")
    for _ in range(page.evaluate("window.chainrule.player().state().forward") + 1):
        page.keyboard.press("ArrowRight")
    assert "what is v̄1?" in page.inner_text("#practice-question")
    assert "Right" in submit_answer(page, "2")
    # the running score counts first tries, as the final one says (a new user read 0 of 1
    # right after a right second try)
    assert page.inner_text("#practice-score") == "1 of 1 right at the first try so far (3 questions in all)."
    page.keyboard.press("ArrowRight")
    assert "what is x̄?" in page.inner_text("#practice-question")
    hint = submit_answer(page, "7")
    assert "x̄ = v̄1 × v1's local derivative in x." in hint and "∂" not in hint, hint
    shown = reveal_answer(page)
    assert shown.startswith(f"Shown: x̄ = 2 × 0.5 = {x.grad.item():g}"), shown
    assert page.errors == []
