"""Evaluate a program with real tensors and differentiate its output (runs in a worker)."""
from __future__ import annotations

from dataclasses import dataclass

import contextlib
import threading

import torch
import torch.autograd.forward_ad as forward_ad

from ..errors import bad_input, runtime
from ..language.calls import explain_torch_error
from ..language.interpreter import Interpreter
from ..sandbox.cpython.runner import CPythonRunner
from ..language.frontend import current_language, install_helpers, parse_source
from ..lesson.annotate import add_lesson, add_names
from ..lesson.steps import trace_steps
from ..limits import Limits
from ..model import ABSENT, Graph, Trace
from .results import (describe_leaf, describe_modules, describe_output, describe_prints,
                      describe_result, describe_updates)
from .recorder import KEY, close_later
from ..lesson import folding
from ..limits import MAX_DRAWN_NODES, MAX_FOLDED_NODES, MAX_GRAPH_NODES
from ..drawing.layout_cost import estimate as layout_cost
from .node_values import compact
from .tracing import GraphBuilder, GraphTracer

RANDOM_SEED = 0  # the same source gives the same random numbers


@dataclass
class Evaluation:
    """Everything one run produced, still as live tensors (for tracing and plotting)."""

    inputs: list[str]
    input_tensors: dict
    output: object
    interpreter: Interpreter
    extra_pass: bool = False  # chainrule ran the pass shown, after the program's own
    directions: dict | None = None  # forward mode: each input's direction (a tensor), by name


def make_input(name: str, value, limits: Limits) -> torch.Tensor:
    """A float32 leaf requiring grad from a number or nested list given in a request."""
    if isinstance(value, bool) or not _is_numeric(value):
        raise bad_input(f"The value of {name} must be a number or a list of numbers.", input_name=name)
    try:
        tensor = torch.tensor(value, dtype=torch.float32)
    except (ValueError, TypeError, RuntimeError):
        raise bad_input(f"The value of {name} must be a number or a rectangular list of numbers.",
                        input_name=name) from None
    if tensor.numel() > limits.max_tensor_elements:
        raise bad_input(f"The value of {name} has more than {limits.max_tensor_elements:,} numbers.",
                        input_name=name)
    return tensor.requires_grad_(True)


def _is_numeric(value, depth: int = 0) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if isinstance(value, list) and depth < 8:
        return all(_is_numeric(v, depth + 1) for v in value)
    return False


def run_program(source: str, inputs: dict, limits: Limits, observer=None,
                reuse_inputs: bool = False, tangent: dict | None = None) -> Evaluation:
    """Parse and run the program with its inputs; no backward pass yet.

    With `reuse_inputs`, the inputs are leaf tensors already (gradient descent keeps
    updating the same ones). An observer with `__enter__` (the tracer) is active while the
    program runs. With `tangent`, the inputs are dual tensors of forward-mode AD.
    """
    program = parse_source(source, limits)  # Python, or R translated (frontend.py)
    missing = [name for name in program.inputs if name not in inputs]
    if missing:
        raise bad_input(f"Give a value for {', '.join(missing)}.")
    tensors = {name: inputs[name] if reuse_inputs else make_input(name, inputs[name], limits)
               for name in program.inputs}
    seed_cpu(RANDOM_SEED)
    if getattr(program, "engine", None) == "cpython":
        interpreter = CPythonRunner(limits, observer=observer, loops=program.loops)
    else:
        interpreter = Interpreter(limits, observer=observer)
        install_helpers(program, interpreter)
    if observer is not None and hasattr(observer, "where"):
        # CPython also says which named module's forward is running (the drawing's boxes).
        observer.where = getattr(interpreter, "where_and_module", interpreter.where)
    directions = None
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.enable_grad())
        if tangent is not None:
            stack.enter_context(forward_ad.dual_level())
            tensors, directions = dual_inputs(tensors, tangent, limits)
        if hasattr(observer, "__enter__"):
            stack.enter_context(observer)
        output = interpreter.run(program.tree, tensors)
    return Evaluation(program.inputs, tensors, output, interpreter, directions=directions)


def dual_inputs(tensors: dict, tangent: dict, limits: Limits) -> tuple[dict, dict]:
    """Each input as a leaf dual tensor: its value, and its direction (missing: 0); and the
    directions by input name."""
    if not isinstance(tangent, dict):
        raise bad_input("tangent must be an object of input names and directions.")
    unknown = [name for name in tangent if name not in tensors]
    if unknown:
        raise bad_input(f"tangent names {', '.join(map(str, unknown))}, which is not an input.")
    duals, directions = {}, {}
    for name, tensor in tensors.items():
        direction = make_input(f"the tangent of {name}", tangent.get(name, 0), limits).detach()
        if direction.shape != tensor.shape:
            if direction.numel() != 1:
                raise bad_input(f"The tangent of {name} must have the shape {list(tensor.shape)}.")
            direction = direction.expand(tensor.shape).clone()
        if not torch.isfinite(direction).all():
            raise bad_input(f"The tangent of {name} must be finite numbers.")
        duals[name] = forward_ad.make_dual(tensor.detach(), direction).requires_grad_(True)
        directions[name] = direction
    return duals, directions


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


@contextlib.contextmanager
def graphs_kept():
    """While chainrule runs a program for its own derivatives (a plot, the gradient check),
    the program's backward() and autograd.grad keep their graphs: chainrule's pass comes
    after the program's, and a course cell's `loss.backward()` had freed what it needs
    ("backward through the graph a second time" reached the page as a 500). Keeping a graph
    changes no value and no gradient; a job's child exits after. One at a time in a process
    (a trusted notebook's threads): interleaved, one would restore the other's wrapper and
    leave every later pass retaining its graph."""
    def kept_backward(tensors, grad_tensors=None, retain_graph=None, *args, **kwargs):
        return backward(tensors, grad_tensors, True if retain_graph is None else retain_graph, *args, **kwargs)

    def kept_grad(outputs, inputs, grad_outputs=None, retain_graph=None, *args, **kwargs):
        return grad(outputs, inputs, grad_outputs, True if retain_graph is None else retain_graph, *args, **kwargs)

    with _KEEPING:
        backward, grad = torch.autograd.backward, torch.autograd.grad  # what the wrappers call
        torch.autograd.backward, torch.autograd.grad = kept_backward, kept_grad
        try:
            yield
        finally:
            torch.autograd.backward, torch.autograd.grad = backward, grad


_KEEPING = threading.RLock()


def differentiate(evaluation: Evaluation, grad_output, before=None, pass_start=None) -> None:
    """Run backward() from the output unless the program's own pass already covers it.

    The program's last pass is shown unless the output was computed after that pass began:
    after it returned (`y.backward(); z = y * 2; z`), or by it (`dy` of
    `torch.autograd.grad(y, x, create_graph=True)`, whose graph is the backward ops PyTorch
    recorded). Such an output gets chainrule's own pass, as API.md says. A leaf (`x` after a
    descent loop) or `x1.grad` keeps the program's pass.
    """
    output = evaluation.output
    if evaluation.interpreter.ran_backward and not _computed_after(output, pass_start):
        return
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        return
    gradient = output_gradient(output, grad_output)
    # After the program's own backward(), chainrule's pass is shown but must not add to the
    # leaves' .grad: the page shows .grad as the program left it (PyTorch's number).
    kept = _grads(find_leaves(evaluation)) if evaluation.interpreter.ran_backward else None
    if before is not None:
        before(output)
    try:
        output.backward(gradient, retain_graph=True)
    except RuntimeError as exc:
        raise runtime(explain_torch_error(exc)) from None
    finally:
        if kept is not None:
            evaluation.extra_pass = True
            for leaf, grad in kept:
                leaf.grad = grad


def _grads(leaves: dict) -> list:
    """Each leaf with a copy of its .grad (AccumulateGrad may add in place)."""
    with torch.no_grad():
        return [(leaf, None if leaf.grad is None else leaf.grad.detach().clone())
                for leaf in leaves.values()]


def _computed_after(output, pass_start) -> bool:
    if pass_start is None or not isinstance(output, torch.Tensor) or output.grad_fn is None:
        return False
    record = output.grad_fn.metadata.get(KEY)
    return record is not None and record.get("seq", 0) > pass_start


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


def trace_program(source: str, inputs: dict, grad_output, limits: Limits, tangent=None, fold=None,
                  lesson: bool = True, of_pass: bool = False):
    """Run, differentiate and trace; returns the live Evaluation and the `Trace` (model.py),
    which becomes JSON once, where the job answers (jobs.job_trace).

    Five steps: `run_and_record` (the program and the pass shown), `folded_graph` (the graph
    built; with `fold`, folding.wanted, repeated structure folded), `add_tangents` (forward
    mode, with `tangent`), the lesson (`add_teaching`; without `lesson`, the nodes' names
    only: an image shows no explanations), and the steps. With `of_pass`, a program that
    ran backward() itself shows that pass's graph even when its output was made by or after
    it (f's graph, beside a create_graph gradient's).

    The tracer's hooks and references are dropped when this returns, whatever happens (in a
    worker, once the answer is written: recorder.close_later).
    """
    foldable = folding.wanted(fold, MAX_GRAPH_NODES + 1)  # larger graphs, numbers of what is shown
    tracer = GraphTracer(tangents=tangent is not None)
    tracer.max_nodes = MAX_FOLDED_NODES if foldable else MAX_GRAPH_NODES
    evaluation = None
    try:
        evaluation = run_and_record(source, inputs, grad_output, limits, tracer, tangent, of_pass)
        # From here on only chainrule reads tensors that exist (copies, JSON): the allocation
        # guard's sizing of each such call was about half of a small trace's time (profiled).
        with torch._C.DisableTorchFunction():
            leaves = find_leaves(evaluation)
            builder = GraphBuilder(tracer, evaluation.output, leaves, evaluation.inputs,
                                   tracer.max_nodes, deferred=foldable)
            graph = folded_graph(builder, fold)
            trace = Trace(**summarize(evaluation, leaves, limits, builder.delivered), **graph.parts())
            if evaluation.extra_pass:  # the lesson says whose pass it shows
                trace.extra_pass = True
            if tangent is not None:
                add_tangents(trace, evaluation.directions)
            add_teaching(trace, lesson, seeded=grad_output is not None, source=source)
            trace.steps = trace_steps(trace)  # the animation's steps, built here only
        return evaluation, trace
    finally:
        close_later(tracer, graph_of=[evaluation.output] if evaluation is not None else [])


def run_and_record(source: str, inputs: dict, grad_output, limits: Limits, tracer: GraphTracer,
                   tangent, of_pass: bool) -> Evaluation:
    """Run the program under the tracer, then chainrule's own pass when the program's does
    not cover its output (differentiate), unless `of_pass` asks for the program's pass."""
    evaluation = run_program(source, inputs, limits, observer=tracer, tangent=tangent)
    if not (of_pass and evaluation.interpreter.ran_backward):
        differentiate(evaluation, grad_output,  # its backward retains the graph
                      before=lambda roots: tracer.before_backward(roots, retained=True),
                      pass_start=tracer.pass_start)
    return evaluation


def folded_graph(builder: GraphBuilder, fold) -> Graph:
    """The graph built, folded as the request's `fold` asks, its numbers converted for what
    it shows (builder.unconverted)."""
    graph = builder.build()
    if fold == "auto":
        # Past MAX_DRAWN_NODES nothing is drawn unfolded: no need to know what it would cost.
        cost = layout_cost(_layout_view(graph)) if len(graph.nodes) <= MAX_DRAWN_NODES else None
        graph = folding.fold_auto(graph, cost)
        if graph.fold is not ABSENT and cost is not None:
            graph.fold.layout_cost = cost  # unfolded: whether the page offers Unfold
    elif folding.wanted(fold, len(graph.nodes)):
        graph = folding.fold(graph)
    if builder.unconverted is not None:
        builder.unconverted.convert(graph)
    return graph


def _layout_view(graph: Graph) -> dict:
    """What drawing/layout_cost.estimate reads of an unfolded graph (ids, kinds, arrows,
    forward order), without converting its numbers."""
    return {"nodes": [{"id": node.id, "kind": node.kind} for node in graph.nodes],
            "edges": [{"source": edge.source, "target": edge.target} for edge in graph.edges],
            "forward": graph.forward}


def add_tangents(trace: Trace, directions: dict) -> None:
    """Forward mode's numbers: an input's is the direction the request gave it (also when the
    input is the output itself); constants and leaves the program made have none; an op's
    was recorded with it; the output's is its node's."""
    for node in trace.nodes:
        if node.op is None and node.kind in ("input", "output") and node.label in directions:
            node.tangent = compact(directions[node.label])
        elif node.tangent is ABSENT:
            node.tangent = None
    output = next((node for node in trace.nodes if node.kind == "output"), None)
    trace.output.tangent = None if output is None else output.tangent


def add_teaching(trace: Trace, lesson: bool, seeded: bool, source: str) -> None:
    """The lesson (names, tape, explanations, guards), or the nodes' names only (in place)."""
    if lesson:
        add_lesson(trace, seeded=seeded, source=source, language=current_language())
    else:
        add_names(trace)


def trace_values(source: str, inputs: dict, grad_output, limits: Limits, tangent=None,
                 fold=None, lesson: bool = True, of_pass: bool = False) -> dict:
    """The whole of POST /api/trace as JSON data: output, leaves, the graph and the lesson."""
    return trace_program(source, inputs, grad_output, limits, tangent, fold, lesson, of_pass)[1].to_json()


def summarize(evaluation: Evaluation, leaves: dict, limits: Limits, delivered: dict | None = None) -> dict:
    """A Trace's fields besides the graph: output, leaves (`grad`: what the pass shown
    delivered; `accumulated`: `.grad` at the end), the program's last value, its prints,
    modules and optimizer steps."""
    delivered = delivered or {}
    interpreter = evaluation.interpreter
    return {
        "inputs": evaluation.inputs,
        "output": describe_output(evaluation.output, limits),
        "leaves": {name: describe_leaf(tensor, delivered.get(id(tensor)), limits)
                   for name, tensor in leaves.items()},
        "prints": describe_prints(interpreter.prints),
        "result": describe_result(interpreter.last_value, interpreter.last_line, limits),
        **describe_modules(interpreter),
        **describe_updates(interpreter),
    }
