"""A live class's contract (issue 30, docs/api.md "A live class"), through the test client:
begin, follow, drive (the lecturer only), answer with the mistake diagnosed from PyTorch's
numbers, tally, and the bounds."""
from __future__ import annotations

import json
import math

import pytest

from webapp.web import class_store as classroom_store
from webapp.web.class_store import ALPHABET, CODE_LENGTH, LocalStore, valid_code

# x feeds sin and pow (a fan-out); sin's own step is a plain one (one consumer, the product).
# At x = 0.8 every factor of both steps is a different number (checked below).
FUNCTION, X = "exp(sin(x) * x**3)", "0.8"


_LECTURERS = iter(range(1, 60_000))


def begin(client, **state):
    # each from its own address: one address may start only MAX_CLASSES_PER_ADDRESS_HOUR
    n = next(_LECTURERS)
    response = client.post("/class", json=state or {"f": FUNCTION, "inputs": {"x": X}},
                           environ_base={"REMOTE_ADDR": f"10.30.{n // 250}.{n % 250 + 1}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def first_events(chunks, count: int) -> list[dict]:
    """The first `count` `event: state` data of a stream's chunks (keep-alives skipped)."""
    events = []
    for chunk in chunks:
        for block in chunk.decode().split("\n\n"):
            for line in block.splitlines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
        if len(events) >= count:
            break
    return events


def test_a_class_begins_with_a_code_a_join_address_and_the_teachers_cookie(client):
    """Mutation seen failing: CODE_LENGTH = 5 (31**5 < 2**30)."""
    answer = begin(client)
    assert set(answer) == {"code", "join", "token"}
    assert valid_code(answer["code"]) and math.log2(len(ALPHABET)) * CODE_LENGTH >= 30
    assert answer["join"].endswith(f"/join/{answer['code']}")
    cookie = client.get_cookie("chainrule_teacher", path=f"/class/{answer['code']}")
    assert cookie is not None and cookie.value == answer["token"] and cookie.http_only
    assert begin(client)["code"] != answer["code"]


def test_students_get_the_state_at_once_then_each_change(client, app):
    """Mutation seen failing: Hub.publish returns at once (the stream only keeps alive)."""
    lecturer = begin(client)
    student = app.test_client()
    stream = student.get(f"/class/{lecturer['code']}/events", buffered=False)
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    iterator = iter(stream.response)
    first = next(iterator).decode()
    assert "event: state" in first
    state = json.loads(first.split("data: ", 1)[1])
    assert state == {"f": FUNCTION, "inputs": {"x": X}, "grad_output": "", "step": 0, "view": "values",
                     "practice": False, "forward": None, "fold": "auto", "seq": state["seq"]}
    changed = client.post(f"/class/{lecturer['code']}/state", json={"step": 4, "practice": True})
    assert changed.status_code == 200
    # The change was queued before this read: the very next chunk carries it (a keep-alive,
    # 15 s later, would mean it never came).
    pushed = first_events([next(iterator)], 1)[0]
    assert pushed == {**state, "step": 4, "practice": True, "seq": state["seq"] + 1} == changed.get_json()
    stream.close()


def test_a_student_cannot_drive_the_class(client, app):
    """Mutation seen failing: LocalStore.is_teacher returns True for any token."""
    code = begin(client)["code"]
    student = app.test_client()
    for response in (student.post(f"/class/{code}/state", json={"step": 9}),
                     student.post(f"/class/{code}/state", json={"step": 9},
                                  headers={"X-Chainrule-Teacher": "guessed-token-guessed-token"}),
                     student.get(f"/class/{code}/answers")):
        assert response.status_code == 403
        assert response.get_json()["error"]["kind"] == "input"
        assert "lecturer" in response.get_json()["error"]["message"]
    assert student.get(f"/class/{code}/events", buffered=False).status_code == 200


def test_the_token_drives_without_the_cookie(client, app):
    """A script with the token only (X-Chainrule-Teacher). Mutation seen failing: _teacher
    reads the cookie alone."""
    answer = begin(client)
    token, code = answer["token"], answer["code"]
    script = app.test_client()
    assert script.post(f"/class/{code}/state", json={"view": "autograd"},
                       headers={"X-Chainrule-Teacher": token}).get_json()["view"] == "autograd"
    assert script.get(f"/class/{code}/answers", headers={"X-Chainrule-Teacher": token}).status_code == 200


@pytest.mark.parametrize("path, method", [("/class/{}/events", "get"), ("/class/{}/state", "post"),
                                          ("/class/{}/answer", "post"), ("/class/{}/answers", "get"),
                                          ("/join/{}", "get"), ("/class/{}/qr.svg", "get")])
def test_an_unknown_code_is_a_404_in_the_contracts_shape(client, path, method):
    """Mutation seen failing: LocalStore._room returns None for an unknown code (valid_code
    alone still refuses the malformed one)."""
    for code in ("abcdefgh", "NOT-A-CODE"):
        response = getattr(client, method)(path.format(code), json={"step": 1})
        assert response.status_code == 404
        assert response.get_json()["error"]["kind"] == "input"


@pytest.mark.parametrize("body, field", [
    ({"step": -1}, "step"), ({"step": "2"}, "step"), ({"view": "dots"}, "view"),
    ({"practice": "yes"}, "practice"), ({"f": 3}, "f"), ({"inputs": [1]}, "inputs"),
    ({"inputs": {"x": None}}, "inputs"), ({"seq": 9}, "seq"), ({"colour": "red"}, "colour"),
    ({"forward": "x y"}, "forward"), ({"forward": 1}, "forward"), ({"forward": True}, "forward"),
    ({"forward": ""}, "forward"), ({"fold": "yes"}, "fold"), ({"fold": 1}, "fold"), ({"fold": None}, "fold")])
def test_a_bad_state_is_a_400_that_names_the_field(client, body, field):
    """Mutations seen failing: the `view` check removed from state_changes; the `forward`
    check's `not INPUT_NAME.fullmatch(...)` dropped; the `fold` check's isinstance(..., bool)
    written as isinstance(..., int)."""
    code = begin(client)["code"]
    response = client.post(f"/class/{code}/state", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(field)


def test_forward_mode_and_folding_reach_the_students(client, app):
    """The lecturer's forward mode (its direction) and folding are state like the step.
    Mutation seen failing: FIELDS without "forward" (a 400)."""
    code = begin(client)["code"]
    stream = app.test_client().get(f"/class/{code}/events", buffered=False)
    iterator = iter(stream.response)
    first = json.loads(next(iterator).decode().split("data: ", 1)[1])
    assert first["forward"] is None and first["fold"] == "auto"
    changed = client.post(f"/class/{code}/state", json={"forward": "x", "fold": False, "step": 2})
    assert changed.status_code == 200, changed.get_json()
    pushed = first_events([next(iterator)], 1)[0]
    assert pushed == {**first, "forward": "x", "fold": False, "step": 2, "seq": first["seq"] + 1}
    off = client.post(f"/class/{code}/state", json={"forward": None}).get_json()
    assert off["forward"] is None and off["fold"] is False
    stream.close()


@pytest.mark.parametrize("body, field", [({"value": 1}, "node"), ({"node": "n1"}, "value"),
                                         ({"node": "n1", "value": True}, "value"),
                                         ({"node": 1, "value": 1}, "node")])
def test_a_bad_answer_is_a_400_that_names_the_field(client, app, body, field):
    code = begin(client)["code"]
    response = app.test_client().post(f"/class/{code}/answer", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(field)


def _trace(client) -> dict:
    response = client.post("/api/trace", json={"source": FUNCTION, "inputs": {"x": float(X)}})
    assert response.status_code == 200
    return response.get_json()


def _cases(trace: dict) -> list[tuple[str, str, float]]:
    """(node, kind, value) for every kind, at x's fan-out and at sin's plain step, each value
    one of PyTorch's own numbers from the trace."""
    nodes = {n["id"]: n for n in trace["nodes"]}
    x = next(n for n in trace["nodes"] if n["name"] == "x")
    sin = next(n for n in trace["nodes"] if n["label"] == "sin")
    cases = []
    for node, fan_out in ((x, True), (sin, False)):
        edges = [e for e in trace["edges"] if e["source"] == node["id"] and e.get("grad") is not None]
        assert (len(edges) > 1) == fan_out
        cases += [(node["id"], None, node["grad"]), (node["id"], "sign", -node["grad"]),
                  (node["id"], "upstream_only", nodes[edges[0]["target"]]["grad"]),
                  (node["id"], "local_only", edges[-1]["local_grad"]),
                  (node["id"], "forward_value", node["value"]),
                  (node["id"], "other", node["grad"] * 3.7 + 0.31)]
        if fan_out:
            cases += [(node["id"], "one_path", edges[0]["grad"]), (node["id"], "one_path", edges[1]["grad"])]
    numbers = [value for _, _, value in cases]
    for i, a in enumerate(numbers):  # no two kinds share a number, so each case has one answer
        assert all(abs(a - b) > 0.02 * max(abs(a), abs(b)) for j, b in enumerate(numbers)
                   if j != i and cases[i][0] == cases[j][0]), cases
    return cases


def test_each_mistake_is_diagnosed_from_pytorchs_numbers(client, app):
    """Each kind at a fan-out (x feeds sin and pow) and at a plain step (sin feeds the product).
    Mutations seen failing: the sign test negates nothing (`_close(value, truth)`); one_path
    asks `len(edges) > 2`; upstream_only and local_only tried in the other order would still
    pass (the numbers differ), so each branch was also deleted once: its case becomes other."""
    trace = _trace(client)
    lecturer = begin(client)
    results = {}
    for node, kind, value in _cases(trace):
        student = app.test_client()  # one student per answer: the first verdict is each one's
        response = student.post(f"/class/{lecturer['code']}/answer", json={"node": node, "value": value})
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        assert (answer["correct"], answer["mistake"]) == (kind is None, kind), (node, kind, value, answer)
        assert answer["hint"]
        results.setdefault(node, []).append(kind)
    tally = client.get(f"/class/{lecturer['code']}/answers").get_json()
    for node, kinds in results.items():
        row = tally["nodes"][node]
        assert row["answers"] == len(kinds) and row["correct"] == kinds.count(None)
        assert row["mistakes"] == {k: kinds.count(k) for k in kinds if k}


def test_a_student_rounding_to_three_figures_still_gets_the_kind(client, app):
    trace = _trace(client)
    code = begin(client)["code"]
    x = next(n for n in trace["nodes"] if n["name"] == "x")
    answer = app.test_client().post(f"/class/{code}/answer",
                                    json={"node": x["id"], "value": -float(f"{x['grad']:.3g}")}).get_json()
    assert answer["mistake"] == "sign"


def test_answers_per_student_per_step_are_bounded(client, app):
    """Mutation seen failing: the MAX_CLASS_TRIES check in LocalStore._refuse removed."""
    trace = _trace(client)
    code = begin(client)["code"]
    x = next(n for n in trace["nodes"] if n["name"] == "x")
    student = app.test_client()
    for _ in range(classroom_store.MAX_CLASS_TRIES):
        assert student.post(f"/class/{code}/answer", json={"node": x["id"], "value": 0.1}).status_code == 200
    refused = student.post(f"/class/{code}/answer", json={"node": x["id"], "value": 0.1})
    assert refused.status_code == 429 and refused.get_json()["error"]["kind"] == "limit"
    row = client.get(f"/class/{code}/answers").get_json()["nodes"][x["id"]]
    assert row["answers"] == 1  # each student counted once, by the first answer


def test_a_class_holds_at_most_so_many_students(monkeypatch):
    """Mutation seen failing: the MAX_CLASS_STUDENTS check in LocalStore._refuse removed."""
    monkeypatch.setattr(classroom_store, "MAX_CLASS_STUDENTS", 3)
    store = LocalStore()
    code, _ = store.create()
    for student in "abc":
        store.record(code, student, "n1", "correct")
    store.record(code, "a", "n2", "sign")  # a student already in
    with pytest.raises(classroom_store.ChainruleError) as refused:
        store.record(code, "d", "n1", "correct")
    assert refused.value.status == 429


def test_an_ended_class_is_gone_and_its_memory_freed():
    """Mutation seen failing: LocalStore._sweep deletes nothing."""
    now = [0.0]
    store = LocalStore(seconds=100, clock=lambda: now[0])
    code, _ = store.create()
    store.record(code, "a", "n1", "correct")
    now[0] = 100.5
    with pytest.raises(classroom_store.ChainruleError) as gone:
        store.state(code)
    assert gone.value.status == 404
    store.create()  # any new class sweeps the ended ones
    assert code not in store.rooms and len(store.rooms) == 1


def test_the_join_page_and_the_qr_code(client, app):
    code = begin(client)["code"]
    page = app.test_client().get(f"/join/{code}")
    assert page.status_code == 200 and f'data-code="{code}"' in page.get_data(as_text=True)
    qr = client.get(f"/class/{code}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.get_data(as_text=True).lstrip().startswith("<svg") and "http" not in qr.get_data(as_text=True).split(">", 1)[1]


def test_one_address_cannot_fill_the_server_with_classes(client):
    """Classes last 12 h and a process holds MAX_CLASSES: one sender starting them in a loop
    would lock every lecturer out. Mutation: the per-address count removed from begin()."""
    from webapp.limits import MAX_CLASSES_PER_ADDRESS_HOUR
    attacker, lecturer = {"REMOTE_ADDR": "10.31.0.1"}, {"REMOTE_ADDR": "10.31.0.2"}
    for _ in range(MAX_CLASSES_PER_ADDRESS_HOUR):
        assert client.post("/class", json={}, environ_base=attacker).status_code == 201
    refused = client.post("/class", json={}, environ_base=attacker)
    assert refused.status_code == 429 and "classes in the last hour" in refused.get_json()["error"]["message"]
    assert client.post("/class", json={}, environ_base=lecturer).status_code == 201


def test_streams_catch_up_on_a_change_no_announcement_brought():
    """A lost Redis subscription loses announcements: once subscribed again (catch_up) the
    streams get the store's state when newer, once; a class the store could not read then
    (Redis still away), at a later heartbeat. Mutations seen failing: Hub.beat never
    publishes (keep-alives only); Hub.publish without its `seq <=` check (the same state
    sent twice)."""
    from webapp.errors import ChainruleError
    from webapp.web.class_stream import Hub, QueueSink, event_bytes

    class Flaky(LocalStore):
        away = False

        def state(self, code):
            if self.away:
                raise ChainruleError("busy", "The shared store did not answer.", status=503)
            return super().state(code)

    store = Flaky()
    hub = Hub(store)
    code, _ = store.create()
    sink = QueueSink()
    hub.attach(code, sink, store.state(code)["seq"])
    keep_alive = b": keep-alive\n\n"

    def sent():
        out = []
        while not sink.queue.empty():
            out.append(sink.queue.get_nowait())
        return out

    hub.catch_up()
    hub.beat()
    assert sent() == [keep_alive]   # nothing new: no state sent again
    store.listeners.clear()         # the announcements are lost from now on
    changed = store.update(code, {"step": 2})
    hub.catch_up()
    hub.catch_up()
    hub.beat()
    assert sent() == [event_bytes(changed), keep_alive]
    later = store.update(code, {"step": 3})
    store.away = True
    hub.catch_up()                  # cannot read it: the heartbeat will
    hub.beat()
    assert sent() == [keep_alive]
    store.away = False
    hub.beat()
    hub.beat()
    assert sent() == [event_bytes(later), keep_alive]


def test_a_hint_into_the_output_names_its_local_derivative_not_the_answer(client):
    """x·w at x = 3, w = 0.5: a student who answers v1's upstream 1 for x is told to multiply
    by v1's local derivative in x; as ∂v1/∂x that read as the very gradient asked (v1 is the
    output). Mutation seen failing: mistakes._hint's upstream_only back to `∂{one}/∂{name}`."""
    from webapp.lesson.mistakes import diagnose
    trace = client.post("/api/trace", json={"source": "x * w", "inputs": {"x": 3.0, "w": 0.5}}).get_json()
    x = next(n for n in trace["nodes"] if n["name"] == "x")
    verdict = diagnose(trace, x["id"], 1.0)
    assert verdict["mistake"] == "upstream_only", verdict
    assert verdict["hint"].endswith("multiply it by v1's local derivative in x."), verdict
    assert "∂v1/∂x" not in verdict["hint"]


def test_the_lecturers_seed_is_the_classs(client, app):
    """A lecturer whose page starts backward() from grad_output 2: the students' answers are
    checked against that pass (x·w at x = 3, w = 0.5: x̄ = 2 · 0.5 = 1, plain torch's), and a
    seed the page would refuse is a 400 that names grad_output. Mutation seen failing:
    classroom.answer() without the grad_output argument (0.5 was right, 1 wrong)."""
    import torch
    x = torch.tensor(3.0, requires_grad=True)
    (x * 0.5).backward(torch.tensor(2.0))
    made = client.post("/class", json={"f": "x*w", "inputs": {"x": "3", "w": "0.5"}, "grad_output": "2"})
    assert made.status_code == 201, made.get_json()
    code = made.get_json()["code"]
    student = app.test_client()
    trace = client.post("/api/trace", json={"source": "x*w", "inputs": {"x": 3.0, "w": 0.5}}).get_json()
    node = next(n["id"] for n in trace["nodes"] if n["name"] == "x")
    right = student.post(f"/class/{code}/answer", json={"node": node, "value": x.grad.item()}).get_json()
    assert right["correct"] is True, right
    bad = client.post(f"/class/{code}/state", json={"grad_output": "[1,"})
    assert bad.status_code == 400 and "grad_output" in bad.get_json()["error"]["message"]
