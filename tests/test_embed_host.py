"""/embed inside host pages in real Chromium (issue 18): a page on another origin and a
file:// page, each with the listener the share panel offers. The embed opens at step 5, the
host's listener sizes the iframe to the embed's height, and the host's arrow keys do not move
the embed until it has focus; Esc gives focus back.
"""
from __future__ import annotations

import http.server
import math
import threading
import time
from urllib.parse import quote

import pytest

from tests.host_page import HostPage

pytestmark = pytest.mark.browser

# Five forward steps (x1, x2, x1*x2, sin, +): step 5 is the first with the output's value.
FUNCTION = "f=" + quote("x1*x2 + sin(x1)") + "&x1=2&x2=3"
OUTPUT = 2 * 3 + math.sin(2)  # the oracle: plain Python, not the server


def listener(app) -> str:
    with open(f"{app.static_folder}/js/embed-listener.js") as handle:
        return handle.read()


def host_html(live_server, app, query, script=None) -> str:
    script = listener(app) if script is None else script
    return (f'<!doctype html><html><body><h1 id="title" tabindex="-1">Course page</h1>'
            f'<button id="before">before</button>'
            f'<iframe id="e" src="{live_server}/embed?{query}" title="chainrule graph" width="900" '
            f'height="200" style="border:0"></iframe><p id="after">after the embed</p>'
            f'<script>{script}</script></body></html>')


class _Host(HostPage):
    body = b""


@pytest.fixture()
def other_origin():
    """A second server on 127.0.0.2: another origin than the app's 127.0.0.1."""
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), _Host)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.2:{server.server_port}/"
    server.shutdown()


def open_host(page, where, body, other_origin, tmp_path):
    if where == "other-origin":
        _Host.body = body.encode()
        page.goto(other_origin)
    else:
        path = tmp_path / "slides.html"
        path.write_text(body)
        page.goto(path.as_uri())
    frame = page.frame_locator("#e")
    frame.locator("#graph svg").wait_for(timeout=20000)
    return frame, next(f for f in page.frames if "/embed?" in f.url)


def until(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    assert check()


def index(frame) -> int:
    return frame.evaluate("window.chainrule.state().index")


def content_height(frame) -> float:
    # Measured here, not with embed.js's measure(): the bottom of the embed's content.
    return frame.evaluate("Math.ceil(document.getElementById('embed').getBoundingClientRect().bottom)")


def frame_height(page) -> float:
    return page.evaluate("document.getElementById('e').getBoundingClientRect().height")


@pytest.mark.parametrize("where", ["other-origin", "file"])
def test_embed_in_a_host_page(page, live_server, app, where, other_origin, tmp_path, artifacts):
    """Mutations, each failing this test:
    - `if (step) player.go(step)` removed in embed.js: the embed opens at step 0;
    - the ResizeObserver line removed: the height after the host narrows the frame is stale;
    - `window.parent.postMessage` of lti.frameResize sent as an object: the listener ignores it;
    - embed.js's Escape branch removed: the host's ArrowRight keeps stepping the embed.
    """
    body = host_html(live_server, app, FUNCTION + "&step=5")
    frame_loc, frame = open_host(page, where, body, other_origin, tmp_path)
    until(lambda: index(frame) == 5)
    out = frame.evaluate("JSON.parse(document.getElementById('graph').dataset.trace).nodes"
                         ".find(n => n.kind === 'output').id")
    texts = frame.eval_on_selector(f'[id="{out}"]', "g => Array.from(g.querySelectorAll('text')).map(t => t.textContent)")
    assert abs(float(texts[1]) - OUTPUT) < 1e-3 * OUTPUT  # step 5: the output's value is shown
    assert "Forward 5/5" in frame_loc.locator("#step-status").inner_text()

    # The listener sizes the iframe to the embed's content (200 px at first).
    until(lambda: abs(frame_height(page) - content_height(frame)) <= 1)
    assert frame_height(page) > 300
    assert frame.evaluate("document.documentElement.scrollHeight <= document.documentElement.clientHeight + 1")
    wide = frame_height(page)
    page.evaluate("document.getElementById('e').style.width = '420px'")  # a narrow column
    until(lambda: abs(frame_height(page) - content_height(frame)) <= 1 and frame_height(page) != wide)
    page.screenshot(path=str(artifacts / f"embed-host-{where}.png"))

    # Arrow keys in the host page do not move the embed.
    page.click("#before")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    time.sleep(0.3)
    assert index(frame) == 5
    assert not frame.evaluate("document.body.classList.contains('has-focus')")

    # Clicked, the embed has focus (a ring shows it) and the keys are its own.
    frame_loc.locator(".legend-values").click()
    until(lambda: frame.evaluate("document.hasFocus()"))
    page.keyboard.press("ArrowRight")
    until(lambda: index(frame) == 6)
    ring = frame.evaluate("getComputedStyle(document.getElementById('embed')).outlineStyle")
    assert frame.evaluate("document.body.classList.contains('has-focus')") and ring == "solid"

    # Esc gives focus back to the host page: its arrows no longer step the embed.
    page.keyboard.press("Escape")
    until(lambda: not frame.evaluate("document.hasFocus()"))
    page.keyboard.press("ArrowRight")
    time.sleep(0.3)
    assert index(frame) == 6
    assert page.evaluate("document.hasFocus()")


def test_tab_reaches_the_embed_without_controls_and_its_keys_then_step(page, live_server, app, other_origin,
                                                                      tmp_path):
    """controls=0: no buttons, yet Tab reaches the graph and the keys step it.

    Mutation: `player.root.tabIndex = 0` removed in embed.js: Tab goes past the embed."""
    body = host_html(live_server, app, FUNCTION + "&controls=0")
    frame_loc, frame = open_host(page, "other-origin", body, other_origin, tmp_path)
    assert frame_loc.locator("button").count() == 0
    page.focus("#before")
    page.keyboard.press("Tab")
    until(lambda: frame.evaluate("document.activeElement && document.activeElement.id") == "graph")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    until(lambda: index(frame) == 2)
    page.keyboard.press("End")
    until(lambda: index(frame) == frame.evaluate("window.chainrule.state().steps"))
    page.keyboard.press("Home")
    until(lambda: index(frame) == 0)


# The parent side of H5P's resizer protocol (h5p-resizer.js), written from its documented
# messages: hello -> hello, prepareResize -> resizePrepared, resize -> the iframe's height.
H5P_HOST = """
window.addEventListener("message", function (event) {
  var data = event.data, frame = document.getElementById("e");
  if (!data || data.context !== "h5p" || event.source !== frame.contentWindow) return;
  var reply = function (action) { event.source.postMessage({context: "h5p", action: action}, event.origin); };
  window.h5pSeen = (window.h5pSeen || []).concat([data.action]);
  if (data.action === "hello") reply("hello");
  else if (data.action === "prepareResize") { frame.style.height = "1px"; reply("resizePrepared"); }
  else if (data.action === "resize") frame.style.height = data.scrollHeight + "px";
});
"""


def test_an_h5p_host_resizes_the_embed_by_its_protocol(page, live_server, app, other_origin, tmp_path):
    """Mutation: answering resizePrepared without the `resize` message leaves the frame at 1 px."""
    body = host_html(live_server, app, FUNCTION + "&code=1", script=H5P_HOST)
    _, frame = open_host(page, "other-origin", body, other_origin, tmp_path)
    until(lambda: abs(frame_height(page) - content_height(frame)) <= 1 and frame_height(page) > 300)
    assert page.evaluate("window.h5pSeen").count("hello") >= 1
    assert "resize" in page.evaluate("window.h5pSeen")


def test_autoplay_plays_and_code_sits_beside_the_graph(page, live_server):
    """Mutations: the autoplay branch removed (index stays 0); the 760px grid rule removed
    (the code goes below the graph)."""
    page.goto(f"{live_server}/embed?{FUNCTION}&autoplay=1&code=1")
    page.wait_for_selector("#graph svg")
    until(lambda: page.evaluate("window.chainrule.state().index") >= 2, timeout=8)
    graph = page.locator("#graph").bounding_box()
    code = page.locator(".embed-code").bounding_box()
    assert code["x"] > graph["x"] + graph["width"] - 1 and abs(code["y"] - graph["y"]) < 20
    assert page.locator(".embed-code").inner_text().strip() == "x1*x2 + sin(x1)"
    page.set_viewport_size({"width": 600, "height": 700})  # a narrow host: the code goes below
    until(lambda: page.locator(".embed-code").bounding_box()["y"] >= graph["y"] + 40)


def test_autoplay_waits_for_reduced_motion(browser, live_server):
    """Mutation: dropping `!reducedMotion()` in embed.js plays against the user's setting."""
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/embed?{FUNCTION}&autoplay=1")
        page.wait_for_selector("#graph svg")
        time.sleep(2.2)
        assert page.evaluate("window.chainrule.state().index") == 0
    finally:
        context.close()
