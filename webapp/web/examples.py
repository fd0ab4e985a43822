"""The example gallery: every seed's example, with one sentence on what it teaches."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    source: str
    inputs: dict
    teaches: str

    @property
    def query(self) -> str:
        return urlencode({"f": self.source, **{k: _text(v) for k, v in self.inputs.items()}})


def _text(value) -> str:
    return str(value).replace(" ", "")


EXAMPLES = [
    Example("quadratic", "x1…x7 quadratic (lesson 12)",
            "x1 = torch.tensor(2.0, requires_grad=True)\n"
            "x2 = torch.tensor(2.0, requires_grad=True)\n"
            "x3 = x1.square(); x5 = x3 * 0.2\n"
            "x4 = x2.square(); x6 = x4 * 0.2\n"
            "x7 = x5 + x6 - 5", {},
            "Each node's gradient is the gradient arriving from the right times the local "
            "derivative: 1 · 0.2 · 4 = 0.8 for x1."),
    Example("rosenbrock", "Rosenbrock function",
            "a = 1\nb = 5\n\ndef rosenbrock(x):\n    x1 = x[0]\n    x2 = x[1]\n"
            "    return (a - x1)**2 + b * (x2 - x1**2)**2\n\nrosenbrock(x)", {"x": [-1, 1]},
            "Indexing a vector makes select nodes, and the gradient of the whole vector "
            "collects both paths."),
    Example("sin", "sin(x)", "sin(x)", {"x": 1.0},
            "Autograd's derivative of sin at x is cos(x), computed without any formula."),
    Example("log-sin", "log(x²)·sin(x) + 1/x", "log(x**2)*sin(x) + 1/x", {"x": 2.0},
            "x is used three times, so its gradient is the sum of three paths' contributions."),
    Example("dot", "2·xᵀx with a vector", "x = torch.arange(4.0, requires_grad=True)\n"
            "y = 2 * torch.dot(x, x)\ny", {},
            "A vector input: the gradient of 2·xᵀx is 4x, one number per entry."),
    Example("control-flow", "loop and branch",
            "def f(a):\n    b = a * 2\n    while b.norm() < 1000:\n        b = b * 2\n"
            "    if b.sum() > 0:\n        c = b\n    else:\n        c = 100 * b\n    return c\n\n"
            "d = f(a)\nd.sum()", {"a": [0.5, -1.2, 0.3]},
            "Python decides the path; autograd records only the operations that actually ran."),
    Example("helpers", "f(w1, w2) with helper defs",
            "def square(w):\n    return w * w\n\ndef double(w):\n    return 2 * w\n\n"
            "def f(w1, w2):\n    return double(w1) + square(w2) + 5.0\n\nf(w1, w2)",
            {"w1": 1.0, "w2": 2.0},
            "Helper functions vanish from the graph: only their tensor operations are recorded."),
    Example("relu-network", "custom ReLU in a two-layer network",
            "class MyReLU(torch.autograd.Function):\n    @staticmethod\n"
            "    def forward(ctx, input):\n        ctx.save_for_backward(input)\n"
            "        return input.clamp(min=0)\n\n    @staticmethod\n"
            "    def backward(ctx, grad_output):\n        input, = ctx.saved_tensors\n"
            "        grad_input = grad_output.clone()\n        grad_input[input < 0] = 0\n"
            "        return grad_input\n\n"
            "N, D_in, H, D_out = 64, 1000, 100, 10\nx = torch.randn(N, D_in)\n"
            "y = torch.randn(N, D_out)\nw1 = torch.randn(D_in, H, requires_grad=True)\n"
            "w2 = torch.randn(H, D_out, requires_grad=True)\n"
            "y_pred = MyReLU.apply(x.mm(w1)).mm(w2)\nloss = (y_pred - y).pow(2).sum()\nloss", {},
            "Your own backward runs inside PyTorch's engine: MyReLUBackward is a node like any other."),
]

EXAMPLES += [
    Example("regression", "regression lab: fit β0, β1",
            "torch.manual_seed(1)\nsize = 200\nx = torch.rand(size) * 2\n"
            "y = 1 + x + torch.randn(size) * 0.25\n((b0 + b1 * x - y) ** 2).mean()",
            {"b0": 0.0, "b1": 0.0},
            "Gradient descent on the mean squared error finds the line y = β0 + β1·x through "
            "noisy data; run it below the graph and watch the line move."),
    Example("accumulate", "backward twice: gradients add up",
            "w1 = torch.tensor(1.0, requires_grad=True)\nw2 = torch.tensor(2.0, requires_grad=True)\n"
            "def f(w1, w2):\n    return 2 * w1 + w2 * w2 + 5.0\n"
            "result = f(w1, w2)\nresult.backward()\nresult = f(w1, w2)\nresult.backward()\nw1.grad", {},
            "Running backward again without zeroing adds to .grad: 2.0 + 2.0 = 4.0."),
    Example("retain-graph", "backward twice on one graph",
            "x = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\n"
            "y.backward()\ny.backward()\nx.grad", {},
            "PyTorch frees the graph's saved values after backward: a second backward needs "
            "retain_graph=True in the first."),
    Example("second-derivative", "second derivative with create_graph",
            "x = torch.tensor(2.0, requires_grad=True)\ny = x ** 3\n"
            "(dy,) = torch.autograd.grad(y, x, create_graph=True)\n"
            "(d2y,) = torch.autograd.grad(dy, x)\nd2y", {},
            "create_graph=True records the backward pass itself, so it can be differentiated "
            "again: d²(x³)/dx² = 6x = 12."),
]

EXAMPLES += [
    Example("baydin", "Baydin's evaluation trace: ln(x1) + x1·x2 − sin(x2)",
            "log(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0},
            "The textbook's evaluation trace (Baydin et al. 2018): value 11.652, gradient "
            "(5.5, 1.716); x1 feeds two operations, so its adjoint sums 0.5 + 5."),
    Example("neuron", "Karpathy's neuron: tanh(x1·w1 + x2·w2 + b)",
            "tanh(x1*w1 + x2*w2 + b)",
            {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432},
            "One neuron from micrograd's lecture: output 0.7071, and tanh's local derivative "
            "1 − 0.7071² = 0.5 scales every gradient behind it."),
]

from .r_examples import R_EXAMPLES  # noqa: E402 - R torch versions of seeds 000-002

EXAMPLES += [Example(*fields) for fields in R_EXAMPLES]

BY_SLUG = {example.slug: example for example in EXAMPLES}
DEFAULT = EXAMPLES[0]
