"""docs/api.md says what the server does: its routes, the trace's fields, its example."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from . import seeds

API = (Path(__file__).parent.parent / "docs" / "api.md").read_text()
# Every `GET /path` or `POST /path` written anywhere in the document (a query after `?` or a
# space ends the path): each must be a route the app serves.
MENTIONED = re.compile(r"`(GET|POST) (/[^`?\s]*)")


def _section(title: str) -> str:
    start = API.index(f"\n## {title}\n")
    end = API.find("\n## ", start + 1)
    return API[start:end if end >= 0 else None]


def _served(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_table_and_every_route_written_exists(app):
    """Mutations seen failing: the `GET /api/hessian` row deleted from the Routes table
    (served, not documented); `GET /api/nothing` written in a sentence (documented, not
    served)."""
    table = set(MENTIONED.findall("\n".join(line for line in _section("Routes").splitlines()
                                            if line.startswith("| `"))))
    written = set(MENTIONED.findall(API))
    served = _served(app)
    assert sorted(served - table) == [], "served but missing from the Routes table"
    assert sorted(written - served) == [], "written in docs/api.md but not served"


# Requests whose answers between them hold every optional field of the trace.
CORPUS = [
    {"source": seeds.SEED001_EXPRESSION, "inputs": {"x1": 2, "x2": 2}, "tangent": {"x1": 1}},
    {"source": "y = x\nfor i in range(5):\n    y = sin(y) * 2\ny", "inputs": {"x": 0.5}, "fold": True},
    {"source": "a, b = torch.split(x, 1)\nprint(a)\na*b", "inputs": {"x": [1.0, 2.0]}},
    {"source": "torch.ones(3000) * x", "inputs": {"x": 0.5}, "grad_output": "ones"},
    {"source": "def f(t):\n    return t*t\ny = f(x)\ny.backward()\nz = x * 3\nz", "inputs": {"x": 2}},
    {"source": "x = torch.tensor(2.0, requires_grad=True)\ny = x**3\n"
               "(dy,) = torch.autograd.grad(y, x, create_graph=True)\ndy"},
    {"source": "x1 <- torch_tensor(2, requires_grad = TRUE); x7 <- x1$square() * 0.2 - 5"},
    {"source": "w = torch.tensor(1.0, requires_grad=True)\nfor i in range(3):\n"
               "    loss = (w - 2) ** 2\n    loss.backward()\n    with torch.no_grad():\n"
               "        w -= 0.1 * w.grad\n        w.grad.zero_()\nloss"},
    {"source": "import torch.nn as nn\nnet = nn.Sequential(nn.Linear(2, 1))\n"
               "opt = torch.optim.SGD(net.parameters(), lr=0.1)\nx = torch.tensor([[1.0, 2.0]])\n"
               "for i in range(2):\n    opt.zero_grad()\n    loss = net(x).sum()\n    loss.backward()\n"
               "    opt.step()\nloss"},
]
# Objects whose keys are data (names, module paths, PyTorch's settings), not fields; so are
# the objects inside `explain` (node ids).
MAPS = {"leaves", "modules", "settings"}


def _field_names(value, into: set, is_map: bool = False, parent: str = "") -> set:
    if isinstance(value, dict):
        for key, item in value.items():
            if not is_map:
                into.add(key)
            child_is_map = not is_map and (key in MAPS or parent == "explain")
            _field_names(item, into, child_is_map, "" if is_map else key)
    elif isinstance(value, list):
        for item in value:
            _field_names(item, into, False, parent)
    return into


def _named_in_the_trace_section() -> set:
    prose = re.sub(r"```.*?```", "", _section("The trace"), flags=re.S)  # not the example
    spans = re.findall(r"`([^`]+)`", prose)
    return {word for span in spans for word in re.findall(r"\w+", span)}


def test_every_field_of_real_answers_is_named_in_the_trace_section(client):
    """Mutations seen failing: `adjoint_sum`'s row deleted from the tape's table; the
    `after_pass` row deleted from the node table."""
    fields, kinds = set(), set()
    for body in CORPUS:
        response = client.post("/api/trace", json=body)
        assert response.status_code == 200, (body["source"], response.get_json())
        answer = response.get_json()
        _field_names(answer, fields)
        kinds.update(node["kind"] for node in answer["nodes"])
    assert {"fold", "folded", "carried", "entry", "repetition", "summary", "outputs", "tangent",
            "derivative", "extra_pass", "language", "python", "modules", "updates", "module",
            "after_pass", "origin"} <= fields  # the corpus reaches the optional fields
    assert kinds == {"input", "leaf", "constant", "op", "output"}
    assert sorted(fields - _named_in_the_trace_section()) == []


def test_the_example_trace_is_the_servers_answer(client):
    """Mutation seen failing: the example's x.grad written 1.6209072."""
    request, answer = re.search(r"<!-- example: (\{.*?\}) -->\n```json\n(.*?)```", API, re.S).groups()
    assert client.post("/api/trace", json=json.loads(request)).get_json() == json.loads(answer)


@pytest.mark.parametrize("kind", ["syntax", "unsupported", "input", "limit", "runtime", "busy",
                                  "internal"])
def test_every_error_kind_is_documented(kind):
    from webapp.errors import STATUS_BY_KIND
    assert kind in STATUS_BY_KIND and f"`{kind}`" in _section("Errors")


def test_every_field_of_the_model_is_named_in_the_trace_section():
    """docs/api.md and webapp/model.py describe the same data.
    Mutation seen failing: a field `caption_key` added to Step in model.py."""
    import dataclasses

    from webapp import model
    types = [value for value in vars(model).values()
             if isinstance(value, type) and issubclass(value, model.Model) and value is not model.Model]
    assert model.Trace in types and model.Step in types
    fields = {f.name for kind in types for f in dataclasses.fields(kind)}
    assert sorted(fields - _named_in_the_trace_section()) == []
