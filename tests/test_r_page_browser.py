"""An R lesson on the page in real Chromium: the badge, the Python it became, R names."""
from __future__ import annotations

import time

import pytest

from webapp.web.examples import BY_SLUG

pytestmark = pytest.mark.browser


def test_r_example_shows_badge_translation_and_r_names(page, live_server):
    """Mutation: dropping the include from _update.html leaves the badge of the previous
    source after typing (the second assertion block fails)."""
    page.goto(f"{live_server}/?{BY_SLUG['r-quadratic'].query}")
    page.wait_for_selector("#graph svg")
    assert "read as R torch" in page.inner_text("#translation")
    page.click("details.translation summary")
    assert "x3 = x1.square()" in page.inner_text("details.translation pre")
    labels = page.eval_on_selector_all("#graph svg g[id^=n] text",
                                       "ts => ts.map(t => t.textContent)")
    assert {"x1", "x3", "x7"} <= set(labels)
    page.fill("textarea[name=f]", "sin(x) * x")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "R torch" in page.inner_text("#translation"):
        time.sleep(0.1)
    assert "R torch" not in page.inner_text("#translation")
    assert not page.errors
