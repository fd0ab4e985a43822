"""A typed function's plot is made in its graph's job (one fork, not two: issue 25's opening
burst), and is the answer its own job gives; a plot past its budget costs the graph nothing."""
from __future__ import annotations

import json
import urllib.parse

import pytest

from tests.test_server_timing import stages
from webapp.sandbox import gate
from webapp.services import services
from webapp.web.query import default_span, parse_inputs

# Typed functions as a class types them: Python, a branch on x's sign (per-point plot),
# a def calling torch, and R.
FUNCTIONS = [
    ("sin(x) * 3.417 + x ** 2 / 7", "1.5"),
    ("log(x**2)*sin(x) + 1/x + 0.0173", "0.8"),
    ("y = x * 2.21\nif x > 0:\n    y = y + sin(x)\ny", "-0.5"),
    ("import torch\ndef f(t):\n    return torch.tanh(t) * t + 0.39\nf(x)", "0.3"),
    ("g <- function(t) t^2 * sin(t)\ng(x) + 0.577", "2"),
]
# Its plot is sampled one point at a time (a branch), each point a long loop: seconds of
# CPU, far past the budget (0.25 s).
SLOW = "t = x\nfor i in range(300):\n    if x > 0:\n        t = t + sin(t) * 0.01\nt + 0.6931"
# Run as CPython (set_default_dtype is not the function language's): it changes the process.
DTYPE = "import torch\ntorch.set_default_dtype(torch.float64)\ny = torch.sin(x) * x / 3 + 0.0571\ny"


def type_into_editor(client, source: str, x: str):
    form = urllib.parse.urlencode({"f": source, "x": x})
    return client.post("/partials/graph", data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"})


def the_pool(app):
    with app.app_context():
        return gate.pool()


def plot_job(source: str, x: str) -> dict:
    """The job GET /api/plot?f=…&x=…&wrt=x runs (its answer's cache key, as JSON)."""
    lo, hi = default_span([float(x)])
    return {"kind": "plot", "source": source, "inputs": parse_inputs({"x": x}), "wrt": "x", "lo": lo,
            "hi": hi, "n": 200, "language": None}


def cached(app, job: dict) -> bool:
    return services(app).answers.get(json.dumps(job, sort_keys=True)) is not None


def own_job(app, source: str, x: str) -> dict:
    """The plot as a job of its own, straight to a worker (no cache): the oracle."""
    return the_pool(app).run(plot_job(source, x))


@pytest.mark.parametrize("source,x", FUNCTIONS)
def test_the_editors_plot_comes_from_the_graphs_job_and_equals_its_own_job(app, client, source, x):
    """Mutations: drop the `answers.put(extra_key, …)` loop in gate.evaluate (the plot runs a
    job of its own: `evaluate` in its Server-Timing); `also=None` in build_view (the same);
    in the worker, run the plot before the program's trace with its inputs shifted
    (`{**fields, "inputs": {"x": 0.1}}` in jobs._with_also: the numbers differ)."""
    graph = type_into_editor(client, source, x)
    assert graph.status_code == 200 and "job" in stages(graph)
    assert cached(app, plot_job(source, x))
    plot = client.get("/api/plot?" + urllib.parse.urlencode({"f": source, "x": x, "wrt": "x"}))
    assert plot.status_code == 200
    assert "evaluate" not in stages(plot), "the plot's request ran a job of its own"
    assert json.loads(plot.data) == own_job(app, source, x)


def test_a_plot_past_its_budget_costs_the_graph_nothing_and_is_left_to_its_own_request(app, client):
    """Mutation: on_a_budget without its CPU clock (no ITIMER_PROF: the part runs to the
    wall budget, `job-cpu` over a second). The clocks' other paths: tests/test_part_budget.py."""
    graph = type_into_editor(client, SLOW, "0.5")
    assert graph.status_code == 200, graph.data[:300]
    # CPU, nearly the same on a busy machine: the trace (tens of ms) and the part's 0.25 s
    assert stages(graph)["job-cpu"] < 1000, stages(graph)
    trace = client.post("/api/trace", json={"source": SLOW, "inputs": {"x": 0.5}}).get_json()
    assert b'data-trace' in graph.data and str(trace["output"]["value"]) in graph.data.decode()
    assert not cached(app, plot_job(SLOW, "0.5")), "the plot was made in the graph's job, past its budget"


def test_a_program_run_as_cpython_gets_its_plot_from_its_own_job(app, client):
    """A CPython program may change the process (here torch's default dtype), so a plot made
    after its trace in the same child would not be its own job's (float64 samples). Mutation:
    `_with_also` on jobs.handle's CPython path (the plot is cached, in float64)."""
    graph = type_into_editor(client, DTYPE, "0.7")
    assert graph.status_code == 200, graph.data[:300]
    assert not cached(app, plot_job(DTYPE, "0.7"))
    plot = client.get("/api/plot?" + urllib.parse.urlencode({"f": DTYPE, "x": "0.7", "wrt": "x"}))
    assert plot.status_code == 200 and json.loads(plot.data) == own_job(app, DTYPE, "0.7")


def test_a_new_name_gets_its_plot_made_too(app, client):
    """The editor's form still carries the old input (x) when the student types a function
    of a new one (t): the page then plots t at its new value, 1.0, and that plot is the one
    made. Mutation: the worker's page_plot taking the typed inputs as they came
    (`inputs = dict(typed)`: x's plot, which the page never asks)."""
    source = "sin(t) * 1.0931 + t"
    form = urllib.parse.urlencode({"f": source, "x": "1.5"})
    graph = client.post("/partials/graph", data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"})
    assert graph.status_code == 200
    lo, hi = default_span([1.0])
    job = {"kind": "plot", "source": source, "inputs": {"t": 1.0}, "wrt": "t", "lo": lo, "hi": hi,
           "n": 200, "language": None}
    assert cached(app, job)
    plot = client.get("/api/plot?" + urllib.parse.urlencode({"f": source, "t": "1.0", "wrt": "t"}))
    assert "evaluate" not in stages(plot) and json.loads(plot.data) == the_pool(app).run(job)


def test_a_job_carries_only_the_pages_plot_and_says_which_it_made(app):
    """`also` asks for what the page reads next; a kind it does not allow is null, never run.
    Mutation: ALSO_KINDS = {"plot", "trace"} (a second plot is made for the "trace")."""
    pool = the_pool(app)
    timings: dict = {}
    source = "sin(x) * 1.125"
    answer = pool.run({"kind": "trace", "source": source, "inputs": {"x": 1.0}, "language": None,
                       "also": [{"kind": "trace", "wrt": None, "lo": None, "hi": None, "n": 50},
                                {"kind": "plot", "wrt": None, "lo": -2.0, "hi": None, "n": 50}]}, timings)
    assert answer["output"]["value"] == pytest.approx(0.9466, abs=1e-4)
    refused, made = timings["also"]
    assert refused is None
    fields = {"inputs": {"x": 1.0}, "wrt": "x", "lo": -2.0, "hi": 4.0, "n": 50}
    assert made["job"] == fields
    assert made["ok"] == pool.run({"kind": "plot", "source": source, "language": None, **fields})
