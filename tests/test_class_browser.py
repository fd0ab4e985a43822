"""A live class in Chromium: one lecturer page and three student pages (each its own browser
context, so three anonymous students). The lecturer types a function and steps; the
students' screens follow; with practice on, their answers appear in the lecturer's panel
under the right mistake kinds. Screenshots: the lecturer's panel, a student's phone."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.browser

FUNCTION = "exp(sin(x) * x**3)"


NAVIGATING = ("Execution context was destroyed", "detached")


def wait_for(read, wanted, timeout=60.0):
    """Poll `read()` until `wanted(value)`; generous, a busy machine is slow, not wrong. A
    student's frame loads a new page at each change of the lecturer's function or inputs
    (its src is the state's): a read that lands in that navigation is "not yet" (a busy CI
    run once read between the function's change and the inputs')."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = read()
        except PlaywrightError as error:
            if not any(words in str(error) for words in NAVIGATING):
                raise
            value = None
        if value is not None and wanted(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out; last value {value!r}")


def student_frame(student):
    return student.locator("#join-graph").element_handle().content_frame()


def student_index(student):
    frame = student_frame(student)
    if frame is None:
        return None
    return frame.evaluate("window.chainrule && window.chainrule.player() ? "
                          "[window.chainrule.player().source || '', window.chainrule.player().state().index] : null")


def test_a_lecturer_and_three_students(browser, live_server, artifacts):
    """Mutations seen failing: classroom.js's lecturer sends nothing on chainrule:step (the
    students stay at step 0); the practice form submits `value: -value` (the kinds swap)."""
    lecturer_context = browser.new_context(viewport={"width": 1400, "height": 900})
    lecturer_context.set_default_timeout(120_000)  # a loaded machine is slow, not wrong
    lecturer = lecturer_context.new_page()
    errors = []
    lecturer.on("pageerror", lambda error: errors.append(str(error)))
    contexts, students = [], []
    try:
        lecturer.goto(f"{live_server}/?f=x*x&x=2")
        lecturer.wait_for_selector("#graph svg")
        lecturer.click("#class-start")
        code = wait_for(lambda: lecturer.text_content("#class-code"), bool)
        assert lecturer.is_visible("#class-qr")
        for _ in range(3):
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.set_default_timeout(120_000)
            student = context.new_page()
            student.on("pageerror", lambda error: errors.append(str(error)))
            student.goto(f"{live_server}/join/{code}")
            contexts.append(context)
            students.append(student)

        # The lecturer types a function: every student's graph becomes it.
        lecturer.fill("#source", FUNCTION)
        lecturer.fill("input.input-value[name=x]", "0.8")
        lecturer.click("button.run")
        wait_for(lambda: lecturer.evaluate("window.chainrule.player().trace.nodes.length"), lambda n: n >= 5)
        for student in students:
            wait_for(lambda: student.get_attribute("#join-graph", "src") or "", lambda src: "exp" in src)
            wait_for(lambda: student_index(student), lambda v: v is not None)

        # The lecturer steps (keys on the page): the students follow.
        lecturer.click("header h1")
        for _ in range(3):
            lecturer.keyboard.press("ArrowRight")
        lecturer_step = lecturer.evaluate("window.chainrule.player().state().index")
        assert lecturer_step == 3
        for student in students:
            wait_for(lambda: student_index(student), lambda v: v and v[1] == lecturer_step)

        # A student steps ahead alone, then snaps back.
        students[0].click("#join-ahead")
        wait_for(lambda: student_index(students[0]), lambda v: v[1] == lecturer_step + 1)
        assert students[0].get_attribute("#join-follow", "aria-pressed") == "false"
        students[0].click("#join-follow")
        wait_for(lambda: student_index(students[0]), lambda v: v[1] == lecturer_step)

        # Practice: the lecturer stops just before x's backward step; each student predicts it.
        trace = lecturer.evaluate("window.chainrule.player().trace")
        x = next(n for n in trace["nodes"] if n["name"] == "x")
        edges = [e for e in trace["edges"] if e["source"] == x["id"] and e.get("grad") is not None]
        before = lecturer.evaluate(f"window.chainrule.player().steps.findIndex(s => s.node === '{x['id']}' "
                                   "&& s.phase === 'backward')")
        lecturer.check("#class-practice")
        lecturer.evaluate(f"window.chainrule.player().go({before})")
        # Their frames carry no gradient a question asks: stepping ahead shows no answer.
        # (Mutation seen failing: classroom.js without `practice=1` in the frame's address.)
        for student in students:
            wait_for(lambda: student.get_attribute("#join-graph", "src") or "", lambda src: "practice=1" in src)
            shown = wait_for(lambda: student.evaluate(
                "(() => { const w = document.getElementById('join-graph').contentWindow;"
                " const p = w.chainrule && w.chainrule.player && w.chainrule.player();"
                " return p && p.trace.practice ? [p.trace.nodes.find(n => n.name === 'x').grad] : null; })()"),
                lambda v: v is not None)
            assert shown == [None]
        answers = [(x["grad"], "correct"), (-x["grad"], "sign"), (edges[0]["grad"], "one_path")]
        for student, (value, _) in zip(students, answers):
            wait_for(lambda: student.is_visible("#join-practice"), bool)
            out = next(n for n in trace["nodes"] if n["kind"] == "output")
            # the program's own names (was ∂out/∂x). Mutation: "out" written again.
            assert student.text_content("#join-question") == f"Your prediction: ∂{out['name']}/∂x ="
            student.fill("#join-value", f"{value:.6g}")
            student.click("#join-practice button[type=submit]")
        for student, (_, kind) in zip(students, answers):
            verdict = wait_for(lambda: student.get_attribute("#join-verdict", "data-mistake"), lambda v: v is not None)
            assert (verdict or "correct") == kind

        # The lecturer's panel: x, three answers, one right, one per mistake shown.
        wait_for(lambda: lecturer.text_content(".class-node") or "", lambda t: "3 answered, 1 right" in t)
        counts = lecturer.evaluate("Object.fromEntries([...document.querySelectorAll('.class-bar')].map("
                                   "b => [b.dataset.kind, b.querySelector('.class-bar-count').textContent]))")
        assert counts == {"correct": "1", "upstream_only": "0", "local_only": "0", "one_path": "1",
                          "sign": "1", "forward_value": "0", "other": "0"}
        lecturer.locator("#class-panel").screenshot(path=str(artifacts / "class-lecturer-panel.png"))
        students[1].screenshot(path=str(artifacts / "class-student-phone.png"))
        assert errors == []
    finally:
        for context in contexts:
            context.close()
        lecturer_context.close()


TANGENT_LABELS = ("(() => { const p = window.chainrule && window.chainrule.player(); if (!p) return null;"
                  " return Object.fromEntries([...p.root.querySelectorAll('text.cr-tangent')]"
                  ".map(t => [t.parentNode.id, t.textContent])); })()")


def test_a_student_follows_the_lecturers_forward_mode(browser, live_server, artifacts):
    """The lecturer turns forward mode on along y and steps: the student's screen shows forward
    mode, the same direction, the same step and PyTorch's same tangents; a student who
    stepped ahead alone snaps back to the lecturer's new direction. Mutations seen
    failing: classroom.js's lecturer publishes `forward: null` always (the student's page
    shows no forward mode); the student's labels() shows every tangent at once (`shown.has(...)`
    dropped: labels of nodes not yet computed appear); the student's apply() without
    forward(state); graphUrl() without its `fold` line."""
    lecturer_context = browser.new_context(viewport={"width": 1400, "height": 900})
    student_context = browser.new_context(viewport={"width": 390, "height": 844})
    for context in (lecturer_context, student_context):
        context.set_default_timeout(120_000)
    errors = []
    try:
        lecturer = lecturer_context.new_page()
        lecturer.on("pageerror", lambda error: errors.append(str(error)))
        lecturer.goto(f"{live_server}/?f=sin(x)*y%2Bx&x=0.5&y=2&fold=0")  # fold=0: every node drawn
        lecturer.wait_for_selector("#graph svg")
        lecturer.click("#class-start")
        code = wait_for(lambda: lecturer.text_content("#class-code"), bool)
        student = student_context.new_page()
        student.on("pageerror", lambda error: errors.append(str(error)))
        student.goto(f"{live_server}/join/{code}")
        wait_for(lambda: student_index(student), lambda v: v is not None)
        assert student.is_hidden("#join-forward")
        assert "fold=0" in student.get_attribute("#join-graph", "src")  # folded as the lecturer's

        # Forward mode along y; it replays the forward pass, then pauses; one step more.
        lecturer.select_option("#forward-direction", "y")
        lecturer.check("#forward-toggle")
        forward_steps = lecturer.evaluate("window.chainrule.player().state().forward")
        wait_for(lambda: lecturer.evaluate("[window.chainrule.player().playing(), "
                                           "window.chainrule.player().state().index]"),
                 lambda v: not v[0] and v[1] >= forward_steps)
        lecturer.click("header h1")
        lecturer.keyboard.press("ArrowRight")
        step = lecturer.evaluate("window.chainrule.player().state().index")
        assert step == forward_steps + 1
        wanted = wait_for(lambda: lecturer.evaluate(TANGENT_LABELS), lambda v: v and all(v.values()))
        assert wanted and any(text.startswith("y\u0307 = 1") for text in wanted.values())  # ẏ = 1

        wait_for(lambda: student.get_attribute("#join", "data-forward"), lambda v: v == "y")
        assert student.is_visible("#join-forward")
        assert "y\u0307 = 1, others 0" in student.text_content("#join-forward")
        wait_for(lambda: student_index(student), lambda v: v and v[1] == step)
        frame = student_frame(student)
        assert wait_for(lambda: frame.evaluate(TANGENT_LABELS), lambda v: v == wanted) == wanted
        student.screenshot(path=str(artifacts / "class-student-forward.png"))
        # Back to step 2: only the nodes computed so far show their tangent, on both screens.
        lecturer.keyboard.press("Home")
        lecturer.keyboard.press("ArrowRight")
        lecturer.keyboard.press("ArrowRight")
        assert lecturer.evaluate("window.chainrule.player().state().index") == 2
        partial = lecturer.evaluate(TANGENT_LABELS)
        assert "" in partial.values() and any(partial.values())
        wait_for(lambda: student_index(student), lambda v: v and v[1] == 2)
        assert wait_for(lambda: frame.evaluate(TANGENT_LABELS), lambda v: v == partial) == partial

        # A student ahead alone keeps y while the lecturer seeds x; "Follow" snaps back to x.
        student.click("#join-ahead")
        wait_for(lambda: student_index(student), lambda v: v and v[1] == 3)
        lecturer.select_option("#forward-direction", "x")
        wait_for(lambda: lecturer.evaluate("[window.chainrule.player().playing(), "
                                           "window.chainrule.player().state().index]"),
                 lambda v: not v[0] and v[1] >= forward_steps)
        step = lecturer.evaluate("window.chainrule.player().state().index")
        seeded_x = wait_for(lambda: lecturer.evaluate(TANGENT_LABELS),
                            lambda v: v and any(t.startswith("x\u0307 = 1") for t in v.values()))
        assert student.get_attribute("#join", "data-forward") == "y"
        student.click("#join-follow")
        wait_for(lambda: student.get_attribute("#join", "data-forward"), lambda v: v == "x")
        wait_for(lambda: student_index(student), lambda v: v and v[1] == step)
        assert wait_for(lambda: frame.evaluate(TANGENT_LABELS), lambda v: v == seeded_x) == seeded_x

        # Off again: the student's tangents go.
        lecturer.uncheck("#forward-toggle")
        wait_for(lambda: student.get_attribute("#join", "data-forward"), lambda v: v == "")
        assert wait_for(lambda: student_frame(student).evaluate(TANGENT_LABELS), lambda v: v == {}) == {}
        assert student.is_hidden("#join-forward")
        assert errors == []
    finally:
        student_context.close()
        lecturer_context.close()


# The lines the class code takes inside the join address on the lecturer's panel.
CODE_LINES = """(() => { const el = document.getElementById('class-join');
  const code = document.getElementById('class-code').textContent;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let node, at = null;
  while ((node = walker.nextNode())) { const i = node.textContent.indexOf(code); if (i >= 0) at = [node, i]; }
  const range = document.createRange(); range.setStart(at[0], at[1]); range.setEnd(at[0], at[1] + code.length);
  return new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size; })()"""


def _class_from(context, live_server, query: str):
    """A lecturer's page at `query` that has begun a class: (the page, the class's code)."""
    lecturer = context.new_page()
    lecturer.goto(f"{live_server}/?{query}")
    lecturer.wait_for_selector("#graph svg")
    lecturer.click("#class-start")
    return lecturer, wait_for(lambda: lecturer.text_content("#class-code"), bool)


def test_the_join_address_never_breaks_inside_the_code(browser, live_server):
    """On the projector the join address wraps after a slash, and the code a student copies is
    on one line (break-all cut it, `…/join/m8y3v` `hv8`). Mutation seen failing: classroom.js
    writing `answer.join` as one text again, with chainrule's old `word-break: break-all`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(120_000)
    try:
        lecturer, code = _class_from(context, live_server, "f=x*x&x=2")
        assert lecturer.inner_text("#class-join").replace("\n", "").endswith(f"/join/{code}")
        assert lecturer.evaluate(CODE_LINES) == 1
    finally:
        context.close()


def test_a_student_sees_the_lecturers_seed(browser, live_server):
    """The lecturer's page starts backward() from grad_output 2: a student's graph is drawn
    from the same pass, x's gradient 2 · 0.5 = 1 (plain torch's), not 0.5. Mutation seen
    failing: classroom.js graphUrl() without grad_output."""
    import torch
    x = torch.tensor(3.0, requires_grad=True)
    (x * 0.5).backward(torch.tensor(2.0))
    lecturer_context = browser.new_context(viewport={"width": 1280, "height": 900})
    student_context = browser.new_context(viewport={"width": 390, "height": 844})
    for context in (lecturer_context, student_context):
        context.set_default_timeout(120_000)
    try:
        _, code = _class_from(lecturer_context, live_server, "f=x*w&x=3&w=0.5&grad_output=2")
        student = student_context.new_page()
        student.goto(f"{live_server}/join/{code}")
        src = wait_for(lambda: student.get_attribute("#join-graph", "src") or "", lambda s: "x*w" in s or "x%2Aw" in s)
        assert "grad_output=2" in src, src
        frame = student.frame_locator("#join-graph")
        grads = wait_for(lambda: frame.locator("body").evaluate(
            "() => { const g = document.getElementById('graph'); if (!g || !g.dataset.trace) return null;"
            " const t = JSON.parse(g.dataset.trace); return t.nodes.filter(n => n.label === 'x').map(n => n.grad); }"),
            lambda v: bool(v))
        assert grads == [x.grad.item()], grads
    finally:
        lecturer_context.close()
        student_context.close()
