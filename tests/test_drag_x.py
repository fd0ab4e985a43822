"""Drag x, watch everything move: /api/point, and the page following a dragged slider.

The oracle is plain torch at the slider's final value, computed here; the texts are the
server's formatter's (webapp/formatting.py), as the page's full render writes them.
"""
from __future__ import annotations

import json
import re
import urllib.parse

import pytest
import torch

from webapp.formatting import format_value

from . import seeds
from .test_page_browser import TRACE_JS, wait_settled, wait_until

FUNCTION = seeds.SEED003_LOG_SIN  # "seed 001" of issue 29: log(x**2)*sin(x) + 1/x
QUERY = {"f": FUNCTION, "x": "2"}


def oracle(x: float) -> tuple[float, float]:
    """f(x) and f′(x) by plain torch, in float32 as the page's worker computes them."""
    t = torch.tensor(x, requires_grad=True)
    y = torch.log(t ** 2) * torch.sin(t) + 1 / t
    y.backward()
    return y.item(), t.grad.item()


# ---- the route -------------------------------------------------------------------------

def test_the_point_is_what_the_full_page_draws(client):
    """Each node's texts are the data- attributes of the page's own graph at that point.
    Mutation: node_texts reading `accumulated` for the gradient row (each grad differs)."""
    query = urllib.parse.urlencode({"f": FUNCTION, "x": "2.5"})
    answer = client.get(f"/api/point?{query}").get_json()
    page = client.get(f"/?{query}").get_data(as_text=True)
    for node_id, texts in answer["texts"].items():
        group = re.search(rf'<g id="{node_id}" class="node[^"]*"[^>]*>', page)
        if group is None:
            continue
        for attribute, text in (("data-value", texts["value"]), ("data-grad", texts["grad"])):
            found = re.search(rf'{attribute}="([^"]*)"', group.group(0))
            assert (found.group(1).replace("&quot;", '"') if found else None) == text
    f, df = oracle(2.5)
    assert answer["at"] == {"wrt": "x", "x": 2.5, "f": pytest.approx(f, rel=1e-6), "df": pytest.approx(df, rel=1e-6)}
    assert answer["inputs"] == {"x": 2.5} and 'id="tape"' in answer["tape"]


def test_the_svg_comes_only_for_a_new_layout(client):
    """Mutation: `if True:` for the layout comparison (the SVG every time)."""
    first = client.get("/api/point?" + urllib.parse.urlencode({**QUERY, "x": "1.5"})).get_json()
    assert first["svg"].startswith("<svg")
    again = client.get("/api/point?" + urllib.parse.urlencode({**QUERY, "x": "-2.25", "layout": first["layout"]}))
    assert "svg" not in again.get_json() and again.get_json()["inputs"] == {"x": -2.25}
    # A branch on x: another shape, another layout (the page must draw the new SVG).
    branchy = "def f(x):\n    if x > 0:\n        return x * x\n    return torch.sin(x)\nf(x)"
    one = client.get("/api/point?" + urllib.parse.urlencode({"f": branchy, "x": "1"})).get_json()
    other = client.get("/api/point?" + urllib.parse.urlencode({"f": branchy, "x": "-1", "layout": one["layout"]}))
    assert other.get_json()["svg"].startswith("<svg")


def test_practice_gets_no_gradient_it_asks(client):
    """An asked node carries no gradient row (the player shows "grad ?"), as the page's
    SVG. Mutation: node_texts ignoring `asked` (its row says "grad –", as if it had none)."""
    answer = client.get("/api/point?" + urllib.parse.urlencode({**QUERY, "practice": "1"})).get_json()
    asked = answer["trace"]["practice"]["asked"]
    assert answer["at"] is None and asked
    assert all(answer["texts"][i]["grad"] is None and "gradient" not in answer["texts"][i]["label"] for i in asked)
    assert all(n.get("grad") is None for n in answer["trace"]["nodes"] if n["id"] in asked)


# ---- the page ----------------------------------------------------------------------------

SLIDER = 'input.input-slider[data-input="x"]'


def open_page(page, live_server):
    page.goto(f"{live_server}/?" + urllib.parse.urlencode(QUERY), timeout=120_000)  # workers may boot
    page.wait_for_selector("#plot-live svg .curve", timeout=20000)
    wait_settled(page, 15)
    page.keyboard.press("End")  # the last backward step: the panel shows ∂/∂x
    wait_until(page, "window.chainrule.state().index === window.chainrule.state().steps")


def press_on_slider(page, fraction_from: float):
    page.locator(SLIDER).scroll_into_view_if_needed()
    box = page.locator(SLIDER).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * fraction_from, y)
    page.mouse.down()
    return box, y


def drag_to(page, box, y, fraction: float):
    page.mouse.move(box["x"] + box["width"] * fraction, y, steps=4)


def shown_point(page) -> float:
    point = page.evaluate("document.getElementById('graph').dataset.point || null")
    return json.loads(point)["x"] if point else None


def assert_page_shows(page, x: float):
    """Graph nodes, panel, tape and plot at x, against torch."""
    f, df = oracle(x)
    trace = page.evaluate(TRACE_JS)
    output = next(n for n in trace["nodes"] if n["kind"] == "output")
    x_node = next(n for n in trace["nodes"] if n["kind"] == "input")
    groups = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#graph g[data-kind]')]
        .map(g => [g.id, [g.getAttribute('data-value'), g.getAttribute('data-grad'),
                          (g.querySelector('text[data-row="value"]') || {}).textContent]]))""")
    assert groups[output["id"]][0] == format_value(f, []) == groups[output["id"]][2]
    assert groups[x_node["id"]][1] == "grad " + format_value(df, [])
    assert format_value(df, []) in page.inner_text("#chain")  # the panel's ∂y/∂x sentence
    assert page.get_attribute(f"#tape-{output['id']} td.value", "data-final") == format_value(f, [])
    at = json.loads(page.get_attribute("#plot-live", "data-point"))
    assert (at["x"], at["f"], at["df"]) == pytest.approx((x, f, df), rel=1e-6)
    label = page.evaluate("""([f, df, x]) => { const n = window.chainruleFormat.number;
        return 'y = ' + n(f) + (df < 0 ? ' − ' : ' + ') + n(Math.abs(df)) + '·(x ' + (x < 0 ? '+ ' : '− ') + n(Math.abs(x)) + ')'; }""",
                          [f, df, x])
    assert label in page.inner_text("#plot-live")
    # The tangent line passes through the marked point.
    line = page.get_attribute("#plot-live .tangent", "d")
    x0, y0, x1, y1 = (float(v) for v in re.findall(r"-?[\d.]+", line))
    cx, cy = (float(page.locator("#plot-live .point").first.get_attribute(a)) for a in ("cx", "cy"))
    assert (cy - y0) * (x1 - x0) == pytest.approx((y1 - y0) * (cx - x0), abs=2.0 * abs(x1 - x0))


@pytest.mark.browser
def test_dragging_the_slider_moves_graph_panel_tape_and_tangent(page, live_server, artifacts):
    """The page settling after the drag is held back: what shows is /api/point's alone.
    Mutations: apply() not setting `root.dataset.trace` (the panel keeps the old ∂y/∂x);
    moveTo returning before drawing (the plot keeps x = 2)."""
    open_page(page, live_server)
    held = []
    page.route("**/partials/graph", lambda route: held.append(route))
    box, y = press_on_slider(page, 0.75)  # x = 2 sits at 3/4 of −4…4
    for fraction in (0.8, 0.85, 0.9, 0.37):
        drag_to(page, box, y, fraction)
    wait_until(page, "window.chainruleDrag.idle()", 20)
    x = float(page.input_value(SLIDER))
    assert x < 0 and page.input_value('input.input-value[name="x"]') == page.input_value(SLIDER)
    wait_until(page, f"JSON.parse(document.getElementById('graph').dataset.point || 'null')?.x === {x}", 20)
    assert_page_shows(page, x)
    assert page.evaluate("window.chainrule.state().index === window.chainrule.state().steps")  # the step kept
    page.screenshot(path=str(artifacts / "drag-x.png"), full_page=True)
    page.mouse.up()  # let go: the page settles (its request was held above)
    page.unroute("**/partials/graph")
    for route in held:
        route.continue_()
    wait_until(page, f"{TRACE_JS}.leaves.x.value === {x} && !document.getElementById('graph').dataset.point", 20)
    wait_settled(page, 20)
    assert page.evaluate("window.chainrule.state().index === window.chainrule.state().steps")  # still kept
    assert f"x={page.input_value(SLIDER)}" in page.url
    assert page.errors == []


@pytest.mark.browser
def test_a_stale_answer_never_replaces_a_newer_point(page, live_server):
    """Point A's answer is held while the slider moves on to B, C and is let go. Then:
    one request in flight, the latest point waiting (not a queue); the settled page at C
    stays when A's answer comes late. Mutations: `job.seq > live.floor` dropped from
    pump (A's late answer shows); `live.next` queued instead of replaced (a request per
    point)."""
    open_page(page, live_server)
    held, asked = [], []

    def hold_first(route):
        asked.append(route.request.url)
        if len(asked) == 1:
            held.append(route)
        else:
            route.continue_()
    page.route("**/api/point?*", hold_first)
    box, y = press_on_slider(page, 0.75)
    drag_to(page, box, y, 0.6)  # A
    wait_until(page, "window.chainruleDrag.stats().asked >= 1")
    drag_to(page, box, y, 0.5)
    drag_to(page, box, y, 0.3)  # C: latest; B, and every point between, replaced
    wait_until(page, "window.chainruleDrag.stats().asked >= 3")
    assert len(asked) == 1  # one in flight, the rest waiting as one
    c = float(page.input_value(SLIDER))
    page.mouse.up()  # let go at C: the page settles there
    wait_until(page, f"{TRACE_JS}.leaves.x.value === {c}", 20)
    wait_settled(page, 20)
    held[0].continue_()  # A's answer, late
    wait_until(page, "window.chainruleDrag.idle()", 20)
    page.wait_for_timeout(300)  # a late answer would be drawn within a frame or two
    assert page.evaluate(TRACE_JS)["leaves"]["x"]["value"] == c
    assert page.evaluate("document.getElementById('graph').dataset.point || null") is None
    assert len(asked) == 1
    assert_page_shows_settled(page, c)
    # Moving again: A held no more; the latest point comes after the one in flight.
    page.unroute("**/api/point?*")
    box, y = press_on_slider(page, 0.3 + 0.0)
    for fraction in (0.32, 0.34, 0.36, 0.38, 0.4, 0.42):
        drag_to(page, box, y, fraction)
    wait_until(page, "window.chainruleDrag.idle()", 20)
    last = float(page.input_value(SLIDER))
    wait_until(page, f"JSON.parse(document.getElementById('graph').dataset.point || 'null')?.x === {last}", 20)
    stats = page.evaluate("window.chainruleDrag.stats()")
    assert stats["shown"] == stats["asked"]
    page.mouse.up()
    wait_settled(page, 20)
    assert page.errors == []


@pytest.mark.browser
def test_a_fast_drag_keeps_one_request_in_flight_and_ends_on_its_last_point(page, live_server):
    """Sixty moves at 60 a second from inside the page (as bench/drag_bench.py sweeps): the
    next point is asked as soon as an answer arrives, before it is drawn, yet never two
    requests at once, the step's edges stop marching, and the screen ends on the last point.
    Mutations: free() without its `live.busy !== job` check (the answer's later `free` lets
    a second request go); moved() not adding `.dragging` (the edges' animation is `flow`)."""
    open_page(page, live_server)
    page.evaluate("""() => { const requests = window.chainruleRequests, point = requests.point;
      window.flight = { now: 0, most: 0 };
      requests.point = function (url) {
        window.flight.now += 1; window.flight.most = Math.max(window.flight.most, window.flight.now);
        return point.call(requests, url).finally(function () { window.flight.now -= 1; });
      }; }""")
    last = page.evaluate("""async (selector) => {
      const slider = document.querySelector(selector), lo = Number(slider.min), step = Number(slider.step);
      let value = null;
      for (let i = 0; i < 60; i++) {
        value = String(Number((lo + (20 + i) * step).toPrecision(12)));
        slider.value = value;
        slider.dispatchEvent(new Event("input", { bubbles: true }));
        await new Promise(function (done) { setTimeout(done, 1000 / 60); });
      }
      return Number(slider.value); }""", SLIDER)
    wait_until(page, "window.chainruleDrag.idle()", 30)
    wait_until(page, f"JSON.parse(document.getElementById('graph').dataset.point || 'null')?.x === {last}", 20)
    flight = page.evaluate("window.flight")
    assert flight == {"now": 0, "most": 1}, flight
    # While the numbers move, the step's edges stand still (one paint a point, chainrule.css).
    moving = page.evaluate("""() => Array.from(document.querySelectorAll('#graph .cr-edge.active path'))
      .map(p => getComputedStyle(p).animationName)""")
    assert moving and set(moving) == {"none"}, moving
    stats = page.evaluate("window.chainruleDrag.stats()")
    assert 1 < len(stats["latencies"]) and stats["shown"] == stats["asked"], stats
    assert page.errors == []


def assert_page_shows_settled(page, x: float):
    f, _ = oracle(x)
    trace = page.evaluate(TRACE_JS)
    output = next(n for n in trace["nodes"] if n["kind"] == "output")
    assert page.get_attribute(f'#graph [id="{output["id"]}"][data-kind]', "data-value") == format_value(f, [])


@pytest.mark.browser
def test_dragging_across_the_plot_moves_x(page, live_server):
    """The plot's x axis drags too: the pointer's x, snapped by the plot's slider, is asked
    for, and the point drawn is the server's. Mutation: xAt returning null (nothing moves)."""
    open_page(page, live_server)
    page.locator("#plot-live svg").scroll_into_view_if_needed()
    box = page.locator("#plot-live svg").bounding_box()
    y = box["y"] + box["height"] * 0.25
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=5)
    wait_until(page, "window.chainruleDrag.idle()", 20)
    x = float(page.input_value("#point-slider"))
    assert x < 0  # the left part of −4…4
    assert page.input_value(SLIDER) == page.input_value("#point-slider") == page.input_value('input.input-value[name="x"]')
    wait_until(page, f"JSON.parse(document.getElementById('plot-live').dataset.point || 'null')?.x === {x}", 20)
    assert_page_shows(page, x)
    page.mouse.up()
    wait_until(page, f"{TRACE_JS}.leaves.x.value === {x}", 20)
    wait_settled(page, 20)
    assert page.errors == []


@pytest.mark.browser
def test_a_key_pressed_while_an_older_page_settles_is_kept(page, live_server):
    """← on x's slider sends the page at 1.96; a second ← (1.92) lands after that page is
    swapped in but before it settles (htmx's settle made slow here; the points and the next
    page held, as a busy machine delays them): the settling 1.96 page leaves the slider at
    1.92. A busy CI run met this race: three ← gave 1.92, the second undone by the settle.
    Mutation: drag_x.js's afterSettle handler without its `xhr.chainrulePoint < live.seq`
    check (the slider goes back to 1.96)."""
    open_page(page, live_server)
    page.evaluate("""() => { htmx.config.defaultSettleDelay = 1500; window.swapped = 0; window.settled = [];
      document.addEventListener('htmx:afterSwap', () => { window.swapped += 1; });
      document.addEventListener('htmx:afterSettle', () => {
        window.settled.push(document.querySelector('input.input-slider[data-input="x"]').value); }); }""")
    held, late, pages = [], [True], []

    def hold(route):  # the points, and every page after the first, come late
        if late[0] and ("/api/point" in route.request.url or pages):
            held.append(route)
        else:
            pages.append(route.request.url)
            route.continue_()
    page.route("**/api/point?*", hold)
    page.route("**/partials/graph", hold)
    page.focus(SLIDER)
    page.keyboard.press("ArrowLeft")  # 1.96: its page is sent
    wait_until(page, "window.swapped > 0", 30)  # that page is in, not settled
    page.keyboard.press("ArrowLeft")  # 1.92
    wait_until(page, "window.settled.length > 0", 30)
    assert float(page.evaluate("window.settled[0]")) == pytest.approx(1.92)
    assert float(page.input_value(SLIDER)) == pytest.approx(1.92)
    late[0] = False
    for route in held:
        route.continue_()
    wait_until(page, f"{TRACE_JS}.leaves.x.value === 1.92", 30)
    assert page.errors == []


@pytest.mark.browser
def test_keys_move_the_slider_and_the_settled_page_keeps_the_step(page, live_server):
    """Arrow keys on an input's slider (a typing field for keys.js: the player does not
    step); the page settles at the last point, on the step the student was on.
    Mutation: drag_x.js's chainrule:loaded handler not calling go(keep) (back to Ready)."""
    open_page(page, live_server)
    page.focus(SLIDER)
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    x = float(page.input_value(SLIDER))
    assert x == pytest.approx(2 - 3 * 0.04)
    wait_until(page, f"{TRACE_JS}.leaves.x.value === {x}", 20)
    wait_settled(page, 20)
    wait_until(page, "window.chainruleDrag.idle()", 20)
    f, df = oracle(x)
    trace = page.evaluate(TRACE_JS)
    output = next(n for n in trace["nodes"] if n["kind"] == "output")
    assert page.get_attribute(f'#graph [id="{output["id"]}"][data-kind]', "data-value") == format_value(f, [])
    assert format_value(df, []) in page.inner_text("#chain")
    assert page.evaluate("window.chainrule.state().index === window.chainrule.state().steps")
    wait_until(page, "document.getElementById('plot-live').dataset.drawn === document.getElementById('plot-live').dataset.src", 20)
    assert f"at x = {page.evaluate('window.chainruleFormat.number(%r)' % x)}" in page.inner_text("#plot-live")
    assert page.errors == []


def test_an_input_typed_as_a_list_loses_its_slider_until_it_is_a_number(page, live_server):
    """x typed as [1.0, 2.0] (keystrokes, Enter): x's slider goes, so no touch of it can turn
    the list back into one number silently (it did: x=3.64); typed 2 again, it is back.
    Mutation seen failing: drag_x.js's afterSettle not hiding the slider."""
    page.goto(f"{live_server}/?" + urllib.parse.urlencode({"f": "(x * 3).sum()", "x": "2"}), timeout=120_000)
    page.wait_for_selector("#graph svg")
    assert page.is_visible(SLIDER)
    for typed, shown in (("[1.0, 2.0]", False), ("2", True)):
        page.click('#inputs input[name="x"]')
        page.keyboard.press("Control+A")
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        wait_until(page, f"JSON.stringify({TRACE_JS}.leaves.x.value) === JSON.stringify({json.loads(typed)})", 30)
        wait_settled(page, 20)
        assert page.is_visible(SLIDER) == shown, typed
    assert page.errors == []
