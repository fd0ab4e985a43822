"""Every seed example, run by the interpreter, gives PyTorch's own numbers."""
from __future__ import annotations

import math

import pytest
import torch

from webapp.engine.evaluation import trace_values
from webapp.errors import ChainruleError

from . import seeds


def run(source, limits, grad_output=None, **inputs):
    return trace_values(source, inputs, grad_output, limits)


def close(a, b, tol=1e-5):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64),
                          torch.as_tensor(b, dtype=torch.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("source, inputs", [
    (seeds.SEED001_QUADRATIC, {}),
    (seeds.SEED001_EXPRESSION, {"x1": 2, "x2": 2}),
])
def test_seed001_quadratic(source, inputs, limits):
    result = run(source, limits, **inputs)
    assert result["output"]["value"] == pytest.approx(-3.4, abs=1e-6)
    assert result["leaves"]["x1"]["grad"] == pytest.approx(0.8, abs=1e-6)
    assert result["leaves"]["x2"]["grad"] == pytest.approx(0.8, abs=1e-6)


def test_seed001_rosenbrock(limits):
    result = run(seeds.SEED001_ROSENBROCK, limits, x=[-1, 1])
    x = torch.tensor([-1.0, 1.0], requires_grad=True)
    value = (1 - x[0]) ** 2 + 5 * (x[1] - x[0] ** 2) ** 2
    value.backward()
    assert result["output"]["value"] == pytest.approx(value.item())
    assert close(result["leaves"]["x"]["grad"], x.grad)


def test_seed001_descent_reproduces_the_table(limits):
    result = run(seeds.SEED001_DESCENT, limits)
    assert result["output"]["value"] == pytest.approx([0.9918, 0.9830], abs=1e-4)
    assert result["prints"][0]["text"].startswith("Iteration: 100 Value is: 0.35029")
    assert result["prints"][0]["line"] == 15
    assert "6.9625" in result["prints"][-1]["text"]


def test_seed004_helpers(limits):
    result = run(seeds.SEED004_HELPERS, limits, w1=1.0, w2=2.0)
    assert result["output"]["value"] == 11.0
    assert result["leaves"]["w1"]["grad"] == 2.0
    assert result["leaves"]["w2"]["grad"] == 4.0


def test_seed003_dot(limits):
    result = run(seeds.SEED003_DOT, limits)
    assert result["leaves"]["x"]["grad"] == [0.0, 4.0, 8.0, 12.0]


def test_seed003_retain_graph_accumulates(limits):
    result = run(seeds.SEED003_RETAIN, limits)
    assert result["output"]["value"] == [0.0, 8.0, 16.0, 24.0]


def test_seed003_second_backward_without_retain_is_explained(limits):
    source = seeds.SEED003_RETAIN.replace("retain_graph=True", "")
    with pytest.raises(ChainruleError) as caught:
        run(source, limits)
    assert "retain_graph=True" in caught.value.message
    assert caught.value.line == 4


@pytest.mark.parametrize("a", [[0.5, -1.2, 0.3], [[-0.6848, 0.2447, 1.5633], [-0.1291, 0.2607, 0.9181]],
                               [-0.2, -0.1]])
def test_seed003_control_flow_gradient_is_d_over_a(a, limits):
    result = run(seeds.SEED003_CONTROL_FLOW, limits, a=a)
    at = torch.tensor(a)
    b = at * 2
    while b.norm() < 1000:
        b = b * 2
    d = b if b.sum() > 0 else 100 * b
    assert close(result["leaves"]["a"]["grad"], d / at)


@pytest.mark.parametrize("x", [0.5, 1.5, 2.0, -3.0, 7.25])
def test_seed003_log_sin_matches_closed_form(x, limits):
    result = run(seeds.SEED003_LOG_SIN, limits, x=x)
    expected = -(1 / x**2) + math.cos(x) * math.log(x**2) + 2 / x * math.sin(x)
    assert result["leaves"]["x"]["grad"] == pytest.approx(expected, rel=1e-5)
    assert result["output"]["value"] == pytest.approx(math.log(x**2) * math.sin(x) + 1 / x, rel=1e-6)


def test_seed003_named_nodes(limits):
    result = run(seeds.SEED003_NODES, limits)
    torch.manual_seed(713)
    x = torch.randn(size=(), requires_grad=True)
    y = 1 / x + torch.sin(x) * torch.log(x ** 2)
    y.backward()
    assert result["leaves"]["x"]["grad"] == pytest.approx(x.grad.item(), rel=1e-6)


def test_seed003_sin_gradient_is_cos(limits):
    result = run(seeds.SEED003_SIN_GRID, limits)
    x = torch.arange(-math.pi, math.pi, 0.1)
    assert close(result["output"]["value"], torch.cos(x), 1e-6)


def test_seed003_log10_forum_answer(limits):
    result = run(seeds.SEED003_LOG10, limits)
    x = torch.linspace(0.1, 10, 100)
    desired = (2 / (x * math.log(10))) * torch.sin(x) + torch.log10(x**2) * torch.cos(x) - 1 / x**2
    assert close(result["output"]["value"], desired, 1e-4)


def test_seed003_nonscalar_output_needs_grad_output(limits):
    with pytest.raises(ChainruleError) as caught:
        run("sin(x)", limits, x=[0.0, 1.0])
    assert "grad_output" in caught.value.message and "ones" in caught.value.message
    result = run("sin(x)", limits, grad_output="ones", x=[0.0, 1.0])
    assert close(result["leaves"]["x"]["grad"], torch.cos(torch.tensor([0.0, 1.0])))
    result = run("sin(x)", limits, grad_output=[2.0, 0.0], x=[0.0, 1.0])
    assert close(result["leaves"]["x"]["grad"], [2.0, 0.0])


# x = 0 is left out: there the tutorial's `input < 0` picks subgradient 1, torch.relu 0.
@pytest.mark.parametrize("x", [[-2.0, -0.5, 0.25, 0.5, 3.0], [[1.0, -1.0], [-3.0, 2.0]]])
def test_seed000_custom_relu_matches_torch_relu(x, limits):
    result = run(seeds.SEED000_RELU_EXERCISE, limits, x=x)
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).sum().backward()
    assert close(result["leaves"]["x"]["grad"], xt.grad)


def test_seed002_network_matches_plain_pytorch(limits):
    result = run(seeds.SEED002_NETWORK, limits)
    torch.manual_seed(0)  # the evaluator seeds its generator with 0
    x, y = torch.randn(64, 1000), torch.randn(64, 10)
    w1 = torch.randn(1000, 100, requires_grad=True)
    w2 = torch.randn(100, 10, requires_grad=True)
    loss = (torch.relu(x.mm(w1)).mm(w2) - y).pow(2).sum()
    loss.backward()
    assert result["output"]["value"] == pytest.approx(loss.item(), rel=1e-5)
    assert result["leaves"]["w1"]["value"] is None  # 100,000 numbers: summarised, not listed
    assert close(result["leaves"]["w2"]["grad"], w2.grad, 1e-4)


def test_seed001_regression_lab_recovers_least_squares(limits):
    result = run(seeds.SEED001_REGRESSION, limits)
    torch.manual_seed(1)
    x = torch.rand(200) * 2
    y = 1.0 + x + torch.randn(200) * 0.25
    design = torch.stack([torch.ones(200), x], dim=1).double()
    solution = torch.linalg.lstsq(design, y.double().unsqueeze(1)).solution.squeeze()
    assert result["output"]["value"] == pytest.approx(solution.tolist(), abs=2e-3)


def test_same_source_same_random_numbers(limits):
    source = "w = torch.randn(3, requires_grad=True)\n(w * 2).sum()"
    assert run(source, limits) == run(source, limits)


def test_import_torch_is_accepted(limits):
    result = run("import torch\nimport math\nfrom torch import tensor\n"
                 "w = tensor(3.0, requires_grad=True)\nw * math.pi", limits)
    assert result["leaves"]["w"]["grad"] == pytest.approx(math.pi)


def test_inputs_are_free_names_in_order(limits):
    from webapp.language.validator import parse_program
    assert parse_program("0.2*x1**2 + 0.2*x2**2 - 5").inputs == ["x1", "x2"]
    assert parse_program(seeds.SEED004_HELPERS).inputs == ["w1", "w2"]
    assert parse_program(seeds.SEED001_ROSENBROCK).inputs == ["x"]
    assert parse_program(seeds.SEED001_QUADRATIC).inputs == []
    assert parse_program("def g(t):\n    return t * k\ng(z)").inputs == ["k", "z"]


def test_seed002_training_loop_converges(limits):
    result = run(seeds.SEED002_TRAINING, limits)
    losses = [float(line["text"].split()[1]) for line in result["prints"]]
    assert len(losses) == 5 and losses == sorted(losses, reverse=True)
    assert result["output"]["value"] < 1e-3
