"""Misconception guards (issue 15): each shown only when the program makes the mistake."""
from __future__ import annotations

import pytest

from webapp import trace
from webapp.lesson.guards import find_guards
from webapp.model import Node

LEAF = "x = torch.tensor(1.0, requires_grad=True)\n"

# (program, the guards expected as (line, kind)); each row's mutation is its own mistake removed.
CASES = [
    (LEAF + "print(x.grad)\ny = x * 2\ny.backward()\nx.grad", [(2, "grad-before-backward")]),
    (LEAF + "y = x * 2\nz = y * y\nz.backward()\ny.grad", [(5, "non-leaf-grad")]),
    (LEAF + "y = x * 2\ny.retain_grad()\nz = y * y\nz.backward()\ny.grad", []),
    ("x = torch.tensor(2, requires_grad=True)\nx * x", [(1, "integer-tensor")]),
    (LEAF + "for i in range(3):\n    y = x * 2\n    y.backward()\nx.grad", [(4, "accumulate")]),
    (LEAF + "for i in range(3):\n    y = x * 2\n    y.backward()\n    x.grad = None\nx * 1", []),
    (LEAF + "y = x * 2\ny.backward()\ny.backward()\nx.grad", [(4, "accumulate"), (4, "retain-graph")]),
    (LEAF + "y = x * x\ny.backward(retain_graph=True)\nx.grad.zero_()\ny.backward()\nx.grad", []),
    ("x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x * 2\ny.backward()", [(3, "non-scalar-backward")]),
    ("x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x * 2\ny.backward(torch.ones_like(y))", []),
    ("x = torch.tensor([1.0], requires_grad=True)\ntorch.autograd.gradcheck(torch.sin, (x,))",
     [(2, "gradcheck-float32")]),
    ("x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)\n"
     "torch.autograd.gradcheck(torch.sin, (x,))", []),
    ("0.2*x1**2 + 0.2*x2**2 - 5", []),
]


@pytest.mark.parametrize("source, expected", CASES)
def test_guards_fire_only_for_the_mistake(source, expected):
    """Mutation: `node.lineno < first_backward` → `<= first_backward + 99` fires on late reads;
    and dropping `name not in retained` fails the retain_grad row."""
    nodes = [Node(id="n2", kind="op", label="y", op="MulBackward0", line=2, col=1, origin=None,
                  value=None, grad=None, shape=[2] if "[1.0, 2.0]" in source else [], named=True,
                  name="y")]
    assert [(g["line"], g["kind"]) for g in find_guards(source, nodes)] == expected


def test_guards_reach_the_trace():
    """Mutation: `source=source` dropped from the add_lesson call in evaluation.py fails this."""
    data = trace(LEAF + "y = x * 2\nz = y * y\nz.backward()\ny.grad")
    assert [(g["line"], g["kind"]) for g in data["guards"]] == [(5, "non-leaf-grad")]
    assert "retain_grad()" in data["guards"][0]["message"]
