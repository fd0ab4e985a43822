"""Checks beside every gradient: central differences, and the full Jacobian (in a worker)."""
from __future__ import annotations

import torch

from ..errors import bad_input, runtime
from ..language.calls import explain_torch_error
from .evaluation import find_leaves, graphs_kept, output_gradient, run_program
from .jsonvalues import number, tensor_value
from ..limits import Limits

from ..limits import MAX_CHECKED
from ..limits import MAX_JACOBIAN
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
    with graphs_kept():
        evaluation = run_program(source, inputs, limits)
    leaves = find_leaves(evaluation)
    names = list(evaluation.inputs)
    ours = _own_pass(evaluation.output, [leaves[name] for name in names], grad_output)
    # The program's own backward() may have seeded its pass, or run several: its .grad is
    # then not this derivative, and the page says so beside the table.
    differs = [name for name, grad in zip(names, ours) if leaves[name].grad is not None
               and (grad is None or not torch.equal(leaves[name].grad, grad))]
    rows = []
    for name, own in zip(names, ours):
        tensor = leaves[name]
        grad = own.reshape(-1) if own is not None else torch.zeros(tensor.numel())
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
    return {"step": step, "rows": rows, "sweep": sweep, "dtype": "float32", "program_grad_differs": differs}


def _own_pass(output, tensors: list, grad_output) -> list:
    """∂(output · grad_output)/∂ each tensor, by one backward pass of chainrule's own from the
    output: the derivative the central differences approximate (_scalar_value), whatever
    passes the program ran itself. None where the output does not depend on it."""
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        return [None] * len(tensors)
    try:
        return list(torch.autograd.grad(output, tensors, output_gradient(output, grad_output),
                                        retain_graph=True, allow_unused=True))
    except RuntimeError as exc:
        raise runtime(explain_torch_error(exc)) from None


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


def check_backward(source: str, inputs: dict, limits: Limits) -> dict:
    """"Check my backward": torch.autograd.gradcheck on each custom Function, in float64.

    The Function is checked at the arguments the program first called it with. On a
    failure, the analytical and numerical Jacobians are returned side by side, with the
    entries that disagree marked.
    """
    from ..language.custom_function import CustomFunction
    evaluation = run_program(source, inputs, limits)
    functions = [v for v in evaluation.interpreter.scope.values.values()
                 if isinstance(v, CustomFunction) and v.first_args is not None]
    if not functions:
        raise bad_input("Define a class Name(torch.autograd.Function) and call Name.apply(...) "
                        "to check its backward.")
    return {"functions": [_check_one(f) for f in functions]}


def _check_one(function) -> dict:
    args = [a.double().requires_grad_(a.is_floating_point()) if isinstance(a, torch.Tensor) else a
            for a in function.first_args]
    tensors = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    try:
        passed = torch.autograd.gradcheck(function.torch_class.apply, tuple(args), eps=1e-6,
                                          atol=1e-5, rtol=1e-3, raise_exception=False)
    except Exception as exc:  # the user's backward itself failed
        return {"name": function.name, "passed": False, "message": str(exc).split("\n")[0][:300]}
    analytical, numerical = _jacobians(function.torch_class.apply, args, tensors)
    wrong = [[not torch.isclose(a, n, atol=1e-5, rtol=1e-3).item() for a, n in zip(ra, rn)]
             for ra, rn in zip(analytical, numerical)]
    return {"name": function.name, "passed": bool(passed) and not any(any(r) for r in wrong),
            "analytical": [[number(float(v)) for v in row] for row in analytical],
            "numerical": [[number(float(v)) for v in row] for row in numerical],
            "wrong": wrong, "at": [tensor_value(t.detach(), 100) for t in tensors]}


def _jacobians(apply, args, tensors, eps: float = 1e-6):
    """Rows: output entries; columns: input entries (of every tensor argument)."""
    output = apply(*args)
    flat_out = output.reshape(-1)
    analytical = []
    for i in range(flat_out.numel()):
        one_hot = torch.zeros_like(flat_out)
        one_hot[i] = 1
        grads = torch.autograd.grad(flat_out, tensors, one_hot, retain_graph=True, allow_unused=True)
        analytical.append(torch.cat([(torch.zeros_like(t) if g is None else g).reshape(-1)
                                     for g, t in zip(grads, tensors)]))
    columns = []
    with torch.no_grad():
        for tensor in tensors:
            flat = tensor.view(-1)
            for j in range(flat.numel()):
                original = flat[j].item()
                flat[j] = original + eps
                plus = apply(*args).reshape(-1).clone()
                flat[j] = original - eps
                minus = apply(*args).reshape(-1).clone()
                flat[j] = original
                columns.append((plus - minus) / (2 * eps))
    numerical = torch.stack(columns, dim=1) if columns else torch.zeros(flat_out.numel(), 0)
    return torch.stack(analytical) if analytical else numerical, numerical
