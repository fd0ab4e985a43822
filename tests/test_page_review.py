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
