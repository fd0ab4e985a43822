"""The layout service: running `dot` processes, a deadline, remembered timeouts, fair shares."""
from __future__ import annotations

import subprocess
import threading
import urllib.parse

import pytest

from webapp.drawing import layout
from webapp.errors import ChainruleError
from webapp.drawing.layout import LayoutService
from webapp.services import services

# About 3,000 nodes in one chain: `dot` needs far longer than a millisecond for it.
BIG = "digraph { " + " ".join(f"a{i} -> a{i + 1};" for i in range(3000)) + " }"


@pytest.fixture
def started(monkeypatch):
    """Every `dot` process started while the test runs."""
    processes = []
    real = subprocess.Popen

    def counting(*args, **kwargs):
        process = real(*args, **kwargs)
        processes.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", counting)
    return processes


def test_fifty_graphs_start_no_more_processes_than_the_pool_holds(started):
    """Mutation: `healthy=answer is not None` -> `healthy=False` in layout(): a new `dot` per graph."""
    service = LayoutService(size=2, deadline_seconds=20)
    answers = {}

    def draw(indices):
        for k in indices:
            answers[k] = service.layout(f'digraph {{ "in{k}" -> "out{k}" }}', "svg")

    try:
        threads = [threading.Thread(target=draw, args=(range(start, 50, 4),)) for start in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        service.close()
    assert sorted(answers) == list(range(50))
    for k, svg in answers.items():  # each answer is its own graph's drawing, whole
        assert svg.endswith(b"</svg>\n") and f">in{k}<".encode() in svg and svg.count(b"<svg") == 1
    assert 1 <= len(started) <= 2 and service.starts == len(started)


def test_png_comes_whole_from_a_running_process(started):
    """Mutation: END_MARKERS["png"] = b"IEND" (the answer ends in the CRC): never seen, a limit."""
    service = LayoutService(size=1, deadline_seconds=20)
    try:
        first = service.layout('digraph { a -> b }', "png")
        second = service.layout('digraph { c -> d -> e }', "png")
    finally:
        service.close()
    for png in (first, second):
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82")
    assert len(started) == 1


def test_a_layout_past_the_deadline_replaces_the_process(started):
    """Mutation: delete `dot.close()` in _release: the timed-out `dot` is left running."""
    service = LayoutService(size=1, deadline_seconds=0.001)
    try:
        with pytest.raises(ChainruleError) as caught:
            service.layout(BIG, "svg")
        assert caught.value.kind == "limit" and "too large to lay out in time" in caught.value.message
        assert started[0].poll() is not None  # killed
        service.deadline_seconds = 20
        svg = service.layout('digraph { after -> timeout }', "svg")
    finally:
        service.close()
    assert b">after<" in svg and svg.count(b"<svg") == 1
    assert len(started) == 2


def test_a_timed_out_graph_is_refused_at_once_the_second_time(started):
    """Mutation: delete `self._timed_out[digest] = True`: the second try starts a `dot` again."""
    service = LayoutService(size=1, deadline_seconds=0.001)
    try:
        with pytest.raises(ChainruleError):
            service.layout(BIG, "svg")
        count = len(started)
        service.deadline_seconds = 20  # even with time to spare, it is not tried again
        with pytest.raises(ChainruleError) as caught:
            service.layout(BIG, "svg")
    finally:
        service.close()
    assert caught.value.kind == "limit" and len(started) == count


@pytest.mark.parametrize("free, holds_one, others_waiting, allowed", [
    (True, False, False, True),    # nobody busy: start
    (True, False, True, True),     # first process of this sender, even with a queue
    (True, True, True, False),     # a second process while others wait: no
    (True, True, False, True),     # alone, a sender may use the whole pool
    (False, False, False, False),  # no free process: wait
])
def test_one_sender_holds_one_process_while_others_wait(free, holds_one, others_waiting, allowed):
    """Mutation: `return free and (...)` -> `return free` in layout.may_start: the third row fails."""
    assert layout.may_start(free, holds_one, others_waiting) is allowed


def test_a_layout_timeout_counts_against_its_sender(app, client, monkeypatch):
    """Mutation: delete the `evaluator.penalise_sender()` line in images._image_response:
    the sender has no offence."""
    service = services(app).drawing.layout
    monkeypatch.setattr(service, "deadline_seconds", 0.001)
    source = "y = x\nfor i in range(150):\n    y = y * 0.99 + 0.01\ny + 0.123454321"
    # fold=0: all 600 boxes. Folded, the graph is a dozen boxes, which a running `dot` can
    # lay out within the 1 ms deadline (it did, once, in CI).
    response = client.get("/graph.svg?" + urllib.parse.urlencode({"f": source, "x": "1", "fold": "0"}))
    assert response.status_code == 400  # a limit (its picture timed out too: JSON)
    counters = services(app).clients.counters
    assert counters.get("off:127.0.0.1|newcomer") >= 1
