"""Typing slips get a hint a student can act on (review3: `sni(x)`, PyTorch's in-place
error cut mid-word)."""
from __future__ import annotations

import re

import pytest
import torch

from webapp.engine.jobs import handle
from webapp.language.calls import explain_torch_error


def message(source: str) -> str:
    return handle({"kind": "trace", "source": source, "inputs": {"x": 1.0}})["error"]["message"]


@pytest.mark.parametrize("typed, hint", [
    ("sni(x)", "Did you mean `sin()`?"),
    ("Sin(x)", "Did you mean `sin()`?"),
    ("sigmod(x)", "Did you mean `sigmoid()`?"),
    ("rnage(3)", "Did you mean `range()`?"),
    ("def fun(a):\n    return a * 2\nfnu(x)", "Did you mean `fun()`?"),  # the program's own
    ("torch.tanhh(x)", "Did you mean `torch.tanh`?"),
    ("math.sine(x)", "Did you mean `math.sin`?"),
    ("x.backwrd()", "Did you mean `.backward`?"),
    ("ln(x)", "Did you mean `log()`? (the natural logarithm is `log`)"),  # not `len()`
    ("torch.arctan(x)", "Did you mean `torch.atan`?"),
    # not `.zero_`, which would zero the tensor itself (review4)
    ("x.zero_grad()", "`.zero_grad()` belongs to an optimizer or a model; for a tensor's "
                      "gradient write `x.grad.zero_()`."),
])
def test_a_near_miss_names_what_was_meant(typed, hint):
    """Mutations seen failing: drop the same-letters rule in did_you_mean (`sni` and `fnu`
    get nothing); drop the program's own `def` names (`fnu`); empty MEANT (`ln` → `len()`,
    `zero_grad` → `.zero_`)."""
    assert message(typed).endswith(hint)


@pytest.mark.parametrize("typed", ["type(x)", "open('f')", "foo(x)", "breakpoint()", "vars()"])
def test_a_name_far_from_any_gets_no_guess(typed):
    """Mutation seen failing: cut-off 0.6 in did_you_mean (`type` → `tuple()`)."""
    assert "Did you mean" not in message(typed)


def _pytorch_in_place_error() -> str:
    x = torch.tensor(1.0, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as raised:
        y.backward()
    return str(raised.value)


def test_the_in_place_error_says_what_happened_and_what_to_write():
    """Oracle: PyTorch's own error for the same program, read here for the op and versions.

    Mutation seen failing: drop the `_changed_in_place` branch (PyTorch's text, cut at 300
    characters in the middle of `torch.autograd`)."""
    theirs = _pytorch_in_place_error()
    op = re.search(r"output 0 of (\w+),", theirs).group(1)
    now, then = re.search(r"is at version (\d+); expected version (\d+)", theirs).groups()
    ours = message("y = x.exp()\ny.add_(1)\ny.backward()\nx.grad")
    assert f"the result of {op} as it was computed" in ours
    assert f"saved it at version {then}; it is now at version {now}" in ours
    assert "`y = y + 1` rather than `y.add_(1)`" in ours and ours.endswith(".")


def test_a_long_pytorch_message_is_cut_at_a_word():
    """Mutation seen failing: cut at 297 characters again (mid-word)."""
    text = explain_torch_error(RuntimeError("gradient " * 60))
    assert text.endswith(" …") and len(text) <= 300
    assert set(text.removesuffix(" …").split(" ")) == {"Gradient", "gradient"}
