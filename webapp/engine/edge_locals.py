"""An edge's local derivative: the node's backward applied to ones, else what it sent ÷
what arrived; and whether that number is ∂out/∂in elementwise or a vector-Jacobian product.
"""
from __future__ import annotations


class Locals:
    """A node's local derivatives, one per input edge: its backward applied to ones
    (tracer.local_of), else contribution ÷ upstream; asked for once."""

    __slots__ = ("tracer", "fn", "upstream", "contributions", "pointwise", "found")

    def __init__(self, tracer, fn, upstream, contributions, pointwise):
        self.tracer, self.fn, self.upstream = tracer, fn, upstream
        self.contributions, self.pointwise, self.found = contributions, pointwise, False

    def at(self, index):
        if self.found is False:
            self.found = self.tracer.local_of(self.fn) or _ratio(self.upstream, self.contributions)
        found = self.found
        return found[index] if found and index < len(found) else None

    def kind(self, local) -> str:
        return _local_kind(self.pointwise, self.upstream, local)


def _ratio(upstream, contributions):
    """contribution ÷ upstream: the local derivative when the upstream gradient is a scalar."""
    if upstream is None or len(upstream) != 1 or upstream[0] is None or contributions is None \
            or upstream[0].numel() != 1 or upstream[0].item() == 0:
        return None
    scale = upstream[0].item()
    return tuple(None if c is None else c / scale for c in contributions)


def _local_kind(pointwise, upstream, local) -> str:
    """"derivative" when the edge's number is ∂out/∂in elementwise; "vjp" when it is the
    node's vector-Jacobian product with ones (matmul, sums, broadcasting)."""
    grads = [g for g in upstream or () if g is not None]
    if len(upstream or ()) != 1 or not grads:
        return "vjp"
    if grads[0].numel() == 1 and local.numel() == 1:
        return "derivative"
    return "derivative" if pointwise and grads[0].shape == local.shape else "vjp"
