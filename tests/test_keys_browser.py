"""One key dispatcher (static/js/keys.js): a typing field first, then the focused element,
the mode (presenter, embed), and the player last; the first that takes a key keeps it."""
from __future__ import annotations

import time

from tests.test_page_browser import wait_until


def _index(page) -> int:
    return page.evaluate("window.chainrule.state().index")


def test_the_editor_keeps_its_arrows_and_esc_hands_them_to_the_player(page, live_server):
    """In the editor ← moves the text cursor, never the player; Esc leaves the editor for the
    player's bar, and → then steps. Mutation: keys.js's Escape branch not calling leave():
    focus stays in the editor and → moves the cursor."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    page.click("#source")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.getElementById('source').selectionStart") == len("sin(x)*x") - 1
    assert _index(page) == 0
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "player"
    page.keyboard.press("ArrowRight")
    wait_until(page, "window.chainrule.state().index === 1")
    assert page.evaluate("document.getElementById('source').value") == "sin(x)*x"
    assert page.errors == []


def test_esc_ends_the_walk_before_it_leaves_presenter_mode(page, live_server):
    """Walking the graph's nodes in presenter mode, the first Esc ends the walk (the focused
    element's key) and presenter mode stays; the second leaves it (the mode's). Before keys.js
    both listeners took the first Esc. Mutation: keys.js going on to the next handler after
    one took the key (no `return`): presenter mode ends at the first Esc."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    page.click("#presenter-toggle")
    assert page.evaluate("document.body.classList.contains('presenter')")
    page.focus("#graph")
    page.keyboard.press("]")
    assert page.evaluate("window.chainruleWalk.state().at") == 0
    page.keyboard.press("Escape")
    assert page.evaluate("window.chainruleWalk.state().at") == -1
    time.sleep(0.3)  # a second listener would have acted by now
    assert page.evaluate("document.body.classList.contains('presenter')")
    page.keyboard.press("Escape")
    wait_until(page, "!document.body.classList.contains('presenter')")
    assert page.errors == []


def test_the_player_steps_the_servers_steps(page, live_server):
    """The player takes trace.steps as the server built them, a folded box's repetition with
    them (no step builder in the page). Mutation: player.js keeping only forward steps
    (`trace.steps.filter(s => s.phase === "forward")`)."""
    source = "y = x\nfor i in range(12):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"
    import urllib.parse
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": source, "x": "0.5", "fold": "1"}))
    page.wait_for_selector("#graph svg")
    served = page.evaluate("JSON.parse(document.getElementById('graph').dataset.trace).steps")
    assert any("repetition" in s for s in served)
    assert page.evaluate("window.chainrule.player().steps") == served
    assert page.evaluate("window.chainrule.state().steps") == len(served)


def test_esc_on_a_select_hands_the_arrows_back_to_the_player(page, live_server):
    """On forward mode's seed-direction select ↓ picks an option, as a select does; Esc leaves
    it for the player's bar (it kept the focus, and → went on changing the direction).
    Mutation seen failing: keys.js's Escape branch for a <select> removed."""
    page.goto(f"{live_server}/?f=x*y&x=1&y=2")
    page.wait_for_selector("#graph svg")
    page.check("#forward-toggle")
    wait_until(page, "!document.getElementById('forward-direction').disabled"
                     " && document.getElementById('forward-direction').options.length === 2")
    page.focus("#forward-direction")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "player"
    before = page.evaluate("document.getElementById('forward-direction').value")
    page.keyboard.press("ArrowRight")
    wait_until(page, "window.chainrule.state().index === 1")
    assert page.evaluate("document.getElementById('forward-direction').value") == before
    assert page.errors == []
