"""A wide graph in an embed: readable and following the step, or the whole graph (0, the
button, ?fit=whole); an unfolded loop opens on its first step (review3: the embed showed the
graph cropped with no fit control, and Unfold opened on an empty corner of the drawing)."""
from __future__ import annotations

import urllib.parse

import pytest

from .test_page_typing import wait_until

pytestmark = pytest.mark.browser

WIDE = urllib.parse.urlencode({"f": "log(x**2)*sin(x) + 1/x", "x": 2})
LOOP = urllib.parse.urlencode({"f": "y = x\nfor i in range(30):\n    y = torch.sin(y) * x\ny",
                               "x": 0.5, "fold": 0})
MEASURE = """(() => { const g = document.getElementById('graph'), box = g.getBoundingClientRect();
  const svg = g.querySelector('svg').getBoundingClientRect();
  const texts = Array.from(g.querySelectorAll('g.node text')).map(t => t.getBoundingClientRect().height);
  return { text: Math.min(...texts.filter(h => h > 0)), fits: svg.width <= box.width + 1,
           scrolls: g.classList.contains('scrolls') }; })()"""


def test_a_wide_graph_switches_between_readable_and_whole(page, live_server):
    """Mutation seen failing: drop the `0` key branch in embed.js (the key does nothing)."""
    page.set_viewport_size({"width": 800, "height": 600})  # a course page's iframe
    page.goto(f"{live_server}/embed?{WIDE}")
    page.wait_for_selector("#graph svg")
    readable = page.evaluate(MEASURE)
    assert readable["text"] >= 14 and readable["scrolls"] and not readable["fits"], readable
    page.click("#graph")
    page.keyboard.press("0")
    whole = page.evaluate(MEASURE)
    assert whole["fits"] and not whole["scrolls"], whole
    assert page.inner_text("#fit-toggle") == "Readable size (0)"
    page.click("#fit-toggle")
    assert page.evaluate(MEASURE) == readable
    assert page.get_attribute("#fit-toggle", "aria-pressed") == "false"
    assert page.errors == []


def test_fit_whole_opens_with_the_whole_graph(page, live_server):
    """Mutation seen failing: drop data-fit from embed.html's <main>."""
    page.set_viewport_size({"width": 800, "height": 600})
    page.goto(f"{live_server}/embed?{WIDE}&fit=whole")
    page.wait_for_selector("#graph svg")
    assert page.evaluate(MEASURE)["fits"]


def test_an_unfolded_loop_opens_on_its_first_step(page, live_server):
    """The drawing is 20,000 px wide; before any step the view shows the first step's node,
    at a readable size. Mutations seen failing: drop the `reveal(steps[0].node)` branch of
    player.js fit() (the view opens on an empty corner); drop embed.css's
    `.graph.scrolls svg { max-height: none }` (text 8 px)."""
    page.set_viewport_size({"width": 800, "height": 600})
    page.goto(f"{live_server}/embed?{LOOP}")
    page.wait_for_selector("#graph svg")
    wait_until(page, "document.getElementById('graph').classList.contains('scrolls')")
    first = page.evaluate("window.chainrule.player().steps[0].node")
    seen = page.evaluate("""(id) => { const g = document.getElementById('graph').getBoundingClientRect();
      const r = document.querySelector('#graph [id="' + id + '"][data-kind]').getBoundingClientRect();
      const t = document.querySelector('#graph [id="' + id + '"][data-kind] text').getBoundingClientRect();
      return { inside: r.left >= g.left && r.right <= g.right && r.top >= g.top && r.bottom <= g.bottom,
               text: t.height }; }""", first)
    assert seen["inside"] and seen["text"] >= 14, seen


def test_an_embed_of_a_program_without_inputs_raises_no_script_error(page, live_server):
    """review4: every /embed of a program with no inputs logged "Cannot set properties of
    null" from forward_mode.js (the embed has no forward-mode box). Mutation seen failing:
    `el("forward-toggle").checked = false` without the null check."""
    source = "x = torch.tensor(2.0, requires_grad=True)\ny = x * x\ny"
    page.goto(f"{live_server}/embed?" + urllib.parse.urlencode({"f": source}))
    page.wait_for_selector("#graph svg")
    page.keyboard.press("End")
    assert page.errors == []
