"""Functions for the graph tests: chainrule source, inputs, and the same thing in plain torch."""
from __future__ import annotations

import math

import torch

from . import seeds


def _seed003_control(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    return (b if b.sum() > 0 else 100 * b).sum()


def _fan_out_three(x):
    y = x * 2
    return y * x + y


def _g(t):
    return t.tanh() * t


def _rosenbrock(x1, x2):
    return (1 - x1) ** 2 + 5 * (x2 - x1 ** 2) ** 2


def _loop(x):
    y = x
    for i in range(5):
        y = y * 0.9 + torch.sin(y)
    return y


def _network(x, w1, w2):
    return (torch.relu(x @ w1) @ w2).pow(2).mean()


TABLE = [
    ("seed001-expression", seeds.SEED001_EXPRESSION, {"x1": 2, "x2": 2},
     lambda x1, x2: 0.2 * x1 ** 2 + 0.2 * x2 ** 2 - 5),
    ("seed001-rosenbrock", seeds.SEED001_ROSENBROCK, {"x": [-1, 1]},
     lambda x: _rosenbrock(x[0], x[1])),
    ("seed004-helpers", seeds.SEED004_HELPERS, {"w1": 1.0, "w2": 2.0},
     lambda w1, w2: 2 * w1 + w2 * w2 + 5.0),
    ("seed003-log-sin", seeds.SEED003_LOG_SIN, {"x": 1.5},
     lambda x: torch.log(x ** 2) * torch.sin(x) + 1 / x),
    ("seed003-control-flow", seeds.SEED003_CONTROL_FLOW, {"a": [0.5, -1.2, 0.3]}, _seed003_control),
    ("seed003-sin", "sin(x)", {"x": 0.7}, torch.sin),
    ("fan-out-twice", "x * x", {"x": 3.0}, lambda x: x * x),
    ("fan-out-sum", "a + a", {"a": 1.5}, lambda a: a + a),
    ("fan-out-three", "y = x * 2\ny * x + y", {"x": 1.25}, _fan_out_three),
    ("broadcast", "(w * x).sum()", {"w": [1, 2, 3], "x": [[1], [2]]}, lambda w, x: (w * x).sum()),
    ("broadcast-scalar", "(x + b).mean()", {"x": [1, 2, 3, 4], "b": 0.5}, lambda x, b: (x + b).mean()),
    ("matmul", "(A @ v).sum()", {"A": [[1, 2], [3, 4]], "v": [0.5, -1]}, lambda A, v: (A @ v).sum()),
    ("mm", "A.mm(B).pow(2).sum()", {"A": [[1, 2], [3, 4]], "B": [[0.5], [-1]]},
     lambda A, B: A.mm(B).pow(2).sum()),
    ("dot", "2 * torch.dot(x, x)", {"x": [0, 1, 2, 3]}, lambda x: 2 * torch.dot(x, x)),
    ("reductions", "x.max() + x.min() + x.prod() + x.norm()", {"x": [1, -2, 3]},
     lambda x: x.max() + x.min() + x.prod() + x.norm()),
    ("mean-exp", "torch.exp(x).mean()", {"x": [0.1, 0.2]}, lambda x: torch.exp(x).mean()),
    ("loop", "y = x\nfor i in range(5):\n    y = y * 0.9 + torch.sin(y)\ny", {"x": 0.3}, _loop),
    ("def", "def g(t):\n    return t.tanh() * t\ng(x) + g(2 * x)", {"x": 0.8},
     lambda x: _g(x) + _g(2 * x)),
    ("sigmoid-relu", "torch.sigmoid(x) * relu(x - 1)", {"x": 2.5},
     lambda x: torch.sigmoid(x) * torch.relu(x - 1)),
    ("clamp-where", "torch.where(x > 0, x, 0.1 * x).sum() + x.clamp(min=0.5).sum()",
     {"x": [-1, 2]}, lambda x: torch.where(x > 0, x, 0.1 * x).sum() + x.clamp(min=0.5).sum()),
    ("indexing", "x[0] * x[1:].sum()", {"x": [1, 2, 3]}, lambda x: x[0] * x[1:].sum()),
    ("reshape", "x.reshape(2, 2).t().flatten()[1] + x.view(4).unsqueeze(0).squeeze()[2]",
     {"x": [[1, 2], [3, 4]]},
     lambda x: x.reshape(2, 2).t().flatten()[1] + x.view(4).unsqueeze(0).squeeze()[2]),
    ("transpose", "(x.transpose(0, 1) @ x).sum()", {"x": [[1, 2], [3, 4]]},
     lambda x: (x.transpose(0, 1) @ x).sum()),
    ("pow-sqrt-abs", "torch.sqrt(x.abs()) + torch.pow(x, 3)", {"x": -2.0},
     lambda x: torch.sqrt(x.abs()) + torch.pow(x, 3)),
    ("maximum", "torch.maximum(x, y) * torch.minimum(x, y)", {"x": 1.0, "y": 2.0},
     lambda x, y: torch.maximum(x, y) * torch.minimum(x, y)),
    ("log10-division", "torch.log10(x ** 2) / (1 + y)", {"x": 3.0, "y": 0.5},
     lambda x, y: torch.log10(x ** 2) / (1 + y)),
    ("network", "(relu(x @ w1) @ w2).pow(2).mean()",
     {"x": [[1, -1], [0.5, 2]], "w1": [[0.1, -0.3, 0.2], [0.4, 0.1, -0.5]], "w2": [[1.0], [-2.0], [0.5]]},
     _network),
    ("math-pi", "torch.cos(math.pi * x) * x", {"x": 0.25}, lambda x: torch.cos(math.pi * x) * x),
]


class MyReLU(torch.autograd.Function):
    """Seed 002's custom ReLU, written directly in PyTorch."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


TABLE.append(("custom-relu", seeds.SEED000_RELU_EXERCISE, {"x": [-2.0, 0.5, 3.0]},
              lambda x: MyReLU.apply(x).sum()))
