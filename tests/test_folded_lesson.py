"""A folded box is described as its last repetition, and every sentence's arithmetic holds.

Found by a new-user review: the lesson read a folded box's merged edges, so it wrote
`sin(x, y₁…y₂₉)`, `= 0.99 · 0.99 = 0.366` and sums whose terms did not add up. The oracles:
the arithmetic of each sentence itself, and plain PyTorch's own loop for the numbers.
Mutations seen failing: naming.index keeping `entry` edges in `into`; naming._source
returning the box itself (its last value, not the repetition before); naming.repeats
always 1 (the sum of shown terms is written out again).
"""
from __future__ import annotations

import math
import re

import pytest
import torch

LOOPS = {
    "sin": ("y = x\nfor i in range(30):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny", 1.0),
    "linear": ("y = x\nfor i in range(100):\n    y = y * 0.99 + 0.01\ny", 1.0),
    "x in every step": ("y = x\nfor i in range(25):\n    y = y * x + 0.1\ny", 0.9),
}
N = r"\(?[−-]?\d[\d.]*(?:e[+−-]?\d+)?\)?"


def _number(text: str) -> float:
    return float(text.strip("()").replace("−", "-"))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=3e-3, abs_tol=2e-6)  # numbers are shown to 4 digits


def _check_arithmetic(text: str) -> int:
    """Every `= a · b = c`, `= a + b = c`, `sin(a) = b` and written-out sum in the text holds."""
    checked = 0
    for a, b, c in re.findall(rf"= ({N}) · ({N}) = ({N})(?![\d.])", text):
        assert _close(_number(a) * _number(b), _number(c)), text
        checked += 1
    for a, b, c in re.findall(rf"= ({N}) \+ ({N}) = ({N})(?![\d.])", text):
        assert _close(_number(a) + _number(b), _number(c)), text
        checked += 1
    for a, b in re.findall(rf"= sin\(({N})\) = ({N})", text):
        assert _close(math.sin(_number(a)), _number(b)), text
        checked += 1
    for terms, total in re.findall(rf"contributions: ((?:{N}(?: \+ )?)+) = ({N})", text):
        assert _close(sum(_number(t) for t in terms.split(" + ")), _number(total)), text
        checked += 1
    assert not re.search(r"\b(sin|cos)\([^()]*,", text), text  # one argument, never two
    return checked


@pytest.mark.parametrize("loop", list(LOOPS))
def test_every_sentence_about_a_folded_loop_holds(client, loop):
    source, x = LOOPS[loop]
    trace = client.post("/api/trace", json={"source": source, "inputs": {"x": x}, "fold": True}).json
    assert "fold" in trace
    texts = [*trace["explain"]["forward"].values(), *trace["explain"]["backward"].values()]
    texts += [row.get("adjoint_sum") or "" for row in trace["tape"]] + [row["expr"] for row in trace["tape"]]
    assert sum(_check_arithmetic(text) for text in texts) >= 6


def test_a_folded_box_reads_the_repetition_before_its_last():
    """The sin box's last repetition takes y₂₈, plain PyTorch's value after 28 iterations."""
    from webapp.engine.jobs import handle
    trace = handle({"kind": "trace", "source": LOOPS["sin"][0], "inputs": {"x": 1.0}, "fold": True})["ok"]
    box = next(n for n in trace["nodes"] if n.get("folded") and n.get("symbol") == "sin")
    x = torch.tensor(1.0)
    y, values = x, []
    for _ in range(30):
        y = torch.sin(y) * 0.999 + x * 0.001
        values.append(float(y))
    text = trace["explain"]["forward"][box["id"]]
    argument = re.search(rf"= sin\(({N})\)", text).group(1)
    assert "sin(y₂₈)" in text and _close(_number(argument), values[27]), text
    x_sum = next(r["adjoint_sum"] for r in trace["tape"] if r["name"] == "x")
    assert "31 contributions" in x_sum  # 1 into the first sin, 29 through the box, 1 after the loop


def test_folded_boxes_are_named_where_they_first_appear():
    """v1, v2, v3 for the loop body's unnamed values (the first computed in the program), not
    v85 (the box's name counted once per repetition). Mutation: assign_names walking
    trace["forward"] without dict.fromkeys."""
    from webapp.engine.jobs import handle
    trace = handle({"kind": "trace", "source": LOOPS["sin"][0], "inputs": {"x": 1.0}, "fold": True})["ok"]
    assert [n["name"] for n in trace["nodes"]] == [
        "x", "v1", "0.999", "v2", "0.001", "v3", "y₁…y₂₉", "v4", "0.999", "v5", "0.001", "v6", "y₃₀"]
