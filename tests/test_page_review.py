"""A new user's review of the page, one test per finding, each typed with keystrokes:
no CSP violation per edit, one plot request per edit, a bad value named as such, a syntax
error's caret under its column, End without scrolling, and plots that follow the dark theme.
"""
from __future__ import annotations

import re
import time

import pytest

from tests.test_dark_theme import hex_of
from tests.test_page_typing import open_blank, type_source, wait_until
from tests.test_themes import contrast

pytestmark = pytest.mark.browser

# What a resize, a script or a browser extension leaves on a form control: style="".
TOUCH_STYLE_JS = """ids => ids.forEach(id => { const e = document.getElementById(id);
  if (e) { e.style.outline = '1px solid'; e.style.outline = ''; } })"""
SETTLED = ["share-link", "practice-link", "embed-code", "image-code", "point-slider", "plot-d2f"]


def typed_edit(page, text):
    """Keys typed at the end of the editor; returns once the new graph is loaded and settled."""
    before = page.evaluate("window.chainrule.state().loads")
    page.click("#source")
    page.keyboard.press("Control+End")
    page.keyboard.type(text)
    wait_until(page, f"window.chainrule.state().loads > {before}", timeout=30)
    page.wait_for_timeout(600)  # settle (htmx's 20 ms) and the plot's fetch


def test_edit_applies_no_inline_style(page, live_server):
    """An edit logs no CSP violation, even when the old controls carry style="".

    Mutation (checked): drop "attributesToSettle" from base.html's htmx-config: htmx copies
    style="" onto the six new controls and Chromium logs six "Applying inline style violates"."""
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    open_blank(page, live_server)
    typed_edit(page, "*x")
    page.evaluate(TOUCH_STYLE_JS, SETTLED)
    assert page.evaluate("ids => ids.filter(id => document.getElementById(id)?.hasAttribute('style')).length",
                         SETTLED) == len(SETTLED)
    typed_edit(page, "+1")
    violations = [m for m in messages if "Content Security Policy" in m or "inline style" in m]
    assert violations == [], violations
    assert page.errors == []


def test_one_plot_request_per_edit(page, live_server):
    """One typed edit, then leaving the editor: one /api/plot.

    Mutation (checked): in plot.js load(), `if (asked.src !== src)` → `if (true)` together
    with dropping page.js's `event.preventDefault()` for a repeated editor request (leaving
    the editor sent the same source again: 2); the old code, a fetch per afterSettle, made 8."""
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/api/plot" in r.url else None)
    open_blank(page, live_server)
    wait_until(page, "!!document.querySelector('#plot-live svg .curve')")
    requests.clear()
    typed_edit(page, "*x")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if "/partials/graph" in r.url else None)
    page.click("h1")  # the editor's change event: htmx sends it again
    page.wait_for_timeout(1500)
    page.wait_for_load_state("networkidle")
    wait_until(page, "document.getElementById('plot-live').dataset.drawn === "
                     "document.getElementById('plot-live').dataset.src")
    assert "sin%28x%29%2Ax" in page.get_attribute("#plot-live", "data-src")
    assert len(posts) == 0  # leaving the editor sends nothing new (page.js: one request per change)
    assert len(requests) == 1, requests


def test_enter_and_leaving_the_editor_draw_the_graph_once(page, live_server):
    """Enter in an input box fires `change` and `submit`; leaving the editor fires `change` for
    text already sent. Each used to redraw the same graph and restart the player.

    Mutation (checked): drop `event.preventDefault();` in page.js's htmx:configRequest
    handler (3 requests, 3 loads)."""
    open_blank(page, live_server)
    typed_edit(page, "*x")
    loads = page.evaluate("window.chainrule.state().loads")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if "/partials/graph" in r.url else None)
    page.click('#inputs input[name="x"]')
    page.keyboard.press("End")
    page.keyboard.press("Enter")  # the same value again: submit
    page.click("h1")              # leave the box and the editor: change
    page.wait_for_timeout(1200)
    assert posts == [] and page.evaluate("window.chainrule.state().loads") == loads
    page.click('#inputs input[name="x"]')
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Enter")  # a new value: change and submit, one request
    wait_until(page, f"window.chainrule.state().loads > {loads}", timeout=30)
    page.wait_for_timeout(800)
    assert len(posts) == 1 and page.evaluate("window.chainrule.state().loads") == loads + 1


@pytest.mark.parametrize("typed, says", [("1e400", "1e400 is too large"), ("nan", "nan is not one"),
                                         ("", "is empty")])
def test_bad_value_names_the_value(page, live_server, typed, says):
    """A refused value in the x box: the status names x's value, not the code.

    Mutation (checked): in page.js errorStatus(), return "Error: the code does not run" always."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    page.click('#inputs input[name="x"]')
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    if typed:
        page.keyboard.type(typed)
    page.keyboard.press("Enter")
    wait_until(page, "window.chainrule.state().stale")
    assert says in page.inner_text("#error .error")
    assert page.inner_text("#step-status") == "Error: check the value of x"


def test_syntax_error_caret_under_its_column(page, live_server, artifacts):
    """`x +* 2`: the panel under the graph shows the line and a caret under the server's column.

    Mutation (checked): in page.js showError(), drop the line appending the cloned
    .error-source: the panel has no <pre> (the old flattened "… x +* 2 ^")."""
    open_blank(page, live_server)
    type_source(page, "x +* 2")
    wait_until(page, "window.chainrule.state().stale")
    column = int(re.search(r"column (\d+)", page.inner_text("#error .error-message")).group(1))
    note = page.inner_text("#stale-note")
    assert "fix the error in the code" in note and "above" not in note
    assert page.eval_on_selector("#chain pre", "p => getComputedStyle(p).fontFamily").lower().find("mono") >= 0
    # The left edge of the caret and of the character at `column` in the line above it.
    lefts = page.eval_on_selector("#chain pre", """(pre, column) => {
      const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT), texts = [];
      while (walker.nextNode()) texts.push(walker.currentNode);
      const node = texts.find(t => t.data.includes('^')), text = node.data, start = text.indexOf('x +* 2');
      const left = i => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                          return r.getBoundingClientRect().left; };
      return [left(start + column - 1), left(text.indexOf('^')), text.slice(start + column - 1, start + column)];
    }""", column)
    assert abs(lefts[0] - lefts[1]) < 1, lefts
    page.locator("#chain").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "review-syntax-caret.png"))


def test_end_key_goes_to_the_end_without_scrolling(page, live_server):
    """End moves the player to its last step and the page stays put; in the editor, End is the editor's.

    Mutation (checked): in page.js keydown, drop `event.preventDefault()`: the page scrolls."""
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    assert page.evaluate("document.documentElement.scrollHeight > window.innerHeight")
    page.click("#source")
    page.keyboard.press("End")
    assert page.evaluate("window.chainrule.state().index") == 0
    page.click("h1")
    page.evaluate("window.scrollTo(0, 0)")
    page.keyboard.press("End")
    time.sleep(0.3)
    state = page.evaluate("window.chainrule.state()")
    assert state["index"] == state["steps"] > 0
    assert page.evaluate("window.scrollY") == 0
    assert "done" in page.inner_text("#step-status")


def test_plots_follow_the_dark_theme(page, live_server, artifacts):
    """With the system dark, the f/f′ plots are painted dark, their labels light and legible.

    Mutation (checked): in dark.css, `.plot-live { background: #ffffff; … }` back: a white block."""
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#plot-live svg .curve", timeout=15000)
    page.locator("#plot-live").scroll_into_view_if_needed()
    colours = page.evaluate("""() => { const box = document.getElementById('plot-live');
      return { bg: getComputedStyle(box).backgroundColor,
               text: getComputedStyle(box.querySelector('svg text')).fill,
               curve: getComputedStyle(box.querySelector('.curve')).stroke }; }""")
    background = hex_of(colours["bg"])
    assert contrast(background, "#ffffff") > 10, background
    assert contrast(hex_of(colours["text"]), background) >= 4.5, colours
    assert contrast(hex_of(colours["curve"]), background) >= 3, colours
    # What is painted, not only what is computed: the plot's middle is mostly dark pixels.
    from PIL import Image
    import io
    shot = Image.open(io.BytesIO(page.locator("#plot-live").screenshot())).convert("L")
    histogram = shot.histogram()
    assert sum(histogram[:80]) / sum(histogram) > 0.8
    page.screenshot(path=str(artifacts / "review-dark-plots.png"))


def test_trace_table_current_row_legible_in_dark(page, live_server):
    """Seen while checking the dark plots: the evaluation trace's current row stayed cream under
    light text. Its text must read at 4.5:1 on what it sits on.

    Mutation (checked): drop dark.css's `.tape-table tr.current` line: contrast 1.05:1."""
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server}/?f=sin(x)*x&x=1")
    page.wait_for_selector("#graph svg")
    page.click("h1")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_until(page, "!!document.querySelector('.tape-table tr.current td')")
    pair = page.eval_on_selector(".tape-table tr.current", """row => {
      const cell = Array.from(row.querySelectorAll('td')).find(c => c.textContent.trim());
      return [getComputedStyle(cell).color, getComputedStyle(row).backgroundColor]; }""")
    assert contrast(hex_of(pair[0]), hex_of(pair[1])) >= 4.5, pair
