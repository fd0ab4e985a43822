"""Issue 15's server half: guards on refusals, accessible SVG nodes, tangent sentences."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import torch

BAYDIN = "log(x1) + x1*x2 - sin(x2)"
RETAIN = "x = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\ny.backward()\ny.backward()\nx.grad"
NON_SCALAR = "x = torch.ones(3, requires_grad=True)\ny = x * 2\ny.backward()\nx.grad"
GRAD_FIRST = "x = torch.tensor(2.0, requires_grad=True)\nprint(x.grad)\ny = x * x\ny.backward()\nx.grad"


@pytest.mark.parametrize("source, kind, line", [(RETAIN, "retain-graph", 4),
                                                (NON_SCALAR, "non-scalar-backward", 3)])
def test_a_refused_program_carries_its_guards(client, source, kind, line):
    """Mutation: drop `error.guards = guards_for_error(...)` in api.trace (no guards in the JSON);
    drop the SCALAR_ONLY branch of error_guards (the non-scalar row fails)."""
    answer = client.post("/api/trace", json={"source": source})
    assert answer.status_code == 400
    error = answer.json["error"]
    assert error["kind"] == "runtime" and error["message"]
    assert {(g["kind"], g["line"]) for g in error["guards"]} >= {(kind, line)}


def test_the_page_shows_a_guard_box_next_to_the_line(client):
    """Mutation: drop the `_guards.html` include from _update.html (no box comes back)."""
    html = client.post("/partials/graph", data={"f": GRAD_FIRST}).data.decode()
    box = re.search(r'<aside class="guard"[^>]*data-kind="grad-before-backward"[^>]*data-line="2".*?</aside>',
                    html, re.S)
    assert box and "print(x.grad)" in box.group(0) and "still None" in box.group(0)
    refused = client.post("/partials/graph", data={"f": RETAIN}).data.decode()
    assert 'data-kind="retain-graph" data-line="4"' in refused
    clean = client.post("/partials/graph", data={"f": BAYDIN, "x1": "2", "x2": "5"}).data.decode()
    assert '<aside class="guard"' not in clean  # shown only when the program does it


def test_every_svg_node_has_an_accessible_name(client):
    """Each trace node's <g> is role="img" with its name, torch's value and gradient.
    Mutation: `names=None` in render.draw (no aria-label) fails this."""
    x1 = torch.tensor(2.0, requires_grad=True)
    x2 = torch.tensor(5.0, requires_grad=True)
    y = torch.log(x1) + x1 * x2 - torch.sin(x2)
    y.backward()
    svg = client.get("/graph.svg?f=" + quote(BAYDIN) + "&x1=2&x2=5").data.decode()
    labels = dict(re.findall(r'<g id="(n\d+)" class="node[^"]*"[^>]*role="img" aria-label="([^"]+)"', svg))
    assert len(labels) == 7
    assert labels["n1"] == f"x1, value 2, gradient {float(x1.grad):.4g}"
    assert labels["n2"].startswith("x2, value 5, gradient 1.716")
    assert labels["n7"].startswith(f"v5, value {float(y.detach()):.4g}")


def test_tangent_sentences_carry_torch_forward_mode_numbers(client):
    """Every node's tangent sentence ends with the tangent torch.func.jvp gives that node.
    Mutation: reading `source.get('value')` for the tangent in tangent_text fails v2's text."""
    answer = client.post("/api/trace", json={"source": BAYDIN, "inputs": {"x1": 2, "x2": 5},
                                             "tangent": {"x1": 1, "x2": 0}}).json
    texts = answer["explain"]["tangent"]
    names = {n["name"]: n["id"] for n in answer["nodes"]}
    parts = {"v1": lambda a, b: torch.log(a), "v2": lambda a, b: a * b,
             "v3": lambda a, b: torch.log(a) + a * b, "v4": lambda a, b: torch.sin(b),
             "v5": lambda a, b: torch.log(a) + a * b - torch.sin(b)}
    for name, f in parts.items():
        _, tangent = torch.func.jvp(f, (torch.tensor(2.0), torch.tensor(5.0)),
                                    (torch.tensor(1.0), torch.tensor(0.0)))
        text = texts[names[name]]
        assert float(text.rsplit("=", 1)[1]) == pytest.approx(float(tangent), rel=1e-3), text
    assert texts[names["v2"]] == "v\u03072 = x2·x\u03071 + x1·x\u03072\n   = 5·1 + 2·0 = 5"
    assert "tangent" not in client.post("/api/trace", json={"source": BAYDIN, "inputs": {"x1": 2, "x2": 5}}
                                        ).json["explain"]


def test_constants_and_every_seed_node_get_an_accessible_name(client):
    """A constant has no gradient row: its name must still be built (it was a 500 once).
    Mutation: the eager `[f"gradient {grad.removeprefix(...)}"] * (grad is not None)` form."""
    from tests import seeds
    svg = client.get("/graph.svg?f=" + quote(seeds.SEED001_QUADRATIC)).data.decode()
    groups = re.findall(r'<g id="n\d+" class="node[^"]*"[^>]*>', svg)
    assert groups and all('role="img" aria-label="' in g for g in groups)
    constant = next(g for g in groups if 'data-kind="constant"' in g)
    assert "gradient" not in constant


def test_a_program_too_deep_to_parse_still_gets_its_refusal(client):
    """Mutation: drop the try/except in guards_for_error (the RecursionError makes a 500)."""
    for source in ("x" + "+x" * 20000, "-" * 30000 + "x"):  # RecursionError, MemoryError in ast
        answer = client.post("/api/trace", json={"source": source, "inputs": {"x": 1}})
        assert answer.status_code == 400 and answer.json["error"]["message"], source[:20]
    page = client.post("/partials/graph", data={"f": "-" * 30000 + "x", "x": "1"})
    assert page.status_code == 200 and 'class="error"' in page.data.decode()


def test_neuron_gradients_equal_plain_torch(client):
    """Karpathy's neuron: every input's gradient equals plain torch's backward (micrograd's
    lecture: x1 −1.5, w1 1, x2 0.5, w2 0). Mutation: b = 6.88 in the gallery moves them off."""
    from webapp.web.examples import BY_SLUG
    example = BY_SLUG["neuron"]
    answer = client.post("/api/trace", json={"source": example.source, "inputs": example.inputs}).json
    t = {k: torch.tensor(float(v), requires_grad=True) for k, v in example.inputs.items()}
    out = torch.tanh(t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"])
    out.backward()
    for name, tensor in t.items():
        assert answer["leaves"][name]["grad"] == pytest.approx(float(tensor.grad), abs=1e-6), name
    assert [round(answer["leaves"][n]["grad"], 4) for n in ("x1", "w1", "x2", "w2")] == [-1.5, 1.0, 0.5, 0.0]


def test_a_tensor_inputs_operation_cell_does_not_repeat_its_value(client):
    """Mutation: `return row["expr"]` first in tape_view._expr (the value shows twice)."""
    html = client.post("/partials/graph", data={"f": "(x*w).sum()", "x": "[1, 2]", "w": "[3, 4]"}).data.decode()
    row = re.search(r'<tr id="tape-n1".*?</tr>', html, re.S).group(0)
    cell = re.search(r'<td class="expr">(.*?)</td>', row, re.S).group(1)
    assert cell == "<code>x: input [2], requires_grad</code>"
    assert "(1, 2)" in row  # the value cell still has it
