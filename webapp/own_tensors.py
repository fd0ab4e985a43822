"""Your own tensors, drawn in this process (trusted, no interpreter): `recording`, `graph_of`.

The notebook path of python_api.py, apart because it imports torch: `chainrule render` and
`webapp.graph(text)` run their text in a worker and need no torch here.
"""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

from .deep_graphs import raise_stack_limit
from .engine.tracing import KEY, GraphBuilder, GraphTracer, walk
from .python_api import Graph


class recording(TorchFunctionMode):
    """Record every intermediate value while your own code runs, for `graph_of`.

        with webapp.recording():
            loss = model(x)
        webapp.graph_of(loss)
    """

    def __init__(self):
        super().__init__()
        self.sequence = 0

    def __enter__(self):
        raise_stack_limit()  # the stamped graph is freed later, by recursion (deep_graphs)
        return super().__enter__()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        outputs = result if isinstance(result, tuple) else (result,)
        for output in outputs:
            fn = getattr(output, "grad_fn", None) if isinstance(output, torch.Tensor) else None
            if fn is not None and KEY not in fn.metadata:
                self.sequence += 1
                fn.metadata[KEY] = {"seq": self.sequence, "value": output.detach(), "name": None,
                                    "origin": None, "line": None, "col": None, "constants": []}
        return result


def graph_of(tensor: torch.Tensor, params: dict | None = None) -> "Graph":
    """Draw a tensor you computed in your own PyTorch code (trusted; no interpreter).

    Leaves are named from `params` ({"w1": w1}); gradients come from a backward pass
    on a retained graph with `torch.autograd.grad`, so your tensors' `.grad` are left
    as they were. Intermediate values appear when computed under `recording()`.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError("graph_of takes a tensor")
    params = dict(params or {})
    tracer = GraphTracer()
    fns = walk(tensor.grad_fn) if tensor.grad_fn is not None else []
    leaves = [fn.variable for fn in fns if hasattr(fn, "variable")]
    names = {id(t): name for name, t in params.items()}
    named_leaves = {}
    for index, leaf in enumerate(leaves):
        named_leaves[names.get(id(leaf), f"leaf{index + 1}")] = leaf
        tracer.leaf_order[id(leaf)] = (index, leaf)
    if tensor.requires_grad and tensor.grad_fn is not None:
        tracer.before_backward(tensor)
        gradient = torch.ones_like(tensor)
        grads = torch.autograd.grad(tensor, leaves, gradient, retain_graph=True, allow_unused=True)
        for handle_ in tracer.hooks:
            handle_.remove()
        graph = GraphBuilder(tracer, tensor, named_leaves, inputs=[]).build()
        grad_of = {id(leaf): grad for leaf, grad in zip(leaves, grads)}
        for node in graph.nodes:  # leaves show the gradient this pass computed
            if node.kind in ("leaf", "input") and node.label in named_leaves:
                grad = grad_of[id(named_leaves[node.label])]
                node.grad = None if grad is None else _json(grad)
    else:
        graph = GraphBuilder(tracer, tensor, named_leaves, inputs=[]).build()
    from .lesson.steps import trace_steps  # a graph made here, not in a worker: its steps too
    result = {**graph.to_json(), "output": {"value": _json(tensor), "shape": list(tensor.shape)},
              "steps": [step.to_json() for step in trace_steps(graph)]}
    return Graph(result)


def _json(tensor):
    from .engine.jsonvalues import describe
    return describe(tensor.detach(), 1000)["value"]
