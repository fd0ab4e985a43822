"""The program's own backward() calls and the pass the page shows: `.grad` as PyTorch left it.

Oracles: the same program run in plain PyTorch (its `.grad` at the end), and
`torch.autograd.grad` for the gradient of the pass shown alone.
"""
from __future__ import annotations

import pytest
import torch

from webapp.engine.jobs import handle
from webapp.web.examples import BY_SLUG


def _trace(source: str, inputs: dict | None = None) -> dict:
    return handle({"kind": "trace", "source": source, "inputs": inputs or {}})["ok"]


def _leaf(trace: dict, name: str) -> dict:
    return next(n for n in trace["nodes"] if n["name"] == name and n["kind"] in ("input", "leaf"))


def test_a_pass_chainrule_runs_after_the_programs_own_leaves_grad_alone():
    """`y.backward(); z = x*3; z`: the page shows z's pass (∂z/∂x = 3), but x.grad stays 4, as
    in PyTorch, and the panel says so. Before, chainrule's pass added to it (.grad 7), and in
    seed 003's log10 exercise a .grad entry read −21.37 where PyTorch gives −3.6955.
    Mutation seen failing: the restore of `kept` removed from differentiate."""
    trace = _trace("y = x**2\ny.backward()\nz = x*3\nz", {"x": 2.0})
    x = torch.tensor(2.0, requires_grad=True)
    (x ** 2).backward()
    z = x * 3
    shown, = torch.autograd.grad(z, x)
    node = _leaf(trace, "x")
    assert node["grad"] == float(shown) and node["accumulated"] == float(x.grad) == 4.0
    assert trace["leaves"]["x"]["accumulated"] == float(x.grad)
    assert trace["extra_pass"] is True
    assert trace["explain"]["backward"][node["id"]].endswith("x.grad stays 4, as the program left "
                                                             "it (this pass is chainrule's own)")
    output = next(n for n in trace["nodes"] if n["kind"] == "output")
    assert "chainrule runs this pass on z itself" in trace["explain"]["backward"][output["id"]]


def test_a_second_backward_says_what_grad_holds_after_it():
    """The gallery's "backward twice: gradients add up": the panel's last line is
    w1.grad = 2 + 2 = 4 (it said w1.grad = 2 while the result read tensor(4.)).
    Mutation seen failing: `_grad_line` returning f"{name}.grad = {grad}" always."""
    example = BY_SLUG["accumulate"]
    trace = _trace(example.source)
    w1, w2 = torch.tensor(1.0, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    for _ in range(2):
        (2 * w1 + w2 * w2 + 5.0).backward()
    once, = torch.autograd.grad(2 * w1 + w2 * w2 + 5.0, w1)
    node = _leaf(trace, "w1")
    assert node["grad"] == float(once) and node["accumulated"] == float(w1.grad)
    line = trace["explain"]["backward"][node["id"]].split("\n")[-1]
    assert line.startswith(f"w1.grad = {float(w1.grad) - float(once):g} + {float(once):g} = {float(w1.grad):g}")
    assert "extra_pass" not in trace


def test_a_tensor_grad_after_two_passes_names_the_total():
    """Seed 003 ex. 2 (retain_graph, backward twice, x.grad): the last line gives .grad as
    PyTorch holds it, (0, 8, 16, 24), not this pass's (0, 4, 8, 12)."""
    source = ("x = torch.arange(4.0, requires_grad=True)\ny = 2 * torch.dot(x, x)\n"
              "y.backward(retain_graph=True)\ny.backward()\nx.grad")
    trace = _trace(source)
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward(retain_graph=True)
    y.backward()
    line = trace["explain"]["backward"][_leaf(trace, "x")["id"]].split("\n")[-1]
    total = "(" + ", ".join(f"{v:g}" for v in x.grad.tolist()) + ")"
    assert line.startswith("x.grad = ") and total in line, line


DESCENT = """w = torch.tensor(3.0, requires_grad=True)
for i in range(30):
    loss = (w - 1)**2
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
loss"""


def test_a_descent_loop_says_what_the_last_pass_made_of_grad_and_what_zero_did():
    """The lesson loop (backward, step, `w.grad.zero_()`): the last pass made w.grad this
    pass's gradient (it was zeroed the turn before), and `zero_()` then made it 0. The panel
    said `w.grad = (−0.00619) + 0.00619 = 0` (review4): an earlier value made up from the
    end. Oracle: the same loop in plain PyTorch, `.grad` read right after the last backward.
    Mutation seen failing: `after = accumulated` in _grad_line (the made-up sum returns)."""
    trace = _trace(DESCENT)
    w = torch.tensor(3.0, requires_grad=True)
    for _ in range(30):
        loss = (w - 1) ** 2
        loss.backward()
        after_pass = float(w.grad)
        with torch.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
    node = _leaf(trace, "w")
    assert node["after_pass"] == pytest.approx(after_pass, rel=1e-6)
    assert node["accumulated"] == float(w.grad) == 0.0
    line = trace["explain"]["backward"][node["id"]].split("\n")[-1]
    assert line == f"w.grad = {after_pass:.3g}; the program's later lines then made it 0", line
