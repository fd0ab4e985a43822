"""Keys after typing (issue 29 item 5): Esc leaves the editor, then → steps at once, without
a click on the graph, also in presenter mode with the code shown; Tab goes through the page
in a sensible order and nothing keeps the focus. Chromium at 1280×720, keystrokes only."""
from __future__ import annotations

import pytest

from tests.test_page_browser import wait_settled, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient(page):
    """The session's first page waits for a cold worker pool on a busy machine."""
    page.set_default_navigation_timeout(120_000)


def _active(page) -> str:
    return page.evaluate("""(() => { const e = document.activeElement;
        return e.id || e.getAttribute('data-action') || e.getAttribute('name') || e.tagName; })()""")


def test_typed_code_then_esc_then_arrows_step_in_presenter_mode(page, live_server, artifacts):
    """Presenter mode, code shown (C), a function typed key by key: Esc leaves the editor
    (presenter mode stays), → and ← step the new graph at once, and the current line follows.
    Mutation: keys.js's typing branch without `leave(target)` on Escape (→ moves the text
    cursor, the player stays at Ready)."""
    page.goto(f"{live_server}/?f=x&x=1")
    page.wait_for_selector("#graph svg")
    page.click("#presenter-toggle")
    page.keyboard.press("c")
    page.click("#source")
    page.keyboard.press("Control+a")
    page.keyboard.type("y = x * 2\nz = torch.sin(y)\nz")
    wait_until(page, "window.chainrule.state().loads >= 2 && window.chainrule.state().steps >= 6", 30)
    wait_settled(page)
    page.keyboard.press("Escape")
    assert _active(page) == "player"
    assert page.evaluate("document.body.classList.contains('presenter')")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_until(page, "window.chainrule.state().index === 3")
    assert page.evaluate("document.getElementById('source').value") == "y = x * 2\nz = torch.sin(y)\nz"
    assert page.inner_text("#step-status").startswith("Forward 3/")
    marked = page.evaluate("document.querySelector('[data-line][aria-current=\"true\"]').dataset.line")
    line = page.evaluate("""(() => { const p = window.chainrule.player();
        return p.trace.nodes.find(n => n.id === p.state().step.node).line; })()""")
    assert int(marked) == line
    page.keyboard.press("ArrowLeft")
    wait_until(page, "window.chainrule.state().index === 2")
    page.screenshot(path=str(artifacts / "keys_presenter_after_esc.png"))
    assert page.errors == []


def test_esc_on_the_normal_page_brings_back_the_graph_typing_scrolled_away(page, live_server):
    """The normal page's editor is below the graph: typing there scrolls the graph off the
    screen, and → after Esc stepped a graph no one saw. Esc brings the player, the graph
    and the panel back into view. Mutation: keys.js's leave() without its scrollIntoView."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{live_server}/?f=x&x=1")
    page.wait_for_selector("#graph svg")
    page.click("#source")
    page.keyboard.press("Control+a")
    page.keyboard.type("y = x * 2\nz = torch.sin(y)\nz")
    wait_until(page, "window.chainrule.state().loads >= 2 && window.chainrule.state().steps >= 6", 30)
    wait_settled(page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # as a long typing leaves it
    assert page.evaluate("document.getElementById('player').getBoundingClientRect().top") < 0
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowRight")
    wait_until(page, "window.chainrule.state().index === 1")
    top = page.evaluate("document.getElementById('player').getBoundingClientRect().top")
    graph = page.evaluate("document.getElementById('graph').getBoundingClientRect().bottom")
    assert 0 <= top and graph <= 720
    assert page.errors == []


def test_tab_goes_through_the_page_and_nothing_keeps_it(page, live_server):
    """From the top, Tab reaches the editor, then the player's buttons, the graph and the
    share box, in that order: every press moves focus to another element, none sticks.
    Mutation: keys.js's typing branch keeping Tab (`if (event.key === "Tab")
    event.preventDefault()`): focus stays in the editor."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    page.evaluate("document.body.focus()")
    seen = []
    for _ in range(160):
        page.keyboard.press("Tab")
        name = _active(page)
        same = page.evaluate("(() => { const same = document.activeElement === window.__lastFocus;"
                             " window.__lastFocus = document.activeElement; return same; })()")
        assert not same, f"focus stuck on {name}: {seen[-5:]}"
        seen.append(name)
        if name == "share-link":
            break
    order = [seen.index(name) for name in ("source", "reset", "forward", "graph", "share-link")]
    assert order == sorted(order), seen
    assert _active(page) == "share-link"
    assert page.errors == []


def test_a_new_input_value_keeps_the_step_a_key_took_while_it_came(page, live_server):
    """x typed anew in its box, Esc, →: the → steps the graph on screen while the new numbers
    are on their way, and the new graph (the same steps) keeps that step; it went back to
    Ready, and the → was lost (a new user's report). A new function still starts at Ready.
    Mutation seen failing: page.js sameSteps() comparing the whole trace only."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    page.click('#inputs input[name="x"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowRight")
    wait_until(page, "JSON.parse(document.getElementById('graph').dataset.trace).leaves.x.value === 2", 30)
    wait_until(page, "window.chainrule.state().loads === 2", 30)
    assert page.evaluate("window.chainrule.state().index") == 1
    assert page.errors == []
