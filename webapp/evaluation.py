"""Evaluate a program with real tensors and differentiate its output (runs in a worker)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import bad_input, runtime
from .jsonvalues import describe
from .language.calls import explain_torch_error
from .language.interpreter import Interpreter
from .language.validator import parse_program
from .lesson import add_lesson
from .limits import Limits
from .tracing import GraphTracer, build_trace

RANDOM_SEED = 0  # the same source gives the same random numbers


@dataclass
class Evaluation:
    """Everything one run produced, still as live tensors (for tracing and plotting)."""

    inputs: list[str]
    input_tensors: dict
    output: object
    interpreter: Interpreter


def make_input(name: str, value, limits: Limits) -> torch.Tensor:
    """A float32 leaf requiring grad from a number or nested list given in a request."""
    if isinstance(value, bool) or not _is_numeric(value):
        raise bad_input(f"The value of {name} must be a number or a list of numbers.")
    try:
        tensor = torch.tensor(value, dtype=torch.float32)
    except (ValueError, TypeError, RuntimeError):
        raise bad_input(f"The value of {name} must be a number or a rectangular list of numbers.") from None
    if tensor.numel() > limits.max_tensor_elements:
        raise bad_input(f"The value of {name} has more than {limits.max_tensor_elements:,} numbers.")
    return tensor.requires_grad_(True)


def _is_numeric(value, depth: int = 0) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if isinstance(value, list) and depth < 8:
        return all(_is_numeric(v, depth + 1) for v in value)
    return False


def run_program(source: str, inputs: dict, limits: Limits, observer=None,
                reuse_inputs: bool = False) -> Evaluation:
    """Parse and run the program with its inputs; no backward pass yet.

    With `reuse_inputs`, the inputs are leaf tensors already (gradient descent keeps
    updating the same ones).
    """
    program = parse_program(source, limits)
    missing = [name for name in program.inputs if name not in inputs]
    if missing:
        raise bad_input(f"Give a value for {', '.join(missing)}.")
    tensors = {name: inputs[name] if reuse_inputs else make_input(name, inputs[name], limits)
               for name in program.inputs}
    seed_cpu(RANDOM_SEED)
    interpreter = Interpreter(limits, observer=observer)
    with torch.enable_grad():
        output = interpreter.run(program.tree, tensors)
    return Evaluation(program.inputs, tensors, output, interpreter)


def seed_cpu(seed: int):
    """Seed the CPU generator only: torch.manual_seed also queues seeds for CUDA, MTIA and
    XPU, formatting a traceback each time (about 1 ms per call, measured)."""
    return torch.random.default_generator.manual_seed(int(seed))


def output_gradient(output: torch.Tensor, grad_output):
    """The gradient backward() starts from: 1 for scalars, else what the request chose."""
    if output.numel() == 1 and grad_output is None:
        return None
    if grad_output is None:
        raise runtime(explain_torch_error(RuntimeError(
            "grad can be implicitly created only for scalar outputs")))
    if grad_output == "ones":
        return torch.ones_like(output)
    if not _is_numeric(grad_output):
        raise bad_input('grad_output must be "ones" or a list of numbers of the output\'s shape.')
    gradient = torch.tensor(grad_output, dtype=output.dtype)
    if gradient.shape != output.shape:
        raise bad_input(f"grad_output has shape {list(gradient.shape)}, but the output has "
                        f"shape {list(output.shape)}.")
    return gradient


def differentiate(evaluation: Evaluation, grad_output, before=None) -> None:
    """Run backward() from the output unless the program already ran its own."""
    output = evaluation.output
    if evaluation.interpreter.ran_backward:
        return
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        return
    gradient = output_gradient(output, grad_output)
    if before is not None:
        before(output)
    try:
        output.backward(gradient, retain_graph=True)
    except RuntimeError as exc:
        raise runtime(explain_torch_error(exc)) from None


def find_leaves(evaluation: Evaluation) -> dict:
    """Leaves by name: the inputs, then tensors the program created with requires_grad."""
    leaves: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, tensor in [*evaluation.input_tensors.items(), *evaluation.interpreter.named]:
        if tensor.is_leaf and tensor.requires_grad and id(tensor) not in seen \
                and name not in leaves:
            leaves[name] = tensor
            seen.add(id(tensor))
    return leaves


def trace_program(source: str, inputs: dict, grad_output, limits: Limits):
    """Run, differentiate and trace; returns the live Evaluation and the JSON trace."""
    tracer = GraphTracer()
    evaluation = run_program(source, inputs, limits, observer=tracer)
    differentiate(evaluation, grad_output, before=tracer.before_backward)
    leaves = find_leaves(evaluation)
    result = summarize(evaluation, leaves, limits)
    result.update(build_trace(tracer, evaluation.output, leaves, evaluation.inputs))
    add_lesson(result, seeded=grad_output is not None, source=source)  # names, tape, explain (issue 15)
    return evaluation, result


def trace_values(source: str, inputs: dict, grad_output, limits: Limits) -> dict:
    """The whole of POST /api/trace as JSON data: output, leaves and the graph."""
    return trace_program(source, inputs, grad_output, limits)[1]


def summarize(evaluation: Evaluation, leaves: dict, limits: Limits) -> dict:
    described = {}
    for name, tensor in leaves.items():
        entry = describe(tensor, limits.max_json_elements)
        grad = tensor.grad
        entry["grad"] = None if grad is None else describe(grad, limits.max_json_elements)["value"]
        described[name] = entry
    return {
        "inputs": evaluation.inputs,
        "output": describe(evaluation.output, limits.max_json_elements),
        "leaves": described,
        "prints": evaluation.interpreter.prints,
    }
