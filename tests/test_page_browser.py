"""The classroom page in real Chromium: stepping, errors, sharing, embedding, escaping."""
from __future__ import annotations

import http.server
import threading
import urllib.parse

import pytest

from webapp.web.examples import BY_SLUG
from tests.host_page import HostPage

pytestmark = pytest.mark.browser


TRACE_JS = "JSON.parse(document.getElementById('graph').dataset.trace)"


def open_example(page, live_server, slug):
    page.goto(f"{live_server}/?{BY_SLUG[slug].query}")
    page.wait_for_selector("#graph svg")


def node_texts(page, node_id):
    return page.eval_on_selector(f'[id="{node_id}"]', "g => Array.from(g.querySelectorAll('text')).map(t => t.textContent)")


def node_by_label(page, label):
    trace = page.evaluate(TRACE_JS)
    return next(n for n in trace["nodes"] if n["label"] == label), trace


def wait_until(page, expression, timeout=10.0):
    """Poll a JS expression from Python (the page's CSP forbids Playwright's eval-based wait)."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expression}")


def wait_settled(page, timeout=10.0):
    """Until htmx has no request in flight and has settled its last swap.

    htmx attaches the triggers of swapped-in elements when it settles, 20 ms after the swap,
    so an element can be on the page for a moment before it answers events."""
    wait_until(page, "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')", timeout)


def status(page):
    return page.inner_text("#step-status")


def test_step_through_seed001_forward_and_backward(page, live_server, artifacts):
    open_example(page, live_server, "quadratic")
    x1, trace = node_by_label(page, "x1")
    x7, _ = node_by_label(page, "x7")
    constants = {n["id"] for n in trace["nodes"] if n["kind"] == "constant"}
    trace["forward"] = [i for i in trace["forward"] if i not in constants]  # constants take no step
    total = len(trace["forward"]) + len(trace["backward"])
    assert node_texts(page, x7["id"])[1:] == ["?", "grad: not yet"]
    page.screenshot(path=str(artifacts / "seed001-start.png"))
    for step in range(1, total + 1):
        page.keyboard.press("ArrowRight")
        applied = trace["forward"][:step] + trace["backward"][:max(0, step - len(trace["forward"]))]
        # Every node shows its value once computed, "?" before; gradients likewise.
        for node in trace["nodes"]:
            if node["kind"] == "constant":
                continue
            texts = node_texts(page, node["id"])
            value_known = node["id"] in trace["forward"][:step]
            grad_known = node["id"] in applied[len(trace["forward"]):] if step > len(trace["forward"]) else False
            assert (texts[1] != "?") == value_known, (step, node["label"], texts)
            assert (texts[2] != "grad: not yet") == grad_known, (step, node["label"], texts)
        if step == len(trace["forward"]):
            assert node_texts(page, x7["id"])[1] == "−3.4"
            assert "Forward" in status(page)
        if step == 5:
            page.screenshot(path=str(artifacts / "seed001-mid-forward.png"))
        if step == len(trace["forward"]) + 4:
            page.screenshot(path=str(artifacts / "seed001-mid-backward.png"))
    assert node_texts(page, x1["id"])[2] == "grad 0.8"
    x2, _ = node_by_label(page, "x2")
    assert node_texts(page, x2["id"])[2] == "grad 0.8"
    assert "x1.grad = 0.8" in page.inner_text("#chain")
    assert "done" in status(page)
    page.screenshot(path=str(artifacts / "seed001-end.png"))
    page.keyboard.press("ArrowLeft")
    assert node_texts(page, x1["id"])[2] == "grad: not yet"
    assert "Backward 7/8" in status(page)
    page.keyboard.press("Home")
    assert status(page).startswith("Ready")
    assert page.errors == []


def test_chain_rule_panel_explains_a_fan_out(page, live_server):
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": "b = a + a\nb", "a": "0.4"}))
    page.wait_for_selector("#graph svg")
    trace = page.evaluate(TRACE_JS)
    for _ in range(len(trace["forward"]) + len(trace["backward"])):
        page.keyboard.press("ArrowRight")
    assert "sums 2 contributions: 1 + 1 = 2" in page.inner_text("#chain")


def test_loop_example_screenshots(page, live_server, artifacts):
    open_example(page, live_server, "control-flow")
    trace = page.evaluate(TRACE_JS)
    forward, backward = len(trace["forward"]), len(trace["backward"])
    page.screenshot(path=str(artifacts / "loop-start.png"))
    for count, name in ((forward // 2, "mid-forward"), (forward - forward // 2 + backward // 2, "mid-backward"),
                        (backward - backward // 2, "end")):
        for _ in range(count):
            page.keyboard.press("ArrowRight")
        page.wait_for_timeout(800)  # the panel scrolls smoothly to the current node
        page.screenshot(path=str(artifacts / f"loop-{name}.png"))
    assert "done" in status(page)
    a, _ = node_by_label(page, "a")
    assert node_texts(page, a["id"])[2].startswith("grad [3]")


def test_play_button_runs_to_the_end(page, live_server):
    page.goto(f"{live_server}/?f=sin(x)&x=1")
    page.wait_for_selector("#graph svg")
    page.select_option('[data-action="speed"]', "400")
    page.click('[data-action="play"]')
    wait_until(page, "document.getElementById('step-status').textContent.includes('done')", 10)
    assert page.inner_text('[data-action="play"]') == "▶ Play"


def test_syntax_error_is_shown_inline_with_a_caret(page, live_server):
    page.goto(f"{live_server}/?f=sin(x)&x=1")
    page.wait_for_selector("#graph svg")
    page.fill("#source", "y = sin(x) +\ny")
    page.wait_for_selector("#error .error", timeout=10000)
    text = page.inner_text("#error")
    assert "Line 1, column" in text and "Python cannot read" in text
    assert "y = sin(x) +" in text and "^" in text
    assert page.is_visible("#graph svg")  # the last good graph stays


def test_editing_updates_inputs_graph_and_url(page, live_server):
    page.goto(f"{live_server}/?f=sin(x)&x=1")
    page.wait_for_selector("#graph svg")
    page.fill("#source", "a * b + b")
    page.wait_for_selector('input.input-value[name="b"]', timeout=10000)
    page.fill('input.input-value[name="a"]', "3")
    page.fill('input.input-value[name="b"]', "2")
    page.press('input.input-value[name="b"]', "Tab")
    wait_until(page, "location.search.includes('a=3') && location.search.includes('b=2')", 10)
    wait_until(page, TRACE_OUTPUT_IS.format(8))
    trace = page.evaluate(TRACE_JS)
    assert trace["leaves"]["b"]["grad"] == 4.0


TRACE_OUTPUT_IS = ("document.getElementById('graph').dataset.trace && "
                   "JSON.parse(document.getElementById('graph').dataset.trace).output.value === {}")


def test_non_scalar_output_explains_and_takes_grad_output(page, live_server):
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": "x * x", "x": "[1, 2]"}))
    page.wait_for_selector("#error .error")
    assert "backward() needs a gradient" in page.inner_text("#error")
    page.fill('input[name="grad_output"]', "ones")
    page.press('input[name="grad_output"]', "Tab")
    page.wait_for_selector("#graph svg", timeout=10000)
    wait_until(page, "document.getElementById('error').textContent.trim() === ''")
    trace = page.evaluate(TRACE_JS)
    assert trace["leaves"]["x"]["grad"] == [2.0, 4.0]
    assert "grad_output=ones" in page.url


def test_share_link_restores_the_same_state(page, browser, live_server):
    page.goto(f"{live_server}/?f=sin(x)&x=1")
    page.wait_for_selector("#graph svg")
    page.fill("#source", "(x * y).sum()")
    page.wait_for_selector('input.input-value[name="y"]', timeout=10000)
    page.fill('input.input-value[name="y"]', "[1, 2]")
    page.press('input.input-value[name="y"]', "Tab")
    wait_until(page, "document.getElementById('share-link').value.includes('y=%5B1')", 10)
    link = page.input_value("#share-link")
    other = browser.new_page()
    other.goto(link)
    other.wait_for_selector("#graph svg")
    assert other.input_value("#source") == "(x * y).sum()"
    assert other.input_value('input.input-value[name="y"]') == "[1, 2]"
    ids = "Array.from(document.querySelectorAll('#graph g.node')).map(g => g.id)"
    assert other.evaluate(ids) == page.evaluate(ids)
    assert other.url == page.url
    other.close()


class _OtherOrigin(HostPage):
    body = b""


def test_embed_works_in_an_iframe_on_another_origin_and_the_page_does_not(page, live_server, artifacts):
    query = BY_SLUG["quadratic"].query
    _OtherOrigin.body = (f'<html><body><h1>Course page</h1>'
                         f'<iframe id="embed" src="{live_server}/embed?{query}" width="900" height="500"></iframe>'
                         f'<iframe id="page" src="{live_server}/?{query}" width="300" height="200"></iframe>'
                         f'<img id="img" src="{live_server}/graph.svg?{query}"></body></html>').encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), _OtherOrigin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.2:{server.server_port}/")
        frame = page.frame_locator("#embed")
        frame.locator("#graph svg").wait_for(timeout=15000)
        frame.locator('[data-action="forward"]').click()
        page.keyboard.press("ArrowRight")  # focus is inside the frame now: keys step it
        assert "Forward 2/" in frame.locator("#step-status").inner_text()
        wait_until(page, "document.getElementById('img').naturalWidth > 0", 15)
        page.screenshot(path=str(artifacts / "embed-other-origin.png"))
        blocked = page.frame(url=lambda url: url.startswith(f"{live_server}/?"))
        assert blocked is None or blocked.query_selector("#graph") is None
    finally:
        server.shutdown()


HOSTILE = ['<script>window.pwned=1</script>', '"><img src=x onerror="window.pwned=1">', "</textarea><b id=inj>x</b>"]


@pytest.mark.parametrize("text", HOSTILE)
def test_source_and_inputs_are_shown_as_text(page, live_server, text):
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": text, "x": text}))
    page.wait_for_selector("#source")
    assert page.input_value("#source") == text
    assert page.evaluate("window.pwned") is None
    assert page.query_selector("#inj") is None
    assert text in page.input_value("#share-link") or urllib.parse.quote_plus(text)[:10] in page.input_value("#share-link")
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": "x * 2", "x": text}))
    page.wait_for_selector("#source")
    assert page.evaluate("window.pwned") is None
    assert page.query_selector("#inj") is None


@pytest.mark.parametrize("size", [(1280, 720), (390, 844)])
def test_page_is_usable_on_a_projector_and_a_phone(browser, live_server, artifacts, size):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(f"{live_server}/?{BY_SLUG['quadratic'].query}")
    page.wait_for_selector("#graph svg")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    for control in ('[data-action="forward"]', '[data-action="play"]', "#source"):
        box = page.locator(control).bounding_box()
        assert box and box["width"] > 20 and box["x"] >= 0 and box["x"] + box["width"] <= size[0]
    page.click('[data-action="forward"]')
    assert "Forward 1/" in page.inner_text("#step-status")
    page.screenshot(path=str(artifacts / f"page-{size[0]}x{size[1]}.png"), full_page=True)
    page.close()


def test_presenter_mode_is_large_and_keyboard_driven(page, live_server, artifacts):
    open_example(page, live_server, "quadratic")
    page.focus("#presenter-toggle")
    page.keyboard.press("Enter")
    assert page.evaluate("document.body.classList.contains('presenter')")
    assert not page.is_visible("#source")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 22
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert "Forward 2/" in page.inner_text("#step-status")
    page.screenshot(path=str(artifacts / "presenter.png"))


def test_reduced_motion_is_honoured(browser, live_server):
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{live_server}/?{BY_SLUG['quadratic'].query}")
    page.wait_for_selector("#graph svg")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    animation = page.evaluate("""() => { const p = document.querySelector('.cr-edge.active path');
        return p ? getComputedStyle(p).animationName : 'none'; }""")
    assert animation == "none"
    context.close()
