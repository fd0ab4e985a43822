"""Where a request's time went: `Server-Timing` names the stages a response really passed,
and the pool hands the next job to the worker that answered last (the warm one)."""
from __future__ import annotations

import urllib.parse

from webapp.sandbox.pool import Worker, WorkerPool


def stages(response) -> dict:
    found = {}
    for part in filter(None, response.headers.get("Server-Timing", "").split(",")):
        name, _, duration = part.strip().partition(";dur=")
        found[name] = float(duration)
    return found


def test_a_new_graph_is_evaluated_and_laid_out_and_a_point_change_only_filled(client):
    """Mutations: drop `with timed("layout")` in render.run_dot (cold has no layout); draw
    numbers into the DOT instead of filling a layout (`if False` for render.draw's
    `view == "values" and fmt == "svg"`: the point change is laid out); drop
    `record("job", ...)` in gate.evaluate (no job)."""
    query = {"f": "x * 3 + 0.901127", "x": "2"}
    cold = client.get("/graph.svg?" + urllib.parse.urlencode(query))
    again = client.get("/graph.svg?" + urllib.parse.urlencode(query))
    moved = client.get("/graph.svg?" + urllib.parse.urlencode(dict(query, x="5")))
    assert cold.status_code == again.status_code == moved.status_code == 200
    assert {"evaluate", "job", "layout", "fill"} <= set(stages(cold))
    assert stages(again) == {}  # the image cache answered: no stage ran
    assert {"evaluate", "job", "fill"} <= set(stages(moved)) and "layout" not in stages(moved)
    for response in (cold, moved):
        spent = stages(response)
        assert 0 < spent["job"] <= spent["evaluate"]  # the worker's part of the round trip


def test_the_next_job_goes_to_the_worker_idle_longest(monkeypatch):
    """Its next child is forked and warm (worker.py). Mutation: `queue.Queue()` ->
    `queue.LifoQueue()` in WorkerPool: one worker serves all three."""
    served = []
    ask = Worker.ask
    monkeypatch.setattr(Worker, "ask", lambda self, job, deadline: (served.append(self.process.pid),
                                                                   ask(self, job, deadline))[1])
    pool = WorkerPool(size=2, deadline_seconds=20)
    try:
        assert len(pool.idle_pids(wait_seconds=60)) == 2
        for value in (1.0, 2.0, 3.0):
            pool.run({"kind": "trace", "source": "x * 2", "inputs": {"x": value}})
    finally:
        pool.close()
    assert len(served) == 3 and served[0] != served[1] and served[0] == served[2]
