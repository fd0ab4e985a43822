"""The current line (issue 29, static/js/code_line.js): the code view marks the source line
of the current step, and follows the player. The marked element carries data-line="N" and
aria-current="true" (docs/api.md's contract), N the step's node's own `line` in the trace."""
from __future__ import annotations

import urllib.parse

import pytest

from tests import r_seeds
from tests.seeds import SEED001_QUADRATIC
from tests.test_page_browser import wait_until

MARKED = '[data-line][aria-current="true"]'


@pytest.fixture(autouse=True)
def _patient(page):
    """The session's first page waits for a cold worker pool on a busy machine."""
    page.set_default_navigation_timeout(120_000)


def _marked(page) -> list[int]:
    return page.evaluate(f"Array.from(document.querySelectorAll('{MARKED}')).map(e => +e.dataset.line)")


def _step_line(page):
    """The current step's node's `line`, read from the trace the page carries."""
    return page.evaluate("""(() => { const p = window.chainrule.player(), s = p.state().step;
        if (!s) return null; const n = p.trace.nodes.find(n => n.id === s.node);
        return typeof n.line === 'number' && n.line > 0 ? n.line : null; })()""")


def _walk(page, steps):
    """Step with → through the whole animation; at each step the marked line is the step's."""
    seen = set()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
        line = _step_line(page)
        assert _marked(page) == ([line] if line else []), page.evaluate("window.chainrule.state()")
        seen.add(line)
    return seen


def test_the_editor_marks_the_line_of_each_step_in_presenter_mode(page, live_server, artifacts):
    """Typed with keystrokes, stepped with keys, in presenter mode with the code shown (C):
    every step marks its own line, and the marked band lies on that line of the editor.
    Mutation: code_line.js's lineOf returning node.line + 1: the marked line is the next one."""
    page.goto(f"{live_server}/?f=x&x=1")
    page.wait_for_selector("#graph svg")
    page.click("#source")
    page.keyboard.press("Control+a")
    page.keyboard.type("x1 = torch.tensor(2.0, requires_grad=True)\nx2 = torch.tensor(2.0, requires_grad=True)\n")
    page.keyboard.type("x3 = x1.square(); x5 = x3 * 0.2\nx4 = x2.square(); x6 = x4 * 0.2\nx7 = x5 + x6 - 5")
    wait_until(page, "window.chainrule.state().steps > 8 && !document.querySelector('.htmx-request')", 30)
    page.keyboard.press("Escape")
    page.click("#presenter-toggle")
    page.keyboard.press("c")
    assert page.evaluate("document.body.classList.contains('show-code')")
    assert _marked(page) == []  # before the first step
    steps = page.evaluate("window.chainrule.state().steps")
    seen = _walk(page, steps)
    assert seen == {None, 3, 4, 5}  # the leaves x1, x2 carry no line in the trace
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    line = _step_line(page)
    # The copy wraps as the editor does (same text height), and the band is inside the editor.
    heights = page.evaluate("[document.getElementById('code-mirror').scrollHeight, document.getElementById('source').scrollHeight]")
    assert abs(heights[0] - heights[1]) < 2, heights
    band = page.evaluate(f"document.querySelector('#code-mirror {MARKED}').getBoundingClientRect().toJSON()")
    box = page.evaluate("document.getElementById('source').getBoundingClientRect().toJSON()")
    assert box["top"] <= band["top"] and band["bottom"] <= box["bottom"] and line == 3
    page.screenshot(path=str(artifacts / "current_line_presenter.png"))
    assert page.errors == []


def test_the_embed_listing_marks_the_line(page, live_server, artifacts):
    """/embed?code=1: the listing's lines, the step's one marked; step=N opens marked.
    Mutation: code_line.js not splitting the embed's listing (listing() returning null)."""
    query = urllib.parse.urlencode({"f": SEED001_QUADRATIC, "code": "1", "step": "3"})
    page.goto(f"{live_server}/embed?{query}")
    page.wait_for_selector("#graph svg")
    wait_until(page, "window.chainrule.state().index === 3")
    assert _marked(page) == [_step_line(page)]
    assert page.evaluate("document.querySelectorAll('.embed-code [data-line]').length") == 5
    page.focus("#graph")
    _walk(page, page.evaluate("window.chainrule.state().steps") - 3)
    page.screenshot(path=str(artifacts / "current_line_embed.png"))
    assert page.errors == []


def test_an_r_program_marks_its_own_lines(page, live_server):
    """R: the marked line is the R source's (the trace's `line` for an R program), within it."""
    source = r_seeds.SEED001_CREATE + r_seeds.SEED001_NODES
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": source}))
    page.wait_for_selector("#graph svg")
    page.keyboard.press("ArrowRight")
    seen = _walk(page, page.evaluate("window.chainrule.state().steps") - 1)
    lines = source.split("\n")
    for line in seen - {None}:
        assert lines[line - 1].strip(), (line, lines)
    assert page.errors == []


def test_a_practice_link_opened_past_a_question_marks_the_step_it_stops_at(page, live_server):
    """A practice link at step=10: practice stops before its first question (Forward 3/3, the
    output, line 1), and the line marked is that step's, not the one the link asked for.
    Mutation: code_line.js reading the event's step (`event.detail.node`) instead of the
    player's: the older event, at the last step (x, no line), clears the mark."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=0.7&practice=1&step=10")
    page.wait_for_selector("#graph svg")
    wait_until(page, "window.chainrule.state().index === 3")
    assert _marked(page) == [1] == [_step_line(page)]
    assert page.errors == []
