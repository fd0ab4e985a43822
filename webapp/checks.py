"""Checks beside every gradient: central differences, and the full Jacobian (in a worker)."""
from __future__ import annotations

import torch

from .errors import bad_input, runtime
from .evaluation import differentiate, find_leaves, output_gradient, run_program
from .jsonvalues import number, tensor_value
from .limits import Limits

MAX_CHECKED = 24
MAX_JACOBIAN = 64
STEPS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def _scalar_value(source: str, inputs: dict, grad_output, limits: Limits) -> float:
    """The number whose gradient the page shows: the output, or output · grad_output."""
    output = run_program(source, inputs, limits).output
    if not isinstance(output, torch.Tensor):
        raise runtime("The output is not a tensor, so it has no gradient to check.")
    output = output.detach().double()
    gradient = output_gradient(output, grad_output)
    return float(output.sum() if gradient is None else (output * gradient.double()).sum())


def _nudged(inputs: dict, name: str, index: int, delta: float) -> dict:
    value = torch.tensor(inputs[name], dtype=torch.float64)
    flat = value.reshape(-1).clone()
    flat[index] += delta
    return {**inputs, name: flat.reshape(value.shape).tolist()}


def finite_differences(source: str, inputs: dict, grad_output, step: float, limits: Limits) -> dict:
    """Autograd's gradient of each input entry beside the central difference at `step`."""
    if not (0 < step < 1):
        raise bad_input("step must be between 0 and 1, for example 0.001.")
    evaluation = run_program(source, inputs, limits)
    differentiate(evaluation, grad_output)
    leaves = find_leaves(evaluation)
    rows = []
    for name in evaluation.inputs:
        tensor = leaves[name]
        grad = tensor.grad.reshape(-1) if tensor.grad is not None else torch.zeros(tensor.numel())
        for index in range(min(tensor.numel(), MAX_CHECKED - len(rows))):
            plus = _scalar_value(source, _nudged(inputs, name, index, step), grad_output, limits)
            minus = _scalar_value(source, _nudged(inputs, name, index, -step), grad_output, limits)
            central = (plus - minus) / (2 * step)
            rows.append({"input": name, "index": index if tensor.dim() else None,
                         "autograd": tensor_value(grad[index], 1), "central": number(central),
                         "difference": number(central - float(grad[index]))})
    sweep = []
    if rows:  # how the error of the first entry depends on the step: truncation vs rounding
        first = rows[0]
        index = first["index"] or 0
        for h in STEPS:
            plus = _scalar_value(source, _nudged(inputs, first["input"], index, h), grad_output, limits)
            minus = _scalar_value(source, _nudged(inputs, first["input"], index, -h), grad_output, limits)
            central = (plus - minus) / (2 * h)
            sweep.append({"step": h, "central": number(central),
                          "error": number(abs(central - first["autograd"]))})
    return {"step": step, "rows": rows, "sweep": sweep, "dtype": "float32"}


def jacobian(source: str, inputs: dict, limits: Limits) -> dict:
    """The Jacobian of a small non-scalar output: one backward pass per output entry (row)."""
    evaluation = run_program(source, inputs, limits)
    output = evaluation.output
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        raise runtime("The output does not depend on any input that requires grad.")
    leaves = find_leaves(evaluation)
    names = list(leaves)
    columns = [(name, i) for name in names for i in range(leaves[name].numel())]
    if output.numel() > MAX_JACOBIAN or len(columns) > MAX_JACOBIAN:
        raise bad_input(f"The Jacobian is shown for up to {MAX_JACOBIAN} outputs and inputs.")
    flat = output.reshape(-1)
    rows = []
    for i in range(flat.numel()):
        one_hot = torch.zeros_like(flat)
        one_hot[i] = 1
        grads = torch.autograd.grad(flat, [leaves[n] for n in names], grad_outputs=one_hot,
                                    retain_graph=True, allow_unused=True)
        row = []
        for name, grad in zip(names, grads):
            values = torch.zeros(leaves[name].numel()) if grad is None else grad.reshape(-1)
            row.extend(tensor_value(v, 1) for v in values)
        rows.append(row)
    return {"rows": rows, "columns": [f"{n}[{i}]" if leaves[n].dim() else n for n, i in columns],
            "outputs": [f"y[{i}]" for i in range(flat.numel())], "backward_passes": len(rows)}
