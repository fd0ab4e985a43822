"""An op's name in the graph and the sentences is the one torch gives it (`aten`), not its
grad_fn's words run together in lower case (`binarycrossentropywithlogits`)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from webapp.engine.tracing import op_symbol

x = torch.tensor([[[[0.2, -0.1], [0.4, 0.3]]]], requires_grad=True)
CASES = [
    (lambda: F.binary_cross_entropy_with_logits(x, torch.ones_like(x)), "binary_cross_entropy_with_logits"),
    (lambda: F.log_softmax(x, dim=-1), "log_softmax"),
    (lambda: F.mse_loss(x, torch.zeros_like(x)), "mse_loss"),
    (lambda: F.leaky_relu(x), "leaky_relu"),
    (lambda: F.max_pool2d(x, 2), "max_pool2d_with_indices"),
    (lambda: x.reshape(2, 1, 2) @ torch.ones(2, 3), "unsafe_view"),  # matmul's reshape back (aten's _unsafe_view)
    (lambda: torch.sin(x), "sin"),
]


@pytest.mark.parametrize("make,name", CASES)
def test_an_ops_name_is_torchs_own(make, name):
    """The oracle is torch itself: the name is an aten op. Mutation: `base.lower()` for
    tracing.aten_name (`binarycrossentropywithlogits`, not an op of aten)."""
    fn = make().grad_fn
    assert op_symbol(fn) == name
    assert hasattr(torch.ops.aten, name) or hasattr(torch.ops.aten, "_" + name)


def test_a_course_loss_reads_as_torch_names_it(client):
    """The path a student takes: the trace's node and its sentence. Mutation: as above."""
    source = ("import torch\nimport torch.nn.functional as F\n"
              "F.binary_cross_entropy_with_logits(x * 2, torch.tensor([1.0, 0.0]))")
    trace = client.post("/api/trace", json={"source": source, "inputs": {"x": [0.5, -1.0]}}).get_json()
    node = next(n for n in trace["nodes"] if n.get("op") == "BinaryCrossEntropyWithLogitsBackward0")
    assert node["symbol"] == "binary_cross_entropy_with_logits"
    assert "binary_cross_entropy_with_logits(" in trace["explain"]["forward"][node["id"]]


def test_matmuls_reshape_back_is_told_as_moving_entries(client):
    """A batched matmul records `_unsafe_view` after it: its gradient is only put back in
    place. Mutation: "unsafeview" in explain.LAYOUT (the old run-together name)."""
    source = "y = x.reshape(2, 1, 2) @ torch.ones(2, 3)\ny.sum()"
    trace = client.post("/api/trace", json={"source": source, "inputs": {"x": [0.5, -1.0, 2.0, 0.25]}}).get_json()
    node = next(n for n in trace["nodes"] if n.get("op") == "UnsafeViewBackward0")
    edge = next(e for e in trace["edges"] if e["target"] == node["id"])
    said = trace["explain"]["backward"][edge["source"]]
    assert "unsafe_view only moves entries" in said, said
