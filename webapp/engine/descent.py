"""Gradient descent as the textbook writes it, and second derivatives (runs in a worker).

Each step: value = f(x); value.backward(); then, under no_grad, x -= lr * x.grad and
x.grad.zero_() — the loop of seed 001, with every step's numbers kept for the page.
"""
from __future__ import annotations

import math

import torch

from ..errors import bad_input, runtime
from .evaluation import make_input, run_program
from .jsonvalues import tensor_value
from ..limits import MAX_DESCENT_STEPS as MAX_STEPS, Limits


def optimize(source: str, inputs: dict, lr: float, steps: int, limits: Limits) -> dict:
    """`POST /api/optimize`: the step table, and where the inputs ended."""
    if not (isinstance(steps, int) and 1 <= steps <= MAX_STEPS):
        raise bad_input(f"steps must be a whole number from 1 to {MAX_STEPS}.")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise bad_input("lr must be a positive number, for example 0.01.")
    first = run_program(source, inputs, limits)
    names = first.inputs
    if not names:
        raise bad_input("Gradient descent needs inputs to move: use names the function does not assign.")
    leaves = {name: make_input(name, inputs[name], limits) for name in names}
    table, stopped = [], None
    for step in range(1, steps + 1):
        value = run_program(source, dict(leaves), limits, reuse_inputs=True).output
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise runtime("Gradient descent needs a function whose output is a single number.")
        if not value.requires_grad:
            raise runtime("The output does not depend on the inputs, so there is no gradient to follow.")
        value.backward()
        row = {"step": step, "value": tensor_value(value.detach().reshape(()), 1),
               "grad": {n: _value(t.grad) for n, t in leaves.items()},
               "inputs": {n: _value(t) for n, t in leaves.items()}}
        table.append(row)
        if not math.isfinite(value.item()) or any(
                t.grad is not None and not torch.isfinite(t.grad).all() for t in leaves.values()):
            stopped = {"step": step, "reason": f"The value became {value.item()} at step {step}: "
                       f"the learning rate {lr:g} is too large, so each step overshoots and grows."}
            break
        with torch.no_grad():
            for tensor in leaves.values():
                if tensor.grad is not None:
                    tensor.sub_(lr * tensor.grad)
                    tensor.grad.zero_()
    result = {"steps": table, "final": {n: _value(t) for n, t in leaves.items()}}
    if stopped:
        result["stopped"] = stopped
    points = _data_points(first)
    if points and len(names) == 2:
        result["points"] = points  # the regression lab: data to draw the fitted line over
    return result


def _data_points(evaluation) -> dict | None:
    """Tensors the program named x and y (1-D, equal length, no grad): data to fit."""
    named = {name: t for name, t in evaluation.interpreter.named}
    x, y = named.get("x"), named.get("y")
    if x is None or y is None or x.requires_grad or y.requires_grad:
        return None
    if x.dim() != 1 or x.shape != y.shape or x.numel() > 2000:
        return None
    return {"x": _value(x), "y": _value(y)}


def _value(tensor):
    return None if tensor is None else tensor_value(tensor.detach(), 10_000)


def hessian(source: str, inputs: dict, limits: Limits) -> dict:
    """Second derivatives with create_graph=True: the Hessian over every input entry."""
    evaluation = run_program(source, inputs, limits)
    output = evaluation.output
    if not isinstance(output, torch.Tensor) or output.numel() != 1 or not output.requires_grad:
        raise runtime("The Hessian needs a single-number output that depends on the inputs.")
    leaves = [evaluation.input_tensors[n] for n in evaluation.inputs]
    labels = [f"{n}[{i}]" if t.dim() else n for n, t in zip(evaluation.inputs, leaves)
              for i in range(t.numel())]
    if len(labels) > 16:
        raise bad_input("The Hessian is shown for up to 16 input entries.")
    grads = torch.autograd.grad(output, leaves, create_graph=True, allow_unused=True)
    first = torch.cat([(torch.zeros_like(t) if g is None else g).reshape(-1) for g, t in zip(grads, leaves)])
    rows = []
    for i in range(first.numel()):
        if first[i].requires_grad:
            second = torch.autograd.grad(first[i], leaves, retain_graph=True, allow_unused=True)
            row = torch.cat([(torch.zeros_like(t) if g is None else g).reshape(-1)
                             for g, t in zip(second, leaves)])
        else:
            row = torch.zeros(first.numel())
        rows.append([tensor_value(v, 1) for v in row])
    return {"labels": labels, "gradient": [tensor_value(v, 1) for v in first.detach()], "hessian": rows}
