"""Issue 28, rule 2: the first backward step names what backward() started with, as it is:
1, ones, or the tensor the program or grad_output gave. The seed is PyTorch's (the output's
gradient, run here in plain PyTorch); the words are the rule's."""
from __future__ import annotations

import pytest
import torch

from tests import seeds
from webapp.formatting import format_value

VECTOR = "y = x * x"
CONTROL_FLOW_SEEDED = seeds.SEED003_CONTROL_FLOW.replace("d.sum()", "d.backward(d.detach())\nd")


def first_backward_step(client, source, grad_output=None, **inputs):
    body = {"source": source, "inputs": inputs}
    if grad_output is not None:
        body["grad_output"] = grad_output
    answer = client.post("/api/trace", json=body)
    assert answer.status_code == 200, answer.json
    trace = answer.json
    return trace["explain"]["backward"][trace["backward"][0]]


def torch_seed(source, grad_output=None, **inputs):
    """The gradient PyTorch's backward started from, as chainrule formats a value."""
    scope = {"torch": torch, **{k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}}
    captured = {}
    original = torch.Tensor.backward

    def backward(self, gradient=None, *args, **kwargs):  # the program's own call, observed
        captured["seed"] = torch.ones_like(self) if gradient is None else gradient
        return original(self, gradient, *args, **kwargs)

    torch.Tensor.backward = backward
    try:
        exec(source, scope)  # noqa: S102 — the table's own programs, plain PyTorch
    finally:
        torch.Tensor.backward = original
    seed = captured.get("seed")
    if seed is None:  # chainrule's own pass: grad_output, or 1 for a scalar
        seed = torch.ones(()) if grad_output is None else (
            torch.ones(2) if grad_output == "ones" else torch.tensor(grad_output, dtype=torch.float32))
    value = seed.detach().tolist()
    return format_value(value, list(seed.shape))


TABLE = [  # (source, grad_output, inputs, the words the step must use, words it must not)
    ("y = (x * x).sum()\ny", None, {"x": [1.0, 2.0]}, "backward starts at the output with 1", None),
    ("x2 = torch.tensor([1., 2.], requires_grad=True)\ny = x2 * x2\ny.backward(torch.tensor([3., 5.]))\ny",
     None, {}, "with the gradient the program gave backward()", "with 1"),
    (VECTOR, [2.0, -1.0], {"x": [1.0, 2.0]}, "with the grad_output given", "with 1"),
    (VECTOR, "ones", {"x": [1.0, 2.0]}, "with ones, one per entry (the grad_output given)", None),
    (CONTROL_FLOW_SEEDED, None, {"a": [0.5, -1.0]}, "with the gradient the program gave backward()",
     "with 1"),
]


@pytest.mark.parametrize("source, grad_output, inputs, words, never", TABLE)
def test_the_first_backward_step_states_the_seed_as_it_is(client, source, grad_output, inputs, words, never):
    """Mutations: seed_words in explain.py returns "1" (the false sentence of the issue:
    `∂y/∂y = [2] (3, 5): backward starts at the output with 1`); the seed always written
    ∂y/∂y (of a tensor that is the identity, not the seed: it is ȳ)."""
    step = first_backward_step(client, source, grad_output, **inputs)
    seed = torch_seed(source, grad_output, **inputs)
    named, said = step.split(":")[0].split(" = ")
    assert said == seed  # PyTorch's seed
    assert named.startswith("∂") == (seed == "1")  # ∂y/∂y = 1 of a number, else ȳ = the seed
    assert words in step
    if never:
        assert never not in step
