"""Gradient descent, the regression lab, custom autograd Functions and their check, Hessians."""
from __future__ import annotations

import pytest
import torch

from webapp.engine.checks import check_backward
from webapp.engine.descent import hessian, optimize
from webapp.engine.evaluation import trace_values
from webapp.web.examples import BY_SLUG

from . import seeds
from .graph_table import MyReLU


def sig(value, digits=6):
    return float(f"{value:.{digits}g}")


def test_rosenbrock_reproduces_the_seed_table(client):
    body = {"source": seeds.SEED001_ROSENBROCK, "inputs": {"x": [-1, 1]}, "lr": 0.01, "steps": 1000}
    data = client.post("/api/optimize", json=body).get_json()
    step100, step1000 = data["steps"][99], data["steps"][999]
    assert step100["step"] == 100
    assert sig(step100["value"]) == sig(0.3502924)
    assert [sig(g) for g in step100["grad"]["x"]] == [sig(-0.667685), sig(-0.5771312)]
    assert sig(step1000["value"]) == sig(6.962555e-05)
    assert [round(v, 4) for v in data["final"]["x"]] == [0.9918, 0.9830]


def test_each_step_is_value_then_update(limits):
    data = optimize("x ** 2", {"x": 1.0}, 0.25, 3, limits)
    # value and grad at the point before the step's update: x ← x − lr·2x = x/2.
    assert [(s["inputs"]["x"], s["value"], s["grad"]["x"]) for s in data["steps"]] == [
        (1.0, 1.0, 2.0), (0.5, 0.25, 1.0), (0.25, 0.0625, 0.5)]
    assert data["final"]["x"] == 0.125


def test_divergence_stops_with_a_message(client):
    body = {"source": "x ** 2", "inputs": {"x": 1.0}, "lr": 1.5, "steps": 1000}
    response = client.post("/api/optimize", json=body)
    assert response.status_code == 200
    data = response.get_json()
    assert data["stopped"]["step"] < 1000 and "too large" in data["stopped"]["reason"]
    assert len(data["steps"]) == data["stopped"]["step"]


def test_regression_lab_recovers_least_squares(limits):
    example = BY_SLUG["regression"]
    data = optimize(example.source, dict(example.inputs), 0.1, 2000, limits)
    torch.manual_seed(1)
    x = torch.rand(200) * 2
    y = 1 + x + torch.randn(200) * 0.25
    design = torch.stack([torch.ones(200), x], dim=1).double()
    b0, b1 = torch.linalg.lstsq(design, y.double().unsqueeze(1)).solution.squeeze().tolist()
    assert data["final"]["b0"] == pytest.approx(b0, abs=1e-3)
    assert data["final"]["b1"] == pytest.approx(b1, abs=1e-3)
    assert abs(b0 - 1) < 0.15 and abs(b1 - 1) < 0.15  # within the noise of the seed's lab
    assert len(data["points"]["x"]) == 200


def test_seed002_my_relu_network_gradients_equal_torch_relu(limits):
    result = trace_values(seeds.SEED002_NETWORK.replace("N, D_in, H, D_out = 64, 1000, 100, 10",
                                                        "N, D_in, H, D_out = 8, 20, 6, 3"), {}, None, limits)
    torch.manual_seed(0)
    x, y = torch.randn(8, 20), torch.randn(8, 3)
    w1 = torch.randn(20, 6, requires_grad=True)
    w2 = torch.randn(6, 3, requires_grad=True)
    (torch.relu(x.mm(w1)).mm(w2) - y).pow(2).sum().backward()
    assert torch.allclose(torch.tensor(result["leaves"]["w1"]["grad"]), w1.grad, rtol=1e-5, atol=1e-5)
    assert torch.allclose(torch.tensor(result["leaves"]["w2"]["grad"]), w2.grad, rtol=1e-5, atol=1e-5)


def test_right_backward_passes_the_check(limits):
    data = check_backward(seeds.SEED000_RELU_EXERCISE, {"x": [-2.0, 0.5, 3.0]}, limits)
    assert data["functions"][0]["name"] == "MyReLU" and data["functions"][0]["passed"]
    # the same verdict PyTorch gives for the reference implementation
    x = torch.tensor([-2.0, 0.5, 3.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(MyReLU.apply, (x,))


def test_forgetting_to_zero_negative_inputs_is_caught(client):
    wrong = seeds.SEED000_RELU_EXERCISE.replace("        grad_input[input < 0] = 0\n", "")
    data = client.get("/api/gradcheck", query_string={"f": wrong, "x": "[-2, 0.5, 3]"}).get_json()
    verdict = data["functions"][0]
    assert verdict["passed"] is False
    assert verdict["wrong"][0][0] is True  # d relu(-2)/dx: analytical 1, numerical 0
    assert verdict["analytical"][0][0] == 1.0 and verdict["numerical"][0][0] == 0.0
    assert sum(cell for row in verdict["wrong"] for cell in row) == 1


def test_hessian_of_the_seed001_quadratic(client):
    data = client.get("/api/hessian", query_string={"f": seeds.SEED001_EXPRESSION, "x1": 2, "x2": 2}).get_json()
    assert data["hessian"] == [[0.4, 0.0], [0.0, 0.4]]
    assert data["gradient"] == [0.8, 0.8]


def test_second_derivative_in_the_language(limits):
    result = trace_values(BY_SLUG["second-derivative"].source, {}, None, limits)
    assert result["output"]["value"] == 12.0


def test_pitfalls_accumulate_and_retain_graph(limits):
    assert trace_values(BY_SLUG["accumulate"].source, {}, None, limits)["output"]["value"] == 4.0
    from webapp.errors import ChainruleError
    with pytest.raises(ChainruleError) as caught:
        trace_values(BY_SLUG["retain-graph"].source, {}, None, limits)
    assert "retain_graph=True" in caught.value.message


def test_custom_function_steps_like_any_node(limits):
    result = trace_values(seeds.SEED000_RELU_EXERCISE, {"x": [-1.0, 2.0]}, None, limits)
    relu = next(n for n in result["nodes"] if n["op"] == "MyReLUBackward")
    assert relu["label"] == "MyReLU" and relu["id"] in result["forward"] and relu["id"] in result["backward"]
