"""The web process reads each worker trace back once through the model (sandbox/gate.py):
a trace the model does not describe is chainrule's bug, answered in the error shape."""
from __future__ import annotations

import copy

from webapp import create_app
from webapp.services import services


class OneAnswerPool:
    """Stands in for the worker pool: answers every job with one prepared answer."""

    size, closed, replaced, starting = 2, False, 1, 0

    def __init__(self, answer):
        self.answer, self.jobs = answer, 0

    def run(self, job, timings=None):
        self.jobs += 1
        return copy.deepcopy(self.answer)

    def close(self):
        pass


def app_answering(answer):
    app = create_app({"TESTING": True, "COOL_DOWN_SECONDS": 0.0})
    services(app).pool = OneAnswerPool(answer)
    return app


def test_a_trace_the_model_does_not_describe_is_an_internal_error_and_not_kept(client):
    """Mutation: drop the `_read_trace(answer)` call in gate.evaluate: the bad trace is
    served as a 200 (and cached)."""
    good = client.post("/api/trace", json={"source": "x * 3", "inputs": {"x": 2}}).get_json()
    bad = copy.deepcopy(good)
    bad["nodes"][0]["kind"] = "mystery"
    app = app_answering(bad)
    with app.test_client() as other:
        for _ in range(2):
            response = other.post("/api/trace", json={"source": "x * 3", "inputs": {"x": 2}})
            assert response.status_code == 500
            error = response.get_json()["error"]
            assert error["kind"] == "internal" and "chainrule's bug" in error["message"]
            assert "nodes[0].kind" in error["message"]
    assert services(app).pool.jobs == 2  # never cached: asked again, read again


def test_a_good_trace_passes_unchanged(client):
    good = client.post("/api/trace", json={"source": "x * 3", "inputs": {"x": 2}}).get_json()
    app = app_answering(good)
    with app.test_client() as other:
        response = other.post("/api/trace", json={"source": "x * 3", "inputs": {"x": 2}})
    assert response.status_code == 200 and response.get_json() == good
