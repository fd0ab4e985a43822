"""Functions and snippets as students type them: (name, source, inputs, grad_output).

Every class of defect of issue 12 has rows here: composite ops, builtins, unpacking,
in-place updates, `.T`, `.values`, element assignment, programs running backward
themselves (twice, retain_graph, create_graph, autograd.grad), custom Functions and
every seed snippet. The sources are plain Python too: the oracle runs them as they are.
"""
from __future__ import annotations

from . import seeds
from .graph_table import TABLE

S = 1.5                 # a scalar input
V = [0.5, -1.0, 2.0]    # a vector input
M = [[1.0, -2.0], [0.5, 3.0]]

# One-line functions of x (scalar and vector): elementwise, composite and reductions.
EXPRESSIONS = [
    "1/x", "2/x", "x/3", "-x", "x**2", "x**3", "x**-1", "x**0.5 if False else x**2", "2**x",
    "sin(x)", "cos(x)", "tan(x)", "exp(x)", "log(x**2)", "log(x**2)*sin(x) + 1/x", "sqrt(x**2 + 1)",
    "tanh(x)", "sigmoid(x)", "relu(x)", "abs(x)", "square(x)", "x*x*x", "x + x", "x - x",
    "(x - 1)**2", "1 - x", "3 - 2*x", "x * 0 + 1", "torch.clamp(x, min=0)", "clamp(x, -1, 1)",
    "torch.clip(x, -0.5, 0.5)", "x.clamp(max=1)", "torch.exp(-x**2)", "torch.log1p(x**2)",
    "torch.atan(x)", "F.softplus(x)", "F.gelu(x)", "F.silu(x)", "F.leaky_relu(x, 0.1)",
    "F.elu(x)", "torch.erf(x)", "x.sin().cos()", "torch.sinh(x) - torch.cosh(x)",
    "torch.where(x > 0, x, 2 * x)", "torch.maximum(x, torch.zeros_like(x))", "x.pow(2)",
    "torch.pow(2, x)", "x.reciprocal()", "torch.rsqrt(x**2 + 1)", "x.exp().log()",
]
VECTOR_ONLY = [
    "sum(x**2)", "sum(x)", "max(x)", "min(x)", "abs(x).sum()", "x.sum()", "x.mean()",
    "x.prod()", "x.norm()", "torch.linalg.norm(x)", "x.max()", "x.max(dim=0).values",
    "torch.softmax(x, dim=0)[0]", "F.log_softmax(x, dim=0).sum()", "torch.outer(x, x).sum()",
    "torch.dot(x, x)", "x @ x", "F.normalize(x, dim=0).sum()", "x.std()", "x.var()",
    "torch.logsumexp(x, dim=0)", "x.cumsum(0).sum()", "torch.einsum('i,i->', x, x)",
    "x.T @ x", "x[0] * x[1] - x[2]", "x[1:].sum() * x[0]", "x.flip(0)[0]",
    "F.mse_loss(x, torch.zeros(3))", "F.l1_loss(x, torch.ones(3))", "torch.stack([x, 2 * x]).sum()",
    "torch.cat([x, x ** 2]).sum()", "x.unsqueeze(0).sum()", "x.reshape(3, 1).sum()",
    "F.cross_entropy(x.unsqueeze(0), torch.tensor([1]))", "x.amax()", "x.min(dim=0).values",
]
SNIPPETS = [
    ("snapshot-inplace", "y = x*2\ny += 1\ny*x", {"x": 1.0}),
    ("snapshot-inplace-vec", "y = x*2\ny += 1\ny.mul_(2)\n(y*x).sum()", {"x": V}),
    ("unpack", "x1, x2 = x\nx1*x2", {"x": [2.0, 3.0]}),
    ("unpack-three", "a, b, c = x\na * b + c", {"x": V}),
    ("for-elements", "total = 0\nfor xi in x:\n    total = total + xi**2\ntotal", {"x": V}),
    ("enumerate", "s = 0\nfor i, xi in enumerate(x):\n    s = s + i * xi\ns", {"x": V}),
    ("zip", "s = 0\nfor a, b in zip(x, w):\n    s = s + a * b\ns", {"x": V, "w": [1.0, 2.0, 3.0]}),
    ("T-matrix", "(W.T @ v).sum()", {"W": M, "v": [1.0, -1.0]}),
    ("vector-matrix", "(v @ W).sum()", {"W": M, "v": [1.0, -1.0]}),
    ("matrix-vector", "(W @ v).pow(2).sum()", {"W": M, "v": [1.0, -1.0]}),
    ("linear", "F.linear(v, W).sum()", {"W": M, "v": [1.0, -1.0]}),
    ("linear-bias", "F.linear(v, W, b).sum()", {"W": M, "v": [1.0, -1.0], "b": [0.5, 0.5]}),
    ("values", "m = x.max(dim=0)\nm.values * 2", {"x": V}),
    ("element-assign", "y = x * 2\ny[0] = 0\n(y*x).sum()", {"x": V}),
    ("element-assign-tensor", "y = x.clone()\ny[1] = x[0] * 3\ny.sum()", {"x": V}),
    ("split", "a, b = torch.split(x, [1, 2])\n(a * 2).sum() + (b * b).sum()", {"x": V}),
    ("unbind", "p, q, r = x.unbind()\np * q", {"x": V}),
    ("chunk", "a, b = x.chunk(2)\na.sum() * b.sum()", {"x": [1.0, 2.0, 3.0, 4.0]}),
    ("backward-own", "y = (x**2).sum()\ny.backward()", {"x": V}),
    ("backward-last-line-randn", "(torch.randn(3) * x).sum().backward()", {"x": S}),
    ("backward-twice", "y = x * 3\ny.backward()\nz = x*x\nz.backward()\nz", {"x": S}),
    ("backward-twice-same", "y = x * x\ny.backward(retain_graph=True)\ny.backward()\nx.grad", {"x": S}),
    ("autograd-backward", "y = x*x\ntorch.autograd.backward(y)\nx.grad", {"x": S}),
    ("autograd-grad-two", "y1 = x*2\ny2 = x*x\ng = torch.autograd.grad([y1, y2], [x])\ng", {"x": S}),
    ("autograd-grad", "y = x.sin() * x\ng, = torch.autograd.grad(y, x)\ng", {"x": S}),
    ("create-graph", "y = x**3\ng, = torch.autograd.grad(y, x, create_graph=True)\ng.backward()\nx.grad", {"x": S}),
    ("output-after-own-backward", "y = x * x\ny.backward()\nz = x * 3 + x.grad\nz", {"x": S}),
    ("create-graph-backward", "y = x**3\ny.backward(create_graph=True)\ng = x.grad\ng", {"x": S}),
    ("vector-backward", "y = x * 2\ny.backward(torch.ones(3))\nx.grad", {"x": V}),
    ("grad-none", "y = (x*x).sum()\ny.backward()\nx.grad = None\nz = (x*3).sum()\nz.backward()\nx.grad", {"x": V}),
    ("grad-zero", "y = (x*x).sum()\ny.backward()\nx.grad.zero_()\ny2 = (x*3).sum()\ny2.backward()\nx.grad", {"x": V}),
    ("data-update", "w = torch.tensor([1.0, 2.0], requires_grad=True)\nfor i in range(3):\n    loss = (w**2).sum()\n    loss.backward()\n    with torch.no_grad():\n        w.data -= 0.1 * w.grad\n    w.grad = None\nloss", {}),
    ("requires-grad-set", "w = torch.ones(2)\nw.requires_grad = True\n(w*3).sum()", {}),
    ("descent-small", "x = torch.tensor([-1.0, 1.0], requires_grad=True)\nfor i in range(3):\n    v = (1 - x[0])**2 + 5 * (x[1] - x[0]**2)**2\n    v.backward()\n    with torch.no_grad():\n        x.sub_(0.01 * x.grad)\n        x.grad.zero_()\nv", {}),
    ("chained", "y = x * 2\nz = y * y\nz.sum()", {"x": V}),
    ("no-grad-constant", "c = torch.tensor([1.0, 2.0, 3.0])\n(c * x).sum()", {"x": V}),
    ("named-constant", "k = 3.0\nk * x", {"x": S}),
    ("leaf-created", "w = torch.tensor(2.0, requires_grad=True)\nw * x + w", {"x": S}),
    ("fan-out", "y = x * 2\ny * x + y", {"x": S}),
    ("mixed", "a = x * w\nb = a.sin()\nc = b * a\nc", {"x": S, "w": -0.5}),
    ("def-helper", "def f(t):\n    return t * t + 1\nf(x) * f(2 * x)", {"x": S}),
    ("if-branch", "y = x * 2\nif y > 0:\n    y = y ** 2\nelse:\n    y = -y\ny", {"x": S}),
    ("while-loop", "y = x\nwhile y < 10:\n    y = y * 2\ny", {"x": S}),
    ("custom-relu", seeds.SEED000_RELU_EXERCISE, {"x": V}),
    ("custom-square", "class Sq(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, a):\n        ctx.save_for_backward(a)\n        return a * a\n\n    @staticmethod\n    def backward(ctx, g):\n        a, = ctx.saved_tensors\n        return 2 * a * g\n\nSq.apply(x) + x", {"x": S}),
    ("seed001-quadratic", seeds.SEED001_QUADRATIC, {}),
    ("seed001-expression", seeds.SEED001_EXPRESSION, {"x1": 2, "x2": 2}),
    ("seed001-rosenbrock", seeds.SEED001_ROSENBROCK, {"x": [-1, 1]}),
    ("seed001-descent", seeds.SEED001_DESCENT.replace("num_iterations = 1000", "num_iterations = 30"), {}),
    ("seed001-regression", seeds.SEED001_REGRESSION.replace("range(500)", "range(5)"), {}),
    ("seed003-log-sin", seeds.SEED003_LOG_SIN, {"x": S}),
    ("seed003-dot", seeds.SEED003_DOT, {}),
    ("seed003-retain", seeds.SEED003_RETAIN, {}),
    ("seed003-nodes", seeds.SEED003_NODES, {}),
    ("seed003-sin-grid", seeds.SEED003_SIN_GRID, {}),
    ("seed003-log10", seeds.SEED003_LOG10, {}),
    ("seed003-control-flow", seeds.SEED003_CONTROL_FLOW, {"a": [0.5, -1.2, 0.3]}),
    ("seed004-helpers", seeds.SEED004_HELPERS, {"w1": 1.0, "w2": 2.0}),
    ("seed002-small-network", seeds.MY_RELU + "x = torch.randn(4, 5)\ny = torch.randn(4, 2)\n"
     "w1 = torch.randn(5, 3, requires_grad=True)\nw2 = torch.randn(3, 2, requires_grad=True)\n"
     "y_pred = MyReLU.apply(x.mm(w1)).mm(w2)\nloss = (y_pred - y).pow(2).sum()\nloss", {}),
    ("seed002-small-training", seeds.MY_RELU + "x = torch.randn(4, 5)\ny = torch.randn(4, 2)\n"
     "w1 = torch.randn(5, 3, requires_grad=True)\nw2 = torch.randn(3, 2, requires_grad=True)\n"
     "for t in range(3):\n    y_pred = MyReLU.apply(x.mm(w1)).mm(w2)\n    loss = (y_pred - y).pow(2).sum()\n"
     "    loss.backward()\n    with torch.no_grad():\n        w1 -= 1e-3 * w1.grad\n        w2 -= 1e-3 * w2.grad\n"
     "        w1.grad.zero_()\n        w2.grad.zero_()\nloss", {}),
]


def rows() -> list[tuple]:
    table = []
    for text in EXPRESSIONS:
        table.append((f"s:{text}", text, {"x": S}, None))
        table.append((f"v:{text}", f"({text}).sum()", {"x": V}, None))
    for text in VECTOR_ONLY:
        table.append((f"v:{text}", text, {"x": V}, None))
    for name, source, inputs in SNIPPETS:
        table.append((name, source, inputs, None))
    for name, source, inputs, _ in TABLE:
        if name not in {row[0] for row in table}:
            table.append((f"graph-table:{name}", source, inputs, None))
    return table


ROWS = rows()
