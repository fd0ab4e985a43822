"""Issue 29's layout, read from the geometry at 1280×720: presenter mode holds the whole step
(every line of the explanation on the screen, node text ≥ 20 px, whole graph ≥ 14 px, a
legible legend, an outline that covers no text), the normal page never scrolls itself while
stepping, tensor boxes stay under a third of the graph, notes beside the code never cut it,
and embeds with code=1 fit a 600 px frame. Each test types with the keyboard and steps with
keys; its docstring names the one-line mutation seen failing it.
"""
from __future__ import annotations

import time
import urllib.parse

import pytest

from tests import r_seeds, seeds
from tests.test_page_typing import open_blank, type_source, wait_until

pytestmark = pytest.mark.browser

LOG_SIN = "log(x**2)*sin(x) + 1/x"
TENSOR = "x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)\ny = (x * 2.5).sin()\ny.sum()"
NOTE_ON_6 = ("x = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\nz = y * 3\n"
             "w = z + 1\nw.backward()\nz.grad\nw")

# The smallest node text on the screen in CSS px: the SVG font size times the drawing's scale.
NODE_TEXT = """(() => { const svg = document.querySelector('#graph svg'), scale = svg.getScreenCTM().a;
  return Math.min(...Array.from(svg.querySelectorAll('g.node text')).filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale)); })()"""
# Every line of the explanation inside the viewport, and the panel not scrolled.
EXPLANATION = """(() => { const chain = document.getElementById('chain');
  const range = document.createRange(); range.selectNodeContents(chain);
  const rects = Array.from(range.getClientRects()).filter(r => r.height > 0 && r.width > 0);
  return { lines: rects.length, top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom)),
           height: innerHeight, hidden: chain.scrollHeight - chain.clientHeight,
           text: chain.innerText }; })()"""
# The current step's outline (a stroke of 3 px or more) against its node's texts: the gap
# between the stroke's inner edge and each text's box (negative: the stroke covers it).
OUTLINE_GAP = """(() => { const g = document.querySelector('#graph .st-current'); if (!g) return 99;
  const scale = document.querySelector('#graph svg').getScreenCTM().a; let gap = 99;
  for (const s of g.querySelectorAll('polygon, path, ellipse')) {
    const style = getComputedStyle(s), width = parseFloat(style.strokeWidth);
    if (!(width >= 3) || style.stroke === 'none' || style.stroke === 'transparent') continue;
    const w = width * scale / 2, r = s.getBoundingClientRect();
    for (const t of g.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      const q = t.getBoundingClientRect();
      if (q.right < r.left || q.left > r.right || q.bottom < r.top || q.top > r.bottom) continue;
      gap = Math.min(gap, q.left - (r.left + w), (r.right - w) - q.right, q.top - (r.top + w), (r.bottom - w) - q.bottom);
    } }
  return gap; })()"""


@pytest.fixture(autouse=True)
def _patient(page):
    """A first page waits for the worker pool's start on a busy machine (no timing asserted)."""
    page.set_default_timeout(120_000)


def _typed(page, live_server, source, inputs=(), ready="true"):
    """Type the program (and each input) with the keyboard; wait until its trace `t` is
    drawn and `ready` (a JS condition on t, told apart from the blank page's sin(x)) holds."""
    open_blank(page, live_server)
    type_source(page, source)
    for name, value in inputs:
        field = f'#inputs input[name="{name}"]'
        wait_until(page, f"!!document.querySelector('{field}')", 30)
        page.click(field)
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
        page.keyboard.press("Enter")
        ready += f" && !!t.leaves['{name}'] && JSON.stringify(t.leaves['{name}'].value) === JSON.stringify({value})"
    wait_until(page, "(() => { const g = document.getElementById('graph');"
                     " if (!g || !g.dataset.trace || g.classList.contains('stale')) return false;"
                     f" const t = JSON.parse(g.dataset.trace); return {ready}; }})()", 30)
    page.evaluate("document.activeElement.blur()")


def _presenter(page):
    page.click("#presenter-toggle")
    wait_until(page, "document.body.classList.contains('presenter')")


def _step_all(page, check):
    """→ through every step; `check(index)` after each (a frame later: the panel writes it)."""
    total = page.evaluate("window.chainrule.state().steps")
    for index in range(1, total + 1):
        page.keyboard.press("ArrowRight")
        wait_until(page, f"window.chainrule.state().index === {index}")
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        check(index)
    return total


@pytest.mark.parametrize("case", ["log-sin", "rosenbrock"])
def test_presenter_holds_every_line_of_every_step(page, live_server, artifacts, case):
    """At the three-way fan-out of log(x**2)*sin(x) + 1/x (and every step of Rosenbrock) the
    heading, each contribution, the sum and `.grad` are all inside the 720 px screen, the
    explanation is not scrolled, node text is ≥ 20 px, the legend ≥ 14 px, and no outline
    covers a node's text. Mutations seen failing: presenter.js sizeStage() not reserving the
    explanation's height (`chain.style.minHeight = ""` only, graph at 30% as before): the
    fan-out's heading leaves the screen; chainrule.css's current-step rule back on
    `a > polygon:first-of-type` (the label table's polygon): the outline covers the text."""
    if case == "log-sin":
        _typed(page, live_server, LOG_SIN, [("x", "2")])
    else:
        _typed(page, live_server, seeds.SEED001_ROSENBROCK, [("x", "[-1.0, 1.0]")])
    _presenter(page)
    seen = {}

    def check(index):
        shown = page.evaluate(EXPLANATION)
        assert shown["top"] >= 0 and shown["bottom"] <= shown["height"] and shown["hidden"] <= 1, (index, shown)
        assert page.evaluate(NODE_TEXT) >= 19.9, index
        assert page.evaluate(OUTLINE_GAP) >= 0, index
        seen[index] = shown

    total = _step_all(page, check)
    fan_out = max(seen.values(), key=lambda s: s["lines"])
    assert "sums" in fan_out["text"] and ".grad = " in fan_out["text"], fan_out["text"]
    if case == "log-sin":
        assert "sums 3 contributions" in seen[total]["text"] and seen[total]["text"].startswith("Backward")
    legend = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.graph-panel .legend-values')).fontSize)")
    assert legend >= 14, legend
    page.screenshot(path=str(artifacts / f"presenter-fit-{case}.png"))
    page.keyboard.press("Escape")
    wait_until(page, "!document.body.classList.contains('presenter')")
    assert page.errors == []


# The current step's highlighted edges (a backward step's: on to every consumer) and the
# circles of the operations they reach, against the graph panel: how far the farthest one
# reaches outside it, in px (0 or less: all inside).
EDGES_OUTSIDE = """(() => { const view = document.getElementById('graph').getBoundingClientRect();
  const active = Array.from(document.querySelectorAll('#graph .cr-edge.active'));
  const circles = active.map(e => document.querySelector('#graph [id="' + e.dataset.target + '-op"]')).filter(c => c);
  const rects = active.concat(circles).map(e => e.getBoundingClientRect());
  return { edges: active.length, circles: new Set(circles).size,
           outside: Math.max(0, ...rects.map(r => Math.max(view.top - r.top, r.bottom - view.bottom,
                                                           view.left - r.left, r.right - view.right))) }; })()"""


def test_the_fan_out_keeps_every_consumer_in_the_strip(page, live_server, artifacts):
    """At 1280×720 x's step of log(x**2)*sin(x) + 1/x has 12 lines of explanation and leaves
    the graph a strip; x's three edges and the circles they reach, x², sin and 1/x, are all
    inside it (the top one was cut), and the legend of kinds stays. Mutations seen failing: player.js reveal()
    ignoring the step's edges (`edges || []` → `[]`); chainrule.css's presenter-tight rule
    removed (the strip is too low for the three)."""
    _typed(page, live_server, LOG_SIN, [("x", "2")])
    _presenter(page)
    total = page.evaluate("window.chainrule.state().steps")
    for index in range(1, total + 1):
        page.keyboard.press("ArrowRight")
        wait_until(page, f"window.chainrule.state().index === {index}")
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert "sums 3 contributions" in page.inner_text("#chain")
    edges = page.evaluate(EDGES_OUTSIDE)
    assert edges["circles"] == 3 and edges["outside"] <= 1, edges
    assert page.is_visible(".graph-panel .legend-values")
    page.screenshot(path=str(artifacts / "presenter-fan-out-strip.png"))
    assert page.errors == []


def test_whole_graph_keeps_node_text_at_14_px(page, live_server, artifacts):
    """0 (whole graph) on seed 002's network: node text stays ≥ 14 px and the graph scrolls,
    following the step; 0 again is readable (≥ 20 px). Mutation seen failing: drop the
    floorWhole() call in presenter.js toggleWhole() (text 5 px)."""
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": seeds.SEED002_NETWORK}))
    page.wait_for_selector("#graph svg")
    _presenter(page)
    page.keyboard.press("0")
    assert page.evaluate("document.body.dataset.fit") == "whole"
    assert page.evaluate(NODE_TEXT) >= 13.9
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.evaluate(NODE_TEXT) >= 13.9
    page.screenshot(path=str(artifacts / "presenter-fit-whole.png"))
    page.keyboard.press("0")
    assert page.evaluate(NODE_TEXT) >= 19.9
    assert page.errors == []


def test_the_normal_page_never_scrolls_away_from_the_controls(page, live_server):
    """On the normal page, scrolled so that the player is at the top, stepping through the
    fan-out (its explanation grows from 2 to 12 lines) leaves the window where it was.
    Mutation seen failing: drop `html { overflow-anchor: none; }` (the window scrolls with
    the panel's growth, the player ends 240 px above the screen)."""
    _typed(page, live_server, LOG_SIN, [("x", "2")])
    page.evaluate("window.scrollTo(0, document.getElementById('player').getBoundingClientRect().top + scrollY - 8)")
    before = page.evaluate("scrollY")
    page.focus("#player")

    def check(index):
        top = page.evaluate("document.getElementById('player').getBoundingClientRect().top")
        assert page.evaluate("scrollY") == before and 0 <= top <= 720, (index, top)

    _step_all(page, check)


@pytest.mark.parametrize("mode", ["page", "presenter"])
def test_tensor_boxes_stay_under_a_third_of_the_graph(page, live_server, mode):
    """A [2×3] tensor's boxes (about 1,100 px wide before) are each at most a third of the
    graph's width; they show the shape and the first entries, and the panel all six.
    Mutations seen failing: render.ROW_CHARS = 1000 (the whole six entries: 606 px at 20 px);
    render.HASH_SHARE = 1 (a box as wide as its placeholder of `#`)."""
    _typed(page, live_server, TENSOR, ready="t.nodes.some(n => (n.shape || []).length === 2)")
    if mode == "presenter":
        _presenter(page)
    # A late swap of the typed graph (its page re-sent) can land after End and start a new
    # player at Ready (once, in CI): End again until the panel holds the last step.
    deadline = time.monotonic() + 60
    while page.inner_text("#chain").count(",") < 5 and time.monotonic() < deadline:
        page.keyboard.press("End")
        time.sleep(0.3)
    wait_until(page, "window.chainrule.state().index === window.chainrule.state().steps")
    widths = page.evaluate("""(() => { const g = document.getElementById('graph');
      return { graph: g.clientWidth, boxes: Array.from(g.querySelectorAll('g.node[data-kind]'))
        .map(n => n.getBoundingClientRect().width) }; })()""")
    assert max(widths["boxes"]) <= widths["graph"] / 3 + 1, widths
    leaf = page.evaluate("document.querySelector('#graph g.node[data-kind=\"leaf\"]').getAttribute('data-grad')")
    assert leaf.startswith("grad [2×3] (") and leaf.endswith(", …)"), leaf
    assert page.inner_text("#chain").count(",") >= 5  # the panel: every entry of x.grad
    assert page.errors == []


def test_a_note_beside_line_6_neither_covers_nor_cuts_the_code(page, live_server, artifacts):
    """A note (non-leaf .grad) on line 6 of a program whose line 1 is
    `x = torch.arange(4.0, requires_grad=True)`: the code is not cut (no horizontal scroll),
    the note's marker is right of the editor and level with line 6 (within half a line), and
    focused (Tab reaches it) it opens beside the code, not over it, with its whole sentence.
    Mutation seen failing: explain.css's margin column back to `11rem` (the editor scrolls:
    `torch.arange(4.0, requires_` is cut)."""
    _typed(page, live_server, NOTE_ON_6, ready="(t.guards || []).some(g => g.line === 6)")
    page.wait_for_selector('aside.guard[data-line="6"]')
    geometry = """(() => { const e = document.getElementById('source'), s = getComputedStyle(e);
      const r = e.getBoundingClientRect(), lh = parseFloat(s.lineHeight);
      const b = document.querySelector('aside.guard[data-line="6"]').getBoundingClientRect();
      return { cut: e.scrollWidth - e.clientWidth, editorRight: r.right, left: b.left, width: b.width,
               lh: lh, centre: (b.top + b.bottom) / 2,
               line: r.top + parseFloat(s.borderTopWidth) + parseFloat(s.paddingTop) + lh * 5.5 - e.scrollTop }; })()"""
    page.evaluate("document.getElementById('source').scrollTop = 0")
    wait_until(page, f"(() => {{ const m = {geometry}; return Math.abs(m.centre - m.line) <= m.lh / 2; }})()")
    closed = page.evaluate(geometry)
    assert closed["cut"] <= 0, closed
    assert closed["left"] >= closed["editorRight"] and abs(closed["centre"] - closed["line"]) <= closed["lh"] / 2, closed
    page.focus('aside.guard[data-line="6"]')
    opened = page.evaluate(geometry)
    assert opened["left"] >= opened["editorRight"] and opened["width"] > 200, opened
    text = page.inner_text('aside.guard[data-line="6"]')
    assert "retain_grad" in text, text
    page.screenshot(path=str(artifacts / "note-beside-line-6.png"))
    assert page.errors == []


@pytest.mark.parametrize("width", [600, 800])
def test_an_r_embed_with_its_code_fits_its_frame(page, live_server, artifacts, width):
    """The R seed's embed with code=1 in a 600 px (and an 800 px) frame: nothing is wider than
    the frame, no code line is cut, the graph keeps the frame's width (the code goes below
    it), the first leaf's box is whole inside the graph's view, its text ≥ 14 px. Mutation
    seen failing: embed.css's `@media (min-width: 1000px)` for the code beside the graph back
    to 760px (at 800 px the graph shrinks to 518 px beside the code)."""
    page.set_viewport_size({"width": width, "height": 700})
    source = r_seeds.SEED001_CREATE + r_seeds.SEED001_NODES
    page.goto(f"{live_server}/embed?" + urllib.parse.urlencode({"f": source, "code": "1"}))
    page.wait_for_selector("#graph svg")
    seen = page.evaluate("""(() => { const code = document.querySelector('.embed-code');
      const g = document.getElementById('graph').getBoundingClientRect();
      const leaf = document.querySelector('#graph g.node[data-kind="leaf"], #graph g.node[data-kind="input"]').getBoundingClientRect();
      return { page: document.documentElement.scrollWidth, cut: code.scrollWidth - code.clientWidth,
               codeRight: code.getBoundingClientRect().right, graph: g.width,
               leaf: leaf.left >= g.left && leaf.right <= g.right }; })()""")
    assert seen["page"] <= width and seen["cut"] <= 0 and seen["codeRight"] <= width and seen["leaf"], seen
    assert seen["graph"] >= width * 0.9, seen
    assert page.evaluate(NODE_TEXT) >= 13.9
    page.screenshot(path=str(artifacts / f"embed-r-code-{width}.png"), full_page=True)
    assert page.errors == []
