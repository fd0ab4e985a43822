"""The trace model (webapp/model.py) against the answers the server gives.

Every answer of a corpus (the gallery's Python and R examples, the course corpus, and a few
variants: folded, forward mode, without the lesson, a tensor output) is taken from
POST /api/trace as a student's page gets it. Each must validate against
docs/trace.schema.json and come back unchanged, byte for byte, from Trace.from_json(…).to_json().
The schema is checked by fastjsonschema over the whole corpus (compiled: jsonschema takes
a minute for the course corpus's tensors) and by jsonschema, the reference, over the gallery.

Mutations seen failing:
- a field's description changed in model.py: the committed schema differs;
- `steps` dropped from Trace: every answer fails from_json ("Trace has no field 'steps'");
- Node's `_NODE_VALUE_ORDER` with "tangent" before "folded": the API's key order changes
  (test_json_keeps_the_order_the_api_has_always_had);
- `_read_value` accepting any string: the "nan" row of the refusal table passes;
- folding._fold_edges without `edge.entry = True`: no answer has an entry edge.
"""
from __future__ import annotations

import json
from pathlib import Path

import fastjsonschema
import jsonschema
import pytest

from webapp import create_app
from webapp.engine.evaluation import trace_values
from webapp.limits import DEFAULT_LIMITS
from webapp.model import SCHEMA_PATH, Trace, TraceError, schema, schema_text
from webapp.web.examples import EXAMPLES
from webapp.web.r_examples import R_EXAMPLES

COURSES = Path(__file__).parent / "course_corpus"
# Refused by design (test_course_corpus.py says why): they have no trace to check.
REFUSED = {"cs231n_barebones_pytorch.py", "cs231n_sequential_api.py", "pt_introyt_grad_switches.py"}
SHOWS_A_REFUSAL = {"example:retain-graph"}  # the gallery's example of PyTorch's own refusal
LOOP = "y = x\nfor i in range(30):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"


def corpus() -> list[tuple[str, dict]]:
    bodies = [(f"example:{e.slug}", {"source": e.source, "inputs": e.inputs}) for e in EXAMPLES]
    bodies += [(f"r:{slug}", {"source": source, "inputs": inputs, "language": "r"})
               for slug, _, source, inputs, _ in R_EXAMPLES]
    bodies += [(f"course:{path.stem}", {"source": path.read_text(), "inputs": {}})
               for path in sorted(COURSES.glob("*.py")) if path.name not in REFUSED]
    bodies += [
        ("loop folded, tangent", {"source": LOOP, "inputs": {"x": 1.0}, "fold": True, "tangent": {"x": 1}}),
        ("loop fold=auto", {"source": LOOP, "inputs": {"x": 1.0}, "fold": "auto"}),
        ("no lesson", {"source": "sin(x) * x", "inputs": {"x": 1.5}, "lesson": False}),
        ("grad_output ones", {"source": "x * 2", "inputs": {"x": [1.0, 2.0]}, "grad_output": "ones"}),
        ("a split", {"source": "a, b = torch.split(x, [1, 2])\n(a * 2).sum() + (b * b).sum()",
                     "inputs": {"x": [0.5, -1.0, 2.0]}}),
        ("extra pass", {"source": "y = x * x\ny.backward()\nz = x * 3 + x.grad\nz", "inputs": {"x": 1.5}}),
    ]
    return bodies


@pytest.fixture(scope="module")
def answers():
    """{name: the trace /api/trace answered}, through a worker pool as the page gets it."""
    app = create_app({"TESTING": True, "WORKERS": 2, "DEADLINE_SECONDS": 60.0,
                      "BUSY_WAIT_SECONDS": 120.0, "COOL_DOWN_SECONDS": 0.0})
    client = app.test_client()
    found = {}
    try:
        for name, body in corpus():
            response = client.post("/api/trace", json=body)
            if name in SHOWS_A_REFUSAL:
                assert response.status_code == 400
                continue
            assert response.status_code == 200, (name, response.get_json())
            found[name] = response.get_data(as_text=True)
    finally:
        pool = app.extensions["chainrule"].pool
        if pool is not None:
            pool.close()
    return found


def test_the_committed_schema_is_the_models():
    """docs/trace.schema.json is what `python -m webapp.model --schema` writes, and a valid
    JSON Schema (draft 2020-12)."""
    assert SCHEMA_PATH.read_text() == schema_text(), "run: python -m webapp.model --schema"
    jsonschema.Draft202012Validator.check_schema(schema())


def test_every_answer_validates_against_the_schema(answers):
    validate = fastjsonschema.compile(json.loads(SCHEMA_PATH.read_text()))
    for name, text in answers.items():
        try:
            validate(json.loads(text))
        except fastjsonschema.JsonSchemaException as error:
            pytest.fail(f"{name}: {error.message}")
    reference = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    gallery = [name for name in answers if name.startswith(("example:", "r:"))]
    assert len(gallery) > 20
    for name in gallery:
        errors = list(reference.iter_errors(json.loads(answers[name])))
        assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_every_answer_round_trips_through_the_model_unchanged(answers):
    """The web process reads an answer once through Trace.from_json: nothing is lost, and
    written back it is the same bytes (the API keeps its key order)."""
    assert len(answers) > 60
    for name, text in answers.items():
        data = json.loads(text)
        assert json.dumps(Trace.from_json(data).to_json()) == json.dumps(data), name


def test_the_corpus_uses_every_part_of_the_model(answers):
    """The corpus reaches the optional parts, so the two tests above check them."""
    seen = set()
    for text in answers.values():
        data = json.loads(text)
        seen |= {key for key in data}
        for node in data["nodes"]:
            seen |= {f"node.{key}" for key in node}
        for edge in data["edges"]:
            seen |= {f"edge.{key}" for key in edge}
    for part in ("fold", "modules", "updates", "extra_pass", "language", "python", "steps", "tape",
                 "node.folded", "node.tangent", "node.outputs", "node.module", "node.after_pass",
                 "node.summary", "edge.carried", "edge.entry", "edge.local_kind"):
        assert part in seen, part


def test_a_trace_made_in_process_is_plain_data():
    """The CLI and the notebook get the trace without a pipe: it must be plain data too, with
    no tensor, placeholder or cache left in it (json.dumps refuses any such object).
    Mutation: annotate.add_lesson keeping its TraceIndex as trace["_index"]."""
    trace = trace_values(LOOP, {"x": 1.0}, None, DEFAULT_LIMITS, tangent={"x": 1}, fold=True)
    assert "fold" in trace and trace["nodes"][0]["tangent"] == 1.0
    assert json.loads(json.dumps(trace, allow_nan=False)) == trace
    assert json.dumps(Trace.from_json(trace).to_json()) == json.dumps(trace)


def test_json_keeps_the_order_the_api_has_always_had(answers):
    """The API answers in insertion order (app.json.sort_keys = False): the model writes each
    kind of node in the order the engine's dicts had before it existed (saved answers)."""
    trace = json.loads(answers["loop folded, tangent"])
    assert list(trace) == ["inputs", "output", "leaves", "prints", "result", "nodes", "edges",
                           "forward", "backward", "autograd", "fold", "tape", "explain", "guards",
                           "steps"]
    forms = {(node["kind"], "folded" in node): list(node) for node in trace["nodes"]}
    assert forms[("input", False)] == ["id", "kind", "label", "op", "value", "grad", "accumulated",
                                       "shape", "line", "col", "origin", "tangent", "name"]
    assert forms[("constant", True)] == ["id", "kind", "label", "op", "value", "grad", "shape", "line",
                                         "col", "origin", "folded", "tangent", "name"]
    assert forms[("op", True)] == ["id", "kind", "label", "op", "symbol", "line", "col", "origin",
                                   "named", "value", "grad", "shape", "tangent", "folded", "name"]
    edges = {tuple(edge) for edge in trace["edges"]}
    assert ("source", "target", "local_grad", "grad", "input", "local_kind", "vjp", "carried",
            "source_value", "source_shape", "source_repetition") in edges
    assert ("source", "target", "local_grad", "grad", "input", "local_kind", "vjp", "entry",
            "target_grad") in edges


def _small() -> dict:
    return {"inputs": ["x"], "output": {"value": 2.0, "shape": [], "dtype": "float32"},
            "leaves": {"x": {"value": 1.0, "shape": [], "dtype": "float32", "grad": 2.0,
                             "accumulated": 2.0}},
            "prints": [], "result": {"kind": "tensor", "value": 2.0, "line": 1, "text": "tensor(2.)"},
            "nodes": [{"id": "n1", "kind": "input", "label": "x", "op": None, "value": 1.0,
                       "grad": 2.0, "accumulated": 2.0, "shape": [], "line": None, "col": None,
                       "origin": None, "name": "x"}],
            "edges": [], "forward": ["n1"], "backward": ["n1"], "autograd": None}


def _set(path: str, value):
    def change(trace):
        *parents, last = path.split(".")
        item = trace
        for part in parents:
            item = item[int(part)] if part.isdigit() else item[part]
        if value is KeyError:
            del item[last]
        else:
            item[last] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set("nodes.0.kind", "operation"), "trace.nodes[0].kind: expected one of"),
    (_set("nodes.0.value", "nan"), "trace.nodes[0].value: expected numbers, got a string"),
    (_set("nodes.0.seq", 3), "trace.nodes[0]: Node has no field 'seq'"),
    (_set("nodes.0.id", KeyError), "trace.nodes[0]: Node needs 'id'"),
    (_set("edges", KeyError), "trace: Trace needs 'edges'"),
    (_set("forward", ["n1", 2]), "trace.forward[1]: expected a string, got a number"),
    (_set("leaves.x.grad", {"min": 1}), "trace.leaves['x'].grad: expected numbers, got an object"),
    (_set("steps", [{"phase": "sideways", "node": "n1"}]), "trace.steps[0].phase: expected one of"),
    (_set("result.line", "1"), "trace.result.line: expected an integer, got a string"),
])
def test_from_json_names_the_field_that_is_wrong(change, message):
    assert json.dumps(Trace.from_json(_small()).to_json()) == json.dumps(_small())
    trace = _small()
    change(trace)
    with pytest.raises(TraceError) as refused:
        Trace.from_json(trace)
    assert str(refused.value).startswith(message), str(refused.value)


def test_the_worker_writes_the_trace_as_json_once(monkeypatch):
    """The lesson and the steps are model objects on the `Trace` before it becomes JSON, and it
    becomes JSON once, where the job answers (issue 27: no stage adds keys to JSON data).
    An optimiser's step makes the lesson fill Update and Parameter texts too. Mutations seen
    failing: evaluation.trace_program calling `trace.to_json()` before the lesson again (two
    writes); annotate.add_lesson storing `explanations(...)` as a plain dict (explain is not an
    Explain); steps.trace_steps returning dicts."""
    monkeypatch.setenv("CHAINRULE_TRUSTED", "1")  # a CPython run in this process, as the worker does
    from webapp.engine.jobs import handle
    from webapp.model import Explain, Guard, Parameter, Step, TapeRow, Update
    made, writes = [], []
    real = Trace.to_json

    def counted(self):
        made.append(self)
        writes.append(1)
        return real(self)
    monkeypatch.setattr(Trace, "to_json", counted)
    source = ("w = torch.tensor([1.0, -2.0], requires_grad=True)\n"
              "opt = torch.optim.SGD([w], lr=0.1)\n"
              "loss = (w * x).sum()\nloss.backward()\nopt.step()\nw.grad\nloss")
    answer = handle({"kind": "trace", "source": source, "inputs": {"x": 3.0}})["ok"]
    assert len(writes) == 1
    trace = made[0]
    assert isinstance(trace.explain, Explain) and all(isinstance(r, TapeRow) for r in trace.tape)
    assert trace.steps and all(isinstance(s, Step) for s in trace.steps)
    assert all(isinstance(g, Guard) for g in trace.guards)
    update = trace.updates[0]
    assert isinstance(update, Update) and isinstance(update.parameters[0], Parameter)
    assert "p ← p − 0.1 × p.grad" in update.text and update.parameters[0].after_text
    assert answer["updates"][0]["text"] == update.text
    assert [s["node"] for s in answer["steps"]] == [s.node for s in trace.steps]
