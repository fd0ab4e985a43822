"""Misconception guards (issue 15): each shown only when the program makes the mistake."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

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


COURSE = Path(__file__).parent / "course_corpus"


@pytest.mark.parametrize("name, source", [
    ("karpathy", (COURSE / "karpathy_micrograd_torch_check.py").read_text()),
    ("d2l", (COURSE / "d2l_autograd.py").read_text()),
    ("chained twice, rebuilt", "x = torch.ones(3, requires_grad=True)\ny = x * x\ny.sum().backward()\n"
                               "y = x * 3\ny.sum().backward()\nx.grad"),
    ("one entry", "x = torch.tensor([2.0], requires_grad=True)\no = torch.tanh(x * 3)\no.backward()\nx.grad"),
    ("two unnamed graphs", "x = torch.ones(3, requires_grad=True)\n(x * 2).sum().backward()\n"
                           "(x * 3).sum().backward()\nx.grad"),
])
def test_a_note_never_contradicts_what_pytorch_did(monkeypatch, name, source):
    """Programs PyTorch runs to the end, taken as published: no note may say PyTorch refuses
    them (retain-graph, non-scalar-backward), and no name that is a leaf in plain torch may be
    called a non-leaf. Karpathy's `x2 = torch.Tensor([0.0]).double(); x2.requires_grad = True`
    was a non-leaf, its [1]-shaped `o.backward()` needed a gradient, and d2l's `z.sum()` and
    `y.sum()` (two graphs) were one graph backward twice. Mutations seen failing: two unknown
    receivers matching (`if base else None` dropped); `made_leaves` not subtracted;
    `math.prod(...) > 1` dropped from tensor_names. `_base_name` never walking a chain fails
    the test below."""
    monkeypatch.setenv("CHAINRULE_TRUSTED", "1")
    from webapp.engine.jobs import handle
    space = {"torch": torch, "print": lambda *a, **k: None}
    exec(compile(source, name, "exec"), space)  # the oracle: plain PyTorch, no exception
    guards = handle({"kind": "trace", "source": source, "inputs": {}})["ok"]["guards"]
    refused = [g for g in guards if g["kind"] in ("retain-graph", "non-scalar-backward")]
    assert refused == [], refused
    for guard in guards:
        if guard["kind"] == "non-leaf-grad":
            leaf = re.search(r"^(\w+)", guard["message"]).group(1)
            assert not (isinstance(space.get(leaf), torch.Tensor) and space[leaf].is_leaf), guard


def test_a_second_pass_through_one_graph_is_still_noted():
    """The positive case beside the one above: PyTorch refuses `y.sum().backward()` twice on
    one graph, and the note says so."""
    source = "x = torch.ones(3, requires_grad=True)\ny = x * x\ny.sum().backward()\ny.sum().backward()"
    with pytest.raises(RuntimeError):
        exec(source, {"torch": torch})
    assert [g["kind"] for g in find_guards(source) if g["kind"] == "retain-graph"] == ["retain-graph"]
