"""Forward mode: every tangent chainrule shows is PyTorch's forward-mode AD, checked against
`torch.func.jvp` of the same function in plain torch, in a random direction per row."""
from __future__ import annotations

import random

import pytest
import torch

from webapp.errors import ChainruleError
from webapp.engine.evaluation import trace_values

from .graph_table import TABLE

ROWS = [row for row in TABLE if callable(row[3]) and row[2]]


def _direction(name: str, inputs: dict) -> dict:
    """A random direction of each input's shape, the same for the same row."""
    rng = random.Random(name)

    def like(value):
        return [like(v) for v in value] if isinstance(value, list) else round(rng.uniform(-1, 1), 3)
    return {key: like(value) for key, value in inputs.items()}


@pytest.mark.parametrize("name, source, inputs, plain", ROWS, ids=[row[0] for row in ROWS])
def test_output_tangent_equals_torch_func_jvp(name, source, inputs, plain, limits):
    """Mutation: reading the primal instead of the tangent in recorder._tangent (every row fails);
    seeding the direction only for the first input fails every row with two inputs."""
    direction = _direction(name, inputs)
    primals = tuple(torch.tensor(v, dtype=torch.float32) for v in inputs.values())
    tangents = tuple(torch.tensor(direction[k], dtype=torch.float32) for k in inputs)
    try:
        _, expected = torch.func.jvp(plain, primals, tangents)
    except RuntimeError as error:  # e.g. data-dependent control flow under functorch
        pytest.skip(f"torch.func.jvp cannot run this plain function: {error}"[:200])
    try:
        trace = trace_values(source, inputs, None, limits, tangent=direction)
    except ChainruleError as error:
        pytest.fail(f"forward mode refused {name}: {error.message}")
    got = torch.tensor(trace["output"]["tangent"], dtype=torch.float64)
    assert torch.allclose(got, expected.double(), rtol=1e-4, atol=1e-5), (got, expected)
    for node in trace["nodes"]:
        assert "tangent" in node  # every node carries one (None for constants)
