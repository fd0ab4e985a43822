"""PyTorch's own view of a trace: the grad_fn graph as torchviz draws it, as plain data.

Nodes are keyed by the ids tracing.py gave them, so the page can cross from a value
to the grad_fn that computed it.
"""
from __future__ import annotations

import torch

from ..model import AutogradEdge, AutogradNode, AutogradView


def grad_fn_view(fns, roots, node_of) -> AutogradView:
    """Nodes and edges of PyTorch's graph: one per grad_fn, AccumulateGrad per leaf, saved
    tensors of custom Functions, and the output tensors (torchviz's node and edge set)."""
    nodes, edges = [], []
    variables = [(fn.variable, node_of[fn].id) for fn in fns if hasattr(fn, "variable")]
    for fn in fns:
        fn_id = node_of[fn].id
        if hasattr(fn, "variable"):
            nodes.append(AutogradNode(id=fn_id, kind="variable", label=node_of[fn].label,
                                      shape=node_of[fn].shape))
            nodes.append(AutogradNode(id=f"{fn_id}-acc", kind="function", label="AccumulateGrad"))
            edges.append(AutogradEdge(source=fn_id, target=f"{fn_id}-acc"))
            continue
        nodes.append(AutogradNode(id=fn_id, kind="function", label=type(fn).__name__))
        for next_fn, _ in fn.next_functions:
            if next_fn is not None:
                source = node_of[next_fn].id
                if hasattr(next_fn, "variable"):
                    source += "-acc"
                edges.append(AutogradEdge(source=source, target=fn_id))
        for index, tensor in enumerate(_saved_tensors(fn)):
            # A saved leaf is the leaf's own node (torchviz draws one node per object).
            leaf_id = next((node_id for var, node_id in variables if var is tensor), None)
            saved_id = leaf_id or f"{fn_id}-saved{index}"
            if leaf_id is None:
                nodes.append(AutogradNode(id=saved_id, kind="saved", label="saved",
                                          shape=list(tensor.shape)))
            edges.append(AutogradEdge(source=saved_id, target=fn_id))
    for number_, root in enumerate(roots):
        if root.grad_fn is None:
            continue
        out_id = "out" if number_ == 0 else f"out{number_ + 1}"
        root_node = node_of[root.grad_fn]
        nodes.append(AutogradNode(id=out_id, kind="tensor", label=root_node.label,
                                  shape=list(root.shape)))
        edges.append(AutogradEdge(source=root_node.id, target=out_id))
    return AutogradView(nodes=nodes, edges=edges)


def _saved_tensors(fn) -> tuple:
    """Saved tensors of a custom Function's node (torchviz always draws these)."""
    if not isinstance(fn, torch.autograd.function.BackwardCFunction):
        return ()  # a built-in node: torchviz draws its saved tensors only on request
    try:
        saved = fn.saved_tensors
    except RuntimeError:
        return ()  # freed by a backward pass without retain_graph
    return tuple(t for t in saved if isinstance(t, torch.Tensor))
