"""Names, the evaluation trace (`tape`) and the step explanations (issue 15), against torch."""
from __future__ import annotations

import math
import re

import pytest
import torch

from webapp import trace
from webapp.lesson.notation import bar
from webapp.web.examples import BY_SLUG

from .graph_table import TABLE

OPERATOR = re.compile(r"∂\s*[-+−×÷^·@*/(]")
BAYDIN = "log(x1) + x1*x2 - sin(x2)"


def _baydin_oracle():
    """The textbook's trace, computed with plain torch (float32, as chainrule's inputs are)."""
    x1 = torch.tensor(2.0, requires_grad=True)
    x2 = torch.tensor(5.0, requires_grad=True)
    v1, v2, v4 = torch.log(x1), x1 * x2, torch.sin(x2)
    v3 = v1 + v2
    y = v3 - v4
    y.backward()
    values = [x1, x2, v1, v2, v4, v3, y]
    return [float(v.detach()) for v in values], (float(x1.grad), float(x2.grad))


def test_baydin_tape_has_the_textbook_values_and_adjoints(client):
    """Mutation: `"adjoint": node.get("grad")` → `node.get("value")` in tape.py fails this."""
    answer = client.post("/api/trace", json={"source": BAYDIN, "inputs": {"x1": 2, "x2": 5}}).json
    values, grads = _baydin_oracle()
    tape = answer["tape"]
    assert sorted(round(r["value"], 3) for r in tape) == sorted(round(v, 3) for v in values)
    assert [round(v, 3) for v in (2, 5, 0.693, 10, -0.959, 10.693, 11.652)] == \
        [round(v, 3) for v in values]  # the textbook's own figures
    rows = {r["name"]: r for r in tape}
    assert rows["x1"]["adjoint"] == pytest.approx(grads[0]) == pytest.approx(5.5)
    assert rows["x2"]["adjoint"] == pytest.approx(grads[1], rel=1e-6)
    assert round(rows["x2"]["adjoint"], 3) == 1.716
    assert "= 0.5 (from v1) + 5 (from v2) = 5.5" in rows["x1"]["adjoint_sum"]
    exprs = [r["expr"] for r in tape]
    assert "v1 = ln(x1)" in exprs and "v2 = x1 · x2" in exprs and "v4 = sin(x2)" in exprs


def test_baydin_tangent_equals_torch_func_jvp(client):
    """Mutation: a tangent seeded (0, 1) instead of (1, 0) gives 1.716, not 5.5."""
    answer = client.post("/api/trace", json={"source": BAYDIN, "inputs": {"x1": 2, "x2": 5},
                                             "tangent": {"x1": 1, "x2": 0}}).json
    f = lambda a, b: torch.log(a) + a * b - torch.sin(b)  # noqa: E731
    _, expected = torch.func.jvp(f, (torch.tensor(2.0), torch.tensor(5.0)),
                                 (torch.tensor(1.0), torch.tensor(0.0)))
    assert answer["output"]["tangent"] == pytest.approx(float(expected)) == pytest.approx(5.5)
    assert answer["tape"][-1]["tangent"] == pytest.approx(float(expected))


def test_neuron_example_gives_karpathys_output():
    """Mutation: b = 6.88 instead of 6.8813735870195432 moves the output off 0.7071."""
    example = BY_SLUG["neuron"]
    got = trace(example.source, **example.inputs)["output"]["value"]
    expected = math.tanh(2 * -3 + 0 * 1 + 6.8813735870195432)
    assert got == pytest.approx(expected, abs=1e-6) and round(got, 4) == 0.7071


@pytest.mark.parametrize("name, source, inputs, _", TABLE, ids=[row[0] for row in TABLE])
def test_every_node_named_adjoints_equal_grads_and_texts_readable(name, source, inputs, _):
    """Mutations: `node["name"] = node["label"]` for ops gives `−` names (fails the symbol check);
    dropping the "(a constant)" branch or the adjoint copy fails the column check."""
    data = trace(source, **inputs)
    by_id = {n["id"]: n for n in data["nodes"]}
    for node in data["nodes"]:
        assert node["name"] and not re.fullmatch(r"[-+−×÷^·@*/]+\S*", node["name"]), node
    assert [r["id"] for r in data["tape"]] == data["forward"]
    for row in data["tape"]:
        assert row["adjoint"] == by_id[row["id"]]["grad"]
        assert row["name"] == by_id[row["id"]]["name"]
    texts = list(data["explain"]["forward"].values()) + list(data["explain"]["backward"].values())
    assert set(data["explain"]["backward"]) == set(data["backward"])
    for text in texts:
        assert not OPERATOR.search(text), text


@pytest.mark.parametrize("name, source, inputs, _",
                         [row for row in TABLE if row[0] in ("matmul", "mm", "transpose")] +
                         [("network", "(torch.relu(x @ w1) @ w2).pow(2).mean()",
                           {"x": [[1.0, 2.0, 3.0]] * 4, "w1": [[0.1] * 5] * 3,
                            "w2": [[0.2] * 2] * 5}, None)],
                         ids=["matmul", "mm", "transpose", "network"])
def test_matrix_product_steps_name_both_shapes(name, source, inputs, _):
    """Mutation: `f"{other['name']}ᵀ @ {up}"` (the other operand's shape dropped) fails this."""
    data = trace(source, **inputs)
    by_id = {n["id"]: n for n in data["nodes"]}
    dims = lambda shape: "[" + "×".join(map(str, shape)) + "]"  # noqa: E731
    products = [n for n in data["nodes"] if n.get("symbol") in ("mm", "mv", "@", "matmul")]
    assert products
    for product in products:
        into = [e for e in data["edges"] if e["target"] == product["id"]]
        for edge in into:
            source_node = by_id[edge["source"]]
            if edge.get("grad") is None:
                continue
            other = by_id[next(e["source"] for e in into if e is not edge)]
            text = data["explain"]["backward"][source_node["id"]]
            assert dims(product["shape"]) in text and dims(source_node["shape"]) in text, text
            assert "@" in text or "⊗" in text, text
            assert dims(other["shape"][::-1]) in text or dims(other["shape"]) in text, text
        forward = data["explain"]["forward"][product["id"]]
        for edge in into:
            assert dims(by_id[edge["source"]]["shape"]) in forward


def test_sums_say_over_how_many_entries():
    """Mutation: removing the REDUCTIONS count from forward_text fails this."""
    data = trace("(x * 2).sum()", x=[1.0] * 200)
    texts = "\n".join(data["explain"]["forward"].values()) + "\n".join(data["explain"]["backward"].values())
    assert "200 entries" in texts


def test_custom_function_step_says_your_backward_returned():
    """Mutation: dropping the `is_custom(consumer)` branch in _contribution fails this."""
    example = BY_SLUG["relu-network"]
    data = trace(example.source, **example.inputs)
    relu = next(n for n in data["nodes"] if n.get("op") == "MyReLUBackward")
    fed = next(e["source"] for e in data["edges"] if e["target"] == relu["id"])
    step = data["explain"]["backward"][fed]
    assert "your backward of MyReLU, given " in step and " returned [64×100]" in step
    # its grad_output, the upstream gradient, is shown as it went in (issue 28: the upstream
    # entries of a custom backward). Mutation: `given` left out of the custom branch.
    assert f"given {bar(relu['name'])} = [64×100]" in step


def test_graph_image_titles_nodes_by_name(client):
    """Mutation: drawing `node["label"]` again in render._value_label puts `×` back as a title."""
    from urllib.parse import quote
    svg = client.get("/graph.svg?f=" + quote(BAYDIN) + "&x1=2&x2=5").data.decode()
    group = re.search(r'<g id="n4" class="node[^"]*"[^>]*>(.*?)</g>\s*</g>', svg, re.S).group(1)
    bold = re.findall(r'font-weight="bold"[^>]*>([^<]+)<', group)
    assert bold == ["v2"]
