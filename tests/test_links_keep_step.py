"""Links keep everything (issue 29 item 4, static/js/links.js): the page's URL carries the
step and every mode (forward mode and its direction, practice, view, fold, theme), rewritten
with history.replaceState on every change; the share link, the embed code and a reload land
on the same screen. Driven with keys in Chromium at 1280×720."""
from __future__ import annotations

import html
import re
import urllib.parse

import pytest

from tests.test_page_browser import wait_settled, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient(page):
    """The session's first page waits for a cold worker pool on a busy machine."""
    page.set_default_navigation_timeout(120_000)


def _status(page) -> str:
    return page.inner_text("#step-status")


def _params(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def _open(page, url: str, steps: int | None = None):
    page.goto(url)
    page.wait_for_selector("#graph svg")
    if steps is not None:
        wait_until(page, f"window.chainrule.state().index === {steps}")


def test_share_link_embed_code_and_reload_reopen_backward_5(page, live_server, browser, artifacts):
    """Stepped to Backward 5 with →: the address, the share link and the embed code carry
    its step; a reload, the share link and the embed all show the same status. Back to the start
    (Home), the step leaves the URL. Mutation: links.js's current() never setting `step`
    (the reload opens at Ready)."""
    _open(page, f"{live_server}/?f=x1*x2%2Bsin(x1)&x1=1&x2=2")
    page.click("h1")
    state = page.evaluate("window.chainrule.state()")
    forward = page.evaluate("window.chainrule.player().state().forward")
    for _ in range(forward + 5):
        page.keyboard.press("ArrowRight")
    status = _status(page)
    assert status.startswith("Backward 5/"), status
    index = forward + 5
    assert _params(page.url)["step"] == str(index)
    share = page.input_value("#share-link")
    assert _params(share)["step"] == str(index) and share.startswith(live_server + "/?")
    code = page.input_value("#embed-code")
    src = html.unescape(re.search(r'<iframe src="([^"]*)"', code).group(1))
    assert _params(src)["step"] == str(index)

    page.reload()
    page.wait_for_selector("#graph svg")
    wait_until(page, f"window.chainrule.state().index === {index}")
    assert _status(page) == status

    other = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    _open(other, share, index)
    assert _status(other) == status
    _open(other, src, index)  # the embed the code frames
    assert _status(other) == status
    other.context.close()

    page.click("h1")
    page.keyboard.press("Home")
    assert "step" not in _params(page.url) and "step" not in _params(page.input_value("#share-link"))
    assert state["steps"] >= index
    assert page.errors == []


def test_forward_mode_and_its_direction_survive_a_reload(page, live_server, artifacts):
    """Forward mode on, seeded along x2, stepped to Forward 3: the URL says forward=x2 and
    step=3; reloaded, forward mode is on along x2 at Forward 3, its tangents shown there (not
    replayed from the start). Mutation: forward_mode.js ignoring ?forward= on the first
    graph (`const wanted = null`): the reload opens without tangents."""
    _open(page, f"{live_server}/?f=x1*x2%2Bsin(x1)&x1=1&x2=2")
    page.check("#forward-toggle")
    page.select_option("#forward-direction", "x2")
    wait_until(page, "document.querySelectorAll('#graph text.cr-tangent').length > 0", 30)
    page.click("#player button[data-action=reset]")
    page.click("h1")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    status = _status(page)
    assert status.startswith("Forward 3/"), status
    params = _params(page.url)
    assert params["forward"] == "x2" and params["step"] == "3"
    tangents = page.evaluate("Array.from(document.querySelectorAll('#graph text.cr-tangent')).map(t => t.textContent)")

    page.reload()
    page.wait_for_selector("#graph svg")
    wait_until(page, "document.querySelectorAll('#graph text.cr-tangent').length > 0", 30)
    wait_until(page, "window.chainrule.state().index === 3")
    assert page.is_checked("#forward-toggle")
    assert page.eval_on_selector("#forward-direction", "s => s.value") == "x2"
    assert _status(page) == status
    assert page.evaluate("Array.from(document.querySelectorAll('#graph text.cr-tangent')).map(t => t.textContent)") == tangents
    assert any(t for t in tangents)
    page.screenshot(path=str(artifacts / "links_forward_reloaded.png"))
    assert page.errors == []


def test_view_theme_fold_and_practice_ride_in_the_link(page, live_server):
    """The grad_fn view, the dark theme and fold=0, chosen in the page, with practice on and
    a step taken: the share link reopens all of them at the same step. Mutation: links.js's
    current() dropping `practice` (the link opens without practice mode)."""
    _open(page, f"{live_server}/?f=sin(x)*x&x=0.7&theme=dark&fold=0")
    page.check("input.view-choice[value=autograd]")
    wait_until(page, "new URLSearchParams(location.search).get('view') === 'autograd'", 30)
    wait_settled(page)
    page.check("#practice-toggle")
    wait_until(page, "new URLSearchParams(location.search).get('practice') === '1'", 30)
    wait_settled(page)
    page.click("h1")
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    status = _status(page)
    share = page.input_value("#share-link")
    params = _params(share)
    assert {k: params.get(k) for k in ("view", "theme", "fold", "practice", "step")} == {
        "view": "autograd", "theme": "dark", "fold": "0", "practice": "1", "step": "2"}, params
    page.goto(share)
    page.wait_for_selector("#graph svg")
    wait_until(page, "window.chainrule.state().index === 2")
    assert page.is_checked("input.view-choice[value=autograd]") and page.is_checked("#practice-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert _status(page) == status
    assert page.errors == []


def test_presenter_mode_and_its_code_view_survive_a_reload(page, live_server):
    """Presenter mode entered with its button, the code shown with C, stepped to 3: the URL
    and the share link say presenter=code and step=3; a reload opens presenter mode with the
    code beside the graph at the same status; leaving it (Esc) takes presenter= out of the URL,
    and the practice link never carries it. Mutation: presenter.js ignoring ?presenter= on
    load (`const opened = null`): the reload opens the normal page."""
    _open(page, f"{live_server}/?f=x1*x2%2Bsin(x1)&x1=1&x2=2")
    page.click("#presenter-toggle")
    wait_until(page, "document.body.classList.contains('presenter')")
    page.keyboard.press("c")
    wait_until(page, "document.body.classList.contains('show-code')")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    status = _status(page)
    params = _params(page.url)
    assert params["presenter"] == "code" and params["step"] == "3", params
    assert _params(page.input_value("#share-link"))["presenter"] == "code"
    assert "presenter" not in _params(page.input_value("#practice-link"))

    page.reload()
    page.wait_for_selector("#graph svg")
    wait_until(page, "window.chainrule.state().index === 3")
    assert page.evaluate("['presenter', 'show-code'].map(c => document.body.classList.contains(c))") == [True, True]
    assert page.get_attribute("#presenter-toggle", "aria-pressed") == "true"
    assert _status(page) == status
    page.keyboard.press("Escape")
    wait_until(page, "!document.body.classList.contains('presenter')")
    assert "presenter" not in _params(page.url)
    assert page.errors == []
