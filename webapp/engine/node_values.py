"""How a tensor goes into a trace node: its numbers (or None when too large), its shape, a
summary of what is too large to list, and a constant's label.
"""
from __future__ import annotations

import torch

from ..formatting import format_number
from ..limits import MAX_NODE_ELEMENTS
from .jsonvalues import describe, number, tensor_value
from .snapshots import Large


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compact(value, max_elements: int = MAX_NODE_ELEMENTS):
    """JSON for a node's value or gradient: the numbers, or None when too large."""
    if value is None or isinstance(value, Large):
        return None
    if isinstance(value, torch.Tensor):
        return tensor_value(value, max_elements)  # describe's summary would be thrown away
    if _is_number(value):
        return number(float(value))
    return value


class Later:
    """A node's or edge's number, converted only if it is still shown: folding drops most
    nodes of a long loop (their conversion was a tenth of its trace). Snapshots never change."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class LaterLocal:
    """An edge's local derivative, computed only if the edge is still shown (the node's
    saved tensors outlive a pass that retains the graph): `fill` sets local_grad, local_kind
    and vjp, or drops the last two when there is none, as the builder does."""

    __slots__ = ("locals", "index")

    def __init__(self, locals_, index: int):
        self.locals, self.index = locals_, index  # locals_: edge_locals.Locals

    def fill(self, edge: dict) -> None:
        local = self.locals.at(self.index)
        edge["local_grad"] = compact(local)
        if local is None:
            del edge["local_kind"], edge["vjp"]
        else:
            edge["local_kind"] = self.locals.kind(local)
            edge["vjp"] = edge["local_kind"] == "vjp"


def resolve(graph: dict) -> dict:
    """Every `Later` in the graph's nodes and edges, converted by `compact`."""
    for item in (*graph["nodes"], *graph["edges"]):
        for key in ("value", "grad", "local_grad", "source_value", "target_grad"):  # folding.py's too
            kind = type(item.get(key))
            if kind is Later:
                item[key] = compact(item[key].value)
            elif kind is LaterLocal:
                item[key].fill(item)
    return graph


def _shape(value):
    return list(value.shape) if isinstance(value, (torch.Tensor, Large)) else []


def _add_summaries(node: dict, value, grad) -> None:
    """Min, max and mean for a value or gradient too large to list."""
    for key, tensor in (("summary", value), ("grad_summary", grad)):
        if isinstance(tensor, Large):
            node[key] = tensor.summary
        elif isinstance(tensor, torch.Tensor) and tensor.numel() > MAX_NODE_ELEMENTS:
            node[key] = describe(tensor, 0)["summary"]


def _constant_label(value) -> str:
    if isinstance(value, Large):  # a constant too large to copy: its shape says what it is
        return "tensor " + "×".join(str(s) for s in value.shape)
    if isinstance(value, torch.Tensor):
        if value.numel() == 1:
            return format_number(value.item())
        return "tensor " + "×".join(str(s) for s in value.shape)
    return format_number(value)
