"""Sentences a student reads without tripping: a reassigned name is numbered, a value used
twice says so, a sum shows its negative terms in brackets, 1/x has its derivative.
Numbers come from plain PyTorch run here, never from chainrule."""
from __future__ import annotations

import re

import torch

from webapp.drawing.plots import tangent_equation
from webapp.lesson.notation import bar

LOOP = "y = x\nfor i in range(3):\n    y = y * x + 1\ny"
FORUM = "log(x**2)*sin(x) + 1/x"


def trace_of(client, source, **inputs):
    answer = client.post("/api/trace", json={"source": source, "inputs": inputs})
    assert answer.status_code == 200, answer.json
    return answer.json


def test_a_name_assigned_in_a_loop_is_numbered_in_forward_order(client):
    """Mutation: drop `_number_reused_names(trace, nodes)` in naming.assign_names (three
    nodes are all `y`, and the explanation reads ∂y/∂y += …)."""
    trace = trace_of(client, LOOP, x=2.0)
    nodes = {n["id"]: n for n in trace["nodes"]}
    ys = [nodes[i]["name"] for i in dict.fromkeys(trace["forward"]) if nodes[i].get("named")]
    # plain PyTorch: the loop's additions, each one a value of y
    x = torch.tensor(2.0, requires_grad=True)
    values, y = [], x
    for _ in range(3):
        y = y * x + 1
        values.append(y.item())
    assert ys == ["y₁", "y₂", "y₃"]
    assert [nodes[i]["value"] for i in dict.fromkeys(trace["forward"]) if nodes[i].get("named")] == values
    texts = "\n".join(trace["explain"]["backward"].values())
    assert "∂y/∂y " not in texts and "∂y₃/∂y₂ = ∂y₃/∂v3 · ∂v3/∂y₂" in texts


def test_a_folded_box_takes_the_numbers_of_all_its_repetitions(client):
    """Mutation: `count = 1` for folded boxes in naming._number_reused_names (the box is y₁
    and the last repetition y₂, though y took 30 values)."""
    answer = client.post("/api/trace", json={"source": "y = x\nfor i in range(30):\n    y = y * 0.9 + x\ny",
                                             "inputs": {"x": 2.0}, "fold": True})
    named = [n["name"] for n in answer.json["nodes"] if n.get("named")]
    assert named == ["y₁…y₂₉", "y₃₀"]


def test_a_value_used_twice_by_one_operation_says_so(client):
    """Mutation: drop the `is used twice in` lines in explain.backward_text."""
    trace = trace_of(client, LOOP, x=2.0)
    x_node = next(n for n in trace["nodes"] if n["kind"] == "input")
    text = trace["explain"]["backward"][x_node["id"]]
    assert "x is used twice in v1 = x · x: one contribution for each use" in text


def test_a_sum_brackets_its_negative_terms_and_adds_up_to_pytorchs_gradient(client):
    """Mutation: `_term` returns its text unchanged (0.9093 + −0.5769 + −0.25)."""
    trace = trace_of(client, FORUM, x=2.0)
    x_node = next(n for n in trace["nodes"] if n["kind"] == "input")
    line = next(l for l in trace["explain"]["backward"][x_node["id"]].split("\n") if "sums" in l)
    terms = re.search(r"contributions: (.*) = ", line).group(1).split(" + ")
    assert "+ −" not in line and all(t.startswith("(−") for t in terms if "−" in t)
    x = torch.tensor(2.0, requires_grad=True)
    (torch.log(x ** 2) * torch.sin(x) + 1 / x).backward()
    total = sum(float(t.strip("()").replace("−", "-")) for t in terms)
    assert abs(total - x.grad.item()) < 1e-3


def test_the_reciprocal_has_its_local_derivative_written_out(client):
    """Mutation: drop `"1/x": f"−1/{n}²"` from explain._local (it reads ∂v5/∂x)."""
    trace = trace_of(client, FORUM, x=2.0)
    x_node = next(n for n in trace["nodes"] if n["kind"] == "input")
    text = trace["explain"]["backward"][x_node["id"]]
    reciprocal = next(n for n in trace["nodes"] if n["label"] == "1/x")
    assert f"= v̄{reciprocal['name'][1:]} · (−1/x²)" in text
    x = torch.tensor(2.0, requires_grad=True)
    (local,) = torch.autograd.grad(1 / x, x)  # −1/x² at 2, by PyTorch
    assert f"· ({local.item():g})".replace("-", "−") in text


def test_the_tangent_writes_each_sign_once():
    """Mutation: the old `f"… = {fa:.4g} + {slope:.4g}·(x − {a:.4g})"` in plots.tangent_equation."""
    assert tangent_equation({"x": 2.08, "f": 1.76, "df": -0.1056}) == "tangent: y = 1.76 − 0.1056·(x − 2.08)"
    assert tangent_equation({"x": -1, "f": 3, "df": 2}) == "tangent: y = 3 + 2·(x + 1)"


def test_a_step_into_the_output_is_the_seed_times_its_local_derivative(client):
    """Into the output's own operation the chain rule's outer factor is the seed: the rule
    line says so, and never reads ∂loss/∂z = ∂loss/∂loss · ∂loss/∂z (circular, a lecturer
    found). A seed of ones for a tensor output is its adjoint, not ∂y/∂y. Mutation: the
    `consumer.kind == "output"` case removed from explain._one_contribution."""
    trace = trace_of(client, "z = w * x - 3\nloss = z ** 2\nloss", x=2.0, w=0.5)
    names = {n["id"]: n["name"] for n in trace["nodes"]}
    z_id = next(i for i, name in names.items() if name == "z")
    text = trace["explain"]["backward"][z_id]
    w = torch.tensor(0.5, requires_grad=True)
    z = w * 2.0 - 3
    z.retain_grad()
    (z ** 2).backward()
    assert text.splitlines()[0] == "∂loss/∂z = ∂loss/∂loss · loss's local derivative in z"
    assert text.splitlines()[-1].endswith(f"= {z.grad.item():g}".replace("-", "−"))
    for step in trace["explain"]["backward"].values():
        assert not re.search(r"∂(\S+)/∂(\S+) \+?= ∂\1/∂\1 · ∂\1/∂\2", step), step
    answer = client.post("/api/trace", json={"source": "y = x * 3\ny", "inputs": {"x": [1.0, 2.0]},
                                             "grad_output": "ones"})
    vector = answer.json
    first = next(iter(t for i, t in vector["explain"]["backward"].items() if i != vector["backward"][0]))
    assert first.splitlines()[0] == f"∂y/∂x = {bar('y')} · y's local derivative in x", first
