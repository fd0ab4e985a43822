"""Issue 15 on the page, driven as a student drives it: the function typed into the editor,
then practice mode, the evaluation-trace table, the forward-mode toggle and node walking.
Every number checked comes from plain torch run here (backward, torch.func.jvp)."""
from __future__ import annotations

import re

import pytest
import torch

from .test_page_typing import open_blank, type_source, wait_until
from .test_practice_browser import practice_graph_loaded, reveal_answer, submit_answer

pytestmark = pytest.mark.browser

BAYDIN = "log(x1) + x1*x2 - sin(x2)"
# Baydin's names in forward order (x1, x2 as typed; v1 … v5 the textbook's).
PARTS = {"v1": lambda a, b: torch.log(a), "v2": lambda a, b: a * b,
         "v3": lambda a, b: torch.log(a) + a * b, "v4": lambda a, b: torch.sin(b),
         "v5": lambda a, b: torch.log(a) + a * b - torch.sin(b),
         "x1": lambda a, b: a, "x2": lambda a, b: b}


def _torch_values_and_adjoints():
    """Every intermediate's value and ∂y/∂v, from plain torch with retain_grad."""
    x1 = torch.tensor(2.0, requires_grad=True)
    x2 = torch.tensor(5.0, requires_grad=True)
    v = {"x1": x1, "x2": x2, "v1": torch.log(x1), "v2": x1 * x2}
    v["v3"] = v["v1"] + v["v2"]
    v["v4"] = torch.sin(x2)
    v["v5"] = v["v3"] - v["v4"]
    for name in ("v1", "v2", "v3", "v4", "v5"):
        v[name].retain_grad()
    v["v5"].backward()
    return ({k: float(t.detach()) for k, t in v.items()},
            {k: float(t.grad) for k, t in v.items()})


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def _typed_baydin(page, live_server):
    """Type Baydin's function and its inputs with the keyboard; wait for its graph."""
    open_blank(page, live_server)
    type_source(page, BAYDIN)
    for name, value in (("x1", "2"), ("x2", "5")):
        wait_until(page, f"!!document.querySelector('#inputs input[name=\"{name}\"]')")
        page.fill(f'#inputs input[name="{name}"]', value)
    page.keyboard.press("Enter")
    wait_until(page, "(() => { const t = JSON.parse(document.getElementById('graph').dataset.trace);"
                     " return t.leaves.x1 && t.leaves.x1.value === 2 && t.leaves.x2.value === 5; })()")
    wait_until(page, "window.chainrule.state().steps === 14 && !document.querySelector('#graph.stale')")
    page.evaluate("document.activeElement.blur()")


def _state(page):
    return page.evaluate("window.chainrule.player().state()")


def test_practice_accepts_right_answers_and_hints_after_a_wrong_one(page, live_server):
    """Each backward step waits for the student's number; 1.7163 for 1.71634 is within 1e-3;
    a wrong x̄1 gets the upstream × local hint with both contributions; the score counts it.
    The server checks (issue 26): the box redraws the graph without the answers.
    Mutation: RELATIVE = 0 in lesson/practice.py (1.7163 is refused)."""
    _, adjoints = _torch_values_and_adjoints()
    _typed_baydin(page, live_server)
    before = page.evaluate("window.chainrule.state().loads")
    page.check("#practice-toggle")
    practice_graph_loaded(page, before)
    page.click("h1")
    forward = _state(page)["forward"]
    for _ in range(forward):
        page.keyboard.press("ArrowRight")
    assert _state(page)["index"] == forward
    asked = []
    while _state(page)["index"] < _state(page)["steps"]:
        before = _state(page)["index"]
        page.keyboard.press("ArrowRight")
        if not page.is_visible("#practice-form"):
            continue
        assert _state(page)["index"] == before  # the step waits for the answer
        name = re.search(r"∂v5/∂(\w+)\?", page.inner_text("#practice-question")).group(1)
        asked.append(name)
        if name == "x1":
            feedback = submit_answer(page, "5")  # only the contribution through v2: wrong
            # the first hint names the rule, no number that gives the answer away (issue 29)
            assert "Hint" in feedback and "x1 feeds 2 operations" in feedback, feedback
            assert "0.5" not in feedback and "× 5" not in feedback, feedback
            page.fill("#practice-answer", "")
            feedback = submit_answer(page, "5")  # the second gives the factors
            assert "∂v1/∂x1 = 0.5" in feedback and "∂v2/∂x1 = 5" in feedback, feedback
            assert "Multiply each pair, then add" in feedback, feedback  # the product is left to them
            assert _state(page)["index"] == before
            page.fill("#practice-answer", "")
        answer = "1.7163" if name == "x2" else f"{adjoints[name]:.6g}"
        assert "Right" in submit_answer(page, answer), (name, answer)
        assert _state(page)["index"] == before + 1
    assert sorted(asked) == sorted(["v5", "v3", "v4", "v1", "v2", "x1", "x2"])
    assert page.inner_text("#practice-score") == "Score: 6 of 7 right at the first try."
    assert page.errors == []


def test_practice_link_opens_in_practice_mode(page, live_server):
    """The share panel's practice link opens with practice on.
    Mutation: drop `practice=` from build_view's context (the box stays unchecked)."""
    _typed_baydin(page, live_server)
    link = page.input_value("#practice-link")
    assert link.endswith("&practice=1")
    page.goto(link)
    page.wait_for_selector("#graph svg")
    assert page.is_checked("#practice-toggle")


def test_the_trace_table_follows_the_player_and_a_row_click_jumps(page, live_server):
    """At every step the highlighted row is the step's node; values appear at their forward
    step, adjoint contributions as each consumer's backward step runs; clicking a row goes to
    its step. Mutation: drop `row.classList.toggle("current", current)` in tape_table.js."""
    values, adjoints = _torch_values_and_adjoints()
    _typed_baydin(page, live_server)
    assert page.get_attribute("#graph", "aria-describedby") == "tape-table"
    assert page.locator("#tape-table caption").count() == 1
    assert page.locator('#tape-table thead th[scope="col"]').count() == 6
    names = page.eval_on_selector_all("#tape-table tbody th[scope=row]", "hs => hs.map(h => h.textContent)")
    assert names == ["x1", "x2", "v1", "v2", "v3", "v4", "v5"]
    page.keyboard.press("Home")
    steps = page.evaluate("window.chainrule.player().steps")
    id_of = dict(zip(names, page.eval_on_selector_all("#tape-table tbody tr", "rs => rs.map(r => r.dataset.node)")))
    done_backward = set()
    for index, step in enumerate(steps, start=1):
        page.keyboard.press("ArrowRight")
        current = page.eval_on_selector_all("#tape-table tr.current", "rs => rs.map(r => r.dataset.node)")
        assert current == [step["node"]], (index, step)
        if step["phase"] == "backward":
            done_backward.add(step["node"])
        x1_parts = page.eval_on_selector_all(
            f'#tape-{id_of["x1"]} td.adjoint .contribution', "cs => cs.filter(c => !c.hidden).map(c => c.dataset.from)")
        expected = {id_of["v1"], id_of["v2"]} if id_of["x1"] in done_backward else \
            {id_of["v1"], id_of["v2"]} & done_backward
        assert set(x1_parts) == expected, index
    for name in names:  # at the end: torch's values and adjoints
        row = f"#tape-{id_of[name]}"
        assert _number(page.inner_text(f"{row} td.value")) == pytest.approx(values[name], rel=1e-3)
        adjoint = page.inner_text(f"{row} td.adjoint").split("=")[-1]
        assert _number(adjoint) == pytest.approx(adjoints[name], rel=1e-3)
    assert "0.5 (from v1)" in page.inner_text(f"#tape-{id_of['x1']} td.adjoint")
    page.click(f"#tape-{id_of['v2']} td.expr")  # in the backward pass: v2's backward step
    state = _state(page)
    assert state["step"] == {"phase": "backward", "node": id_of["v2"]}
    assert page.eval_on_selector_all("#tape-table tr.current", "rs => rs.map(r => r.dataset.node)") == [id_of["v2"]]
    page.keyboard.press("Home")
    page.click(f"#tape-{id_of['v4']} .tape-jump")  # before backward: v4's forward step
    assert _state(page)["step"] == {"phase": "forward", "node": id_of["v4"]}
    assert page.inner_text(f"#tape-{id_of['v5']} td.value") == "?"
    assert page.errors == []


def test_forward_mode_toggle_animates_tangents(page, live_server):
    """Direction e2 (x2 moved, x1 held): the tangents appear node by node as the forward pass
    replays, and each equals torch.func.jvp of that node's function in direction (0, 1).
    Mutation: `name === trace.inputs[0]` for `name === chosen` in forward_mode.js direction()."""
    _typed_baydin(page, live_server)
    page.select_option('[data-action="speed"]', "400")
    assert "2 forward passes" in page.inner_text("#pass-counter")
    assert "1 backward pass" in page.inner_text("#pass-counter")
    page.select_option("#forward-direction", "x2")
    page.check("#forward-toggle")
    wait_until(page, "document.querySelector('#tape-table').classList.contains('has-tangents')")
    # Mid-animation: the output's tangent is not shown yet.
    wait_until(page, "window.chainrule.player().state().index >= 2")
    if _state(page)["index"] < _state(page)["forward"]:
        assert page.inner_text("#tape-table tbody tr:last-child td.tangent") == "–"
    wait_until(page, "(() => { const s = window.chainrule.player().state();"
                     " return s.index === s.forward && !s.playing; })()", timeout=30)
    names = page.eval_on_selector_all("#tape-table tbody th[scope=row]", "hs => hs.map(h => h.textContent)")
    cells = page.eval_on_selector_all("#tape-table tbody td.tangent", "ts => ts.map(t => t.textContent)")
    for name, cell in zip(names, cells):
        _, expected = torch.func.jvp(PARTS[name], (torch.tensor(2.0), torch.tensor(5.0)),
                                     (torch.tensor(0.0), torch.tensor(1.0)))
        assert _number(cell) == pytest.approx(float(expected), rel=1e-3, abs=1e-6), name
    output = page.evaluate("Array.from(document.querySelectorAll('#graph text.cr-tangent'))"
                                    ".map(t => t.textContent).find(t => t.startsWith('v\\u03075'))")
    assert _number(output.split("=")[1]) == pytest.approx(1.7163, rel=1e-3)
    assert "Forward mode: v\u03075 = v\u03073 − v\u03074" in page.inner_text("#chain")
    page.uncheck("#forward-toggle")
    assert page.inner_text("#tape-table tbody tr:last-child td.tangent") == "–"
    assert page.errors == []


def test_a_direction_changed_mid_replay_still_stops_before_the_backward_pass(page, live_server):
    """Forward mode on along x1, and while its replay plays the direction becomes x2: the new
    replay stops at the forward pass's end (no gradient shown, as a live class would see),
    with x2's tangents. Found by a new-user review. Mutation: forward_mode.js's animate()
    setting `mode.animating = true` before `p.reset()` (the reset's pause cleared it, and the
    replay ran through every backward step)."""
    _typed_baydin(page, live_server)
    page.select_option('[data-action="speed"]', "400")
    page.select_option("#forward-direction", "x1")
    page.check("#forward-toggle")
    wait_until(page, "window.chainrule.player().state().playing && window.chainrule.player().state().index >= 1")
    page.select_option("#forward-direction", "x2")  # mid-replay
    wait_until(page, "(() => { const s = window.chainrule.player().state();"
                     " return s.index === s.forward && !s.playing; })()", timeout=30)
    page.wait_for_timeout(1500)  # three more steps' time at this speed: it stays
    state = _state(page)
    assert state["index"] == state["forward"] and not page.evaluate("window.chainrule.player().state().playing")
    output = page.evaluate("Array.from(document.querySelectorAll('#graph text.cr-tangent'))"
                           ".map(t => t.textContent).find(t => t.startsWith('v\\u03075'))")
    assert _number(output.split("=")[1]) == pytest.approx(1.7163, rel=1e-3)  # x2's, as above
    assert page.errors == []


def test_keyboard_walks_the_graph_node_by_node(page, live_server):
    """Tab into the graph, ] and [ (and Shift+↓) walk the nodes, each named with torch's value
    and gradient; Enter goes to the node's step and the live panel says its explanation;
    → still steps the player. Mutation: drop `event.key === "]" ||` in node_walk.js."""
    values, adjoints = _torch_values_and_adjoints()
    _typed_baydin(page, live_server)
    page.click("h1")
    for _ in range(14):
        page.keyboard.press("ArrowRight")
    page.focus('[data-action="speed"]')
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "graph"
    walked = []
    for _ in range(7):
        page.keyboard.press("]")
        walked.append(page.evaluate("document.activeElement.getAttribute('aria-label')"))
    assert [w.split(",")[0] for w in walked] == ["x1", "x2", "v1", "v2", "v3", "v4", "v5"]
    for label in walked:
        name, value, grad = label.split(", ")
        assert _number(value.removeprefix("value ")) == pytest.approx(values[name], rel=1e-3)
        assert _number(grad.removeprefix("gradient ")) == pytest.approx(adjoints[name], rel=1e-3)
    page.keyboard.press("[")
    page.keyboard.press("[")
    page.keyboard.press("Shift+ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("v4")
    page.keyboard.press("[")
    focused = page.evaluate("document.activeElement.id")
    page.keyboard.press("Enter")
    assert _state(page)["step"] == {"phase": "backward", "node": focused}
    trace = page.evaluate("window.chainrule.player().trace")
    assert page.get_attribute("#chain", "aria-live") == "polite"
    assert page.inner_text("#chain .formula") == trace["explain"]["backward"][focused]
    index = _state(page)["index"]
    page.keyboard.press("ArrowRight")
    assert _state(page)["index"] == index + 1
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "graph"
    assert page.errors == []


def test_guard_boxes_appear_only_while_the_program_does_the_mistake(page, live_server):
    """Typed: reading x.grad before backward() shows a box for line 2; clicking it selects
    that line in the editor; the corrected program shows none.
    Mutation: drop `editor.setSelectionRange(...)` in guard_boxes.js (the line is not selected)."""
    open_blank(page, live_server)
    wrong = "x = torch.tensor(2.0, requires_grad=True)\nprint(x.grad)\ny = x * x\ny.backward()\nx.grad"
    type_source(page, wrong)
    page.wait_for_selector('aside.guard[data-kind="grad-before-backward"][data-line="2"]', timeout=30000)
    page.click('aside.guard[data-line="2"]')
    selected = page.evaluate("(() => { const e = document.getElementById('source');"
                             " return e.value.slice(e.selectionStart, e.selectionEnd); })()")
    assert selected == "print(x.grad)"
    right = "x = torch.tensor(2.0, requires_grad=True)\ny = x * x\ny.backward()\nprint(x.grad)\nx.grad"
    type_source(page, right)
    wait_until(page, "!document.querySelector('aside.guard')", timeout=30)
    refused = "x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\nx.grad"
    type_source(page, refused)
    page.wait_for_selector('aside.guard[data-kind="non-scalar-backward"][data-line="3"]', timeout=30000)
    assert "y.backward(torch.ones_like(y))" in page.inner_text("#guards")
    assert page.errors == []


def test_forward_mode_follows_a_new_typed_function(page, live_server):
    """With the toggle on, typing a new function asks for its tangents again (sin(x)·x at
    x = 1: ẏ = sin 1 + cos 1, torch.func.jvp); a program without inputs disables the toggle.
    Mutation: drop the `request(p)` on chainrule:loaded in forward_mode.js (stale tangents)."""
    open_blank(page, live_server)  # sin(x) at x = 1
    page.check("#forward-toggle")
    wait_until(page, "document.querySelector('#tape-table').classList.contains('has-tangents')")
    type_source(page, "sin(x)*x")
    wait_until(page, "document.querySelectorAll('#tape-table tbody tr').length === 3", timeout=30)
    wait_until(page, "(() => { const s = window.chainrule.player().state();"
                     " return s.index === s.forward && !s.playing; })()", timeout=30)
    _, expected = torch.func.jvp(lambda x: torch.sin(x) * x, (torch.tensor(1.0),), (torch.tensor(1.0),))
    last = page.inner_text("#tape-table tbody tr:last-child td.tangent")
    assert _number(last) == pytest.approx(float(expected), rel=1e-3)
    type_source(page, "x = torch.tensor(2.0, requires_grad=True)\ny = x * x\ny")
    wait_until(page, "document.getElementById('forward-toggle').disabled", timeout=30)
    assert not page.is_checked("#forward-toggle")
    assert "needs inputs" in page.inner_text("#pass-counter")
    assert page.errors == []


_LINE_OF = """(line => { const e = document.getElementById('source'), s = getComputedStyle(e);
  const lh = parseFloat(s.lineHeight), r = e.getBoundingClientRect();
  const b = document.querySelector('aside.guard[data-line="' + line + '"]').getBoundingClientRect();
  return {line: r.top + parseFloat(s.borderTopWidth) + parseFloat(s.paddingTop) + lh * (line - 0.5) - e.scrollTop,
          lh: lh, centre: (b.top + b.bottom) / 2, left: b.left, editorRight: r.right, scroll: e.scrollTop}; })"""


def test_guard_box_stands_beside_its_line_and_follows_the_scroll(page, live_server):
    """At 1280×720 a typed program reading x.grad before backward() on line 3 shows its box
    right of the editor, its centre within one line-height of line 3's middle (computed here
    from the textarea's own style and scroll); scrolling the editor by one line moves it along.
    Mutations (each fails here): in guard_boxes.js place(), drop `- editor.scrollTop` (the box
    ignores the scroll: shown while its line is out of view); or write `Math.max(offset, …)`
    for the top (no alignment with the line: the box sits at the editor's top)."""
    open_blank(page, live_server)
    body = "\n".join(f"v{i} = v{i - 1} * 2" for i in range(1, 11))
    program = ("x = torch.tensor(2.0, requires_grad=True)\nv0 = x * 2\nprint(x.grad)\n"
               + body + "\ny = v10 + 1\ny.backward()\nx.grad")
    type_source(page, program)
    page.wait_for_selector('aside.guard[data-kind="grad-before-backward"][data-line="3"]', state="attached", timeout=30000)
    # Typing left the editor scrolled to its end, line 3 out of view (and its box hidden).
    assert page.is_hidden('aside.guard[data-line="3"]')
    page.evaluate("document.getElementById('source').scrollTop = 0")
    wait_until(page, f"(() => {{ const m = {_LINE_OF}(3); return Math.abs(m.centre - m.line) <= m.lh; }})()")
    at = page.evaluate(f"{_LINE_OF}(3)")
    assert abs(at["centre"] - at["line"]) <= at["lh"] and at["left"] > at["editorRight"], at
    page.locator(".editor-panel").screenshot(path="/tmp/guards-beside.png")
    page.evaluate("(() => { const e = document.getElementById('source'); e.scrollTop = parseFloat(getComputedStyle(e).lineHeight); })()")
    wait_until(page, f"{_LINE_OF}(3).scroll > 0")
    wait_until(page, f"(() => {{ const m = {_LINE_OF}(3); return Math.abs(m.centre - m.line) <= m.lh / 2; }})()", timeout=5)
    moved = page.evaluate(f"{_LINE_OF}(3)")
    assert abs((at["centre"] - moved["centre"]) - (at["line"] - moved["line"])) <= 2, (at, moved)
    assert at["line"] - moved["line"] > at["lh"] / 2, (at, moved)
    assert page.errors == []


def test_practice_says_when_a_tensor_step_has_no_question(page, live_server):
    """Practice on, a typed program whose backward passes a tensor gradient (x * x of shape
    [2]): at that step the page says in one sentence that there is no question; at the
    scalar steps it does not.
    Mutation: drop `tensorNote(p, event.detail.index);` in practice.js (never said)."""
    open_blank(page, live_server)
    type_source(page, "x = torch.tensor([1.0, 2.0], requires_grad=True)\ns = x * x\ny = s.sum()\ny")
    wait_until(page, "(() => { const t = JSON.parse(document.getElementById('graph').dataset.trace);"
                     " return t.nodes.some(n => n.shape && n.shape.length) && !document.querySelector('#graph.stale'); })()",
               timeout=30)
    page.evaluate("document.activeElement.blur()")
    before = page.evaluate("window.chainrule.state().loads")
    page.check("#practice-toggle")
    practice_graph_loaded(page, before)
    page.click("h1")
    sentence = "This step's gradient is a tensor: watch it, no question here."
    said = []
    for _ in range(40):
        state = _state(page)
        if state["index"] >= state["steps"]:
            break
        page.keyboard.press("ArrowRight")
        if page.is_visible("#practice-form"):
            reveal_answer(page)
        step = page.evaluate("(() => { const p = window.chainrule.player(), s = p.steps[p.state().index - 1];"
                             " const n = p.trace.nodes.find(m => m.id === s.node);"
                             " return {phase: s.phase, tensor: !!(n.shape && n.shape.length)}; })()")
        shown = page.is_visible("#practice-tensor")
        assert shown == (step["phase"] == "backward" and step["tensor"]), (step, shown)
        if shown:
            said.append(page.inner_text("#practice-tensor"))
    assert said and set(said) == {sentence}
    assert page.errors == []


def test_practice_on_a_folded_loop_asks_only_what_the_boxes_show(page, live_server):
    """A folded box keeps its last repetition's numbers: practice asks at that repetition only,
    and plain PyTorch's gradient of that repetition is right (the review saw 0.9801, the
    right answer at repetition 98, marked wrong). Loop: y_k = y_(k-1) · 0.99 + 0.01, so
    ∂y₁₀₀/∂y_k = 0.99^(100−k). Mutation: in lesson/practice.py asked_ids, drop the test
    for a node feeding a folded box (x is asked, and its answer is wrong)."""
    open_blank(page, live_server)
    before = page.evaluate("window.chainrule.state().loads")
    type_source(page, "y = x\nfor i in range(100):\n    y = y * 0.99 + 0.01\ny")
    wait_until(page, f"window.chainrule.state().loads > {before}", timeout=30)
    assert "Folded: line 3 repeats 99 times" in page.inner_text("#graph-area")
    before = page.evaluate("window.chainrule.state().loads")
    page.check("#practice-toggle")
    practice_graph_loaded(page, before)
    page.click("h1")
    page.keyboard.press("End")
    asked = []
    for _ in range(40):
        if _state(page)["index"] >= _state(page)["steps"]:
            break
        if not page.is_visible("#practice-form"):
            page.keyboard.press("ArrowRight")
            continue
        question = page.inner_text("#practice-question")
        name = re.search(r"∂y₁₀₀/∂(\S+)\?", question).group(1)
        # Which y_k or v_k the box asked about is, as the graph shows it: a folded box's title
        # carries its count (its last repetition, k = 99); the last iteration's are k = 100.
        titles = page.eval_on_selector_all("#graph g.node text:first-of-type", "ts => ts.map(t => t.textContent)")
        folded = any(t.startswith(name + " ×") for t in titles)
        k = 0 if name == "x" else 99 if folded else 100
        truth = 0.99 ** (100 - k)  # x is y₀: its gradient comes through the first repetition only
        asked.append(name)
        assert "Right" in submit_answer(page, f"{truth:.6g}"), (name, truth, question)
    assert 3 <= len(asked) <= 8 and len(set(asked)) == len(asked), asked  # each box once
    assert page.errors == []
