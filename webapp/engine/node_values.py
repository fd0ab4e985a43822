"""How tensors become a trace node's and edge's numbers: the numbers (or None when too
large), the shape, a summary of what is too large to list, a constant's label, and the
numbers a folded graph converts only for what it shows (`Unconverted`).
"""
from __future__ import annotations

import torch

from ..formatting import format_number
from ..limits import MAX_NODE_ELEMENTS
from ..model import ABSENT, Edge, Graph, Node, Summary
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


def fill_edge(edge: Edge, link) -> None:
    """An edge's numbers from its link (tracing.Link): what it carried, its local derivative
    and whether that is ∂out/∂in or a vector-Jacobian product (`local_kind`, `vjp`)."""
    edge.grad = compact(link.grad)
    local = link.locals.at(link.index)
    edge.local_grad = compact(local)
    if local is not None:
        edge.local_kind = link.locals.kind(local)
        edge.vjp = edge.local_kind == "vjp"


class Unconverted:
    """Numbers of a graph that will be folded, kept as PyTorch made them until folding has
    said which nodes and edges are shown: folding drops most nodes of a long loop (their
    conversion was a tenth of its trace), and an edge's local derivative runs its node's
    backward once more (when the pass retained the graph). Snapshots never change.

    The builder's side table, never part of the data: the nodes and edges it names hold
    null numbers until `convert` fills those the folded graph kept."""

    __slots__ = ("nodes", "edges")

    def __init__(self):
        self.nodes: list = []  # (Node, value, grad) as snapshotted
        self.edges: list = []  # (Edge, tracing.Link)

    def convert(self, graph: Graph) -> None:
        """Fill the numbers of every node and edge `graph` shows, and of the repetitions its
        folded edges quote (a carried edge's source value, an entry edge's target gradient)."""
        raw = {node.id: (value, grad) for node, value, grad in self.nodes}
        for node in graph.nodes:
            numbers = raw.get(node.id)
            if numbers is not None:
                node.value, node.grad = compact(numbers[0]), compact(numbers[1])
        shown = {id(edge) for edge in graph.edges}  # the edges are alive here: ids are unique
        for edge, link in self.edges:
            if id(edge) in shown:
                fill_edge(edge, link)
        boxes = {node.id: node for node in graph.nodes if node.folded is not ABSENT}
        for edge in graph.edges:
            if edge.carried is True:  # members[k - 1] is the real node of repetition k
                real = raw.get(boxes[edge.source].folded.members[edge.source_repetition - 1])
                if real is not None:
                    edge.source_value = compact(real[0])
            elif edge.entry is True:  # the first repetition's gradient
                real = raw.get(boxes[edge.target].folded.members[0])
                if real is not None:
                    edge.target_grad = compact(real[1])


def shape_of(value) -> list:
    return list(value.shape) if isinstance(value, (torch.Tensor, Large)) else []


def add_summaries(node: Node, value, grad) -> None:
    """Min, max and mean for a value or gradient too large to list."""
    for key, tensor in (("summary", value), ("grad_summary", grad)):
        if isinstance(tensor, Large):
            setattr(node, key, Summary(**tensor.summary))
        elif isinstance(tensor, torch.Tensor) and tensor.numel() > MAX_NODE_ELEMENTS:
            setattr(node, key, Summary(**describe(tensor, 0)["summary"]))


def constant_label(value) -> str:
    """An unnamed constant: its number, or `tensor [2×3]` (its shape in brackets, as every
    sentence writes shapes: `tensor 2` read as the number 2)."""
    if isinstance(value, torch.Tensor) and not isinstance(value, Large) and value.numel() == 1:
        return format_number(value.item())
    if isinstance(value, (Large, torch.Tensor)):  # too large to copy: its shape says what it is
        return "tensor [" + "×".join(str(s) for s in value.shape) + "]"
    return format_number(value)
