"""Issue 28, rule 1: arithmetic at every step whatever the shape. A 1-element tensor reads
like a number (its shape said once); a tensor of up to 6 entries shows upstream ⊙ local =
result entry by entry; a larger one keeps the summary and says so. The numbers are plain
PyTorch's, run here; the form is the rule's."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
import torch

from tests import r_seeds
from webapp.formatting import format_number

R_QUADRATIC = r_seeds.SEED001_CREATE + r_seeds.SEED001_NODES + r_seeds.SEED001_BACKWARD


def trace_of(client, source, language=None, **fields):
    body = {"source": source, **fields}
    if language:
        body["language"] = language
    answer = client.post("/api/trace", json=body)
    assert answer.status_code == 200, answer.json
    return answer.json


def by_name(trace):
    return {n["name"]: n for n in trace["nodes"]}


def entries(tensor) -> str:
    return "(" + ", ".join(format_number(v) for v in tensor.detach().flatten().tolist()) + ")"


def test_r_one_element_tensors_read_like_numbers(client):
    """R's torch_tensor(2) has shape [1]: x3's step keeps `1 · 0.2 = 0.2`, its shape is
    said once (at the first such value, x1), no sentence writes `[1] (…)`, R's `x1$grad`
    is R's, and its box reads `4 [1]`. Mutation (said once): `one_element_said` compared
    with nothing, so every forward step says it.
    Mutation: in explain._one_contribution test `not node["shape"]` instead of
    `_numel(node["shape"]) == 1` (the step reads `x3 is [1] … = 0.2` again)."""
    trace = trace_of(client, R_QUADRATIC, language="r")
    # plain PyTorch, shapes [1] as R makes them
    x1 = torch.tensor([2.0], requires_grad=True)
    x3 = x1.square()
    x3.retain_grad()
    x5 = x3 * 0.2
    x7 = x5 + x1.detach().square() * 0.2 - 5
    x7.backward()
    nodes = by_name(trace)
    backward, forward = trace["explain"]["backward"], trace["explain"]["forward"]
    step = backward[nodes["x3"]["id"]]
    assert f"= x̄5 · 0.2\n   = 1 · 0.2 = {format_number(x3.grad.item())}" in step
    assert forward[nodes["x3"]["id"]].endswith(f"= {format_number(x3.item())}")
    assert "x1 is a 1-element tensor [1]" in forward[nodes["x1"]["id"]]  # the first one
    assert "requires_grad = TRUE" in forward[nodes["x1"]["id"]]  # R's words, as x1$grad below
    texts = list(backward.values()) + list(forward.values())
    assert sum(t.count("1-element tensor") for t in texts) == 1  # said once, not per node
    assert not any("[1] (" in t for t in texts)
    assert backward[nodes["x1"]["id"]].endswith(f"x1$grad = {format_number(x1.grad.item())}")  # R's words
    svg = client.get("/graph.svg?language=r&f=" + quote(R_QUADRATIC)).data.decode()
    assert ">4 [1]<" in svg and "[1] (" not in svg  # the box of x3


def test_the_box_of_a_one_element_tensor_reads_as_a_number():
    """format_value writes `4 [1]`, never `[1] (4)`: the drawing and the table use it.
    Mutation: drop the `len(flat) == 1` branch of formatting.format_value."""
    from webapp.formatting import format_value
    assert format_value([4.0], [1]) == "4 [1]"
    assert format_value([[0.8]], [1, 1]) == "0.8 [1×1]"
    assert format_value([1.0, 2.0], [2]) == "[2] (1, 2)"


SMALL = [  # (program, leaf names, what the step multiplies): up to 6 entries, entry by entry
    ("x = torch.tensor([1., 2.], requires_grad=True)\nw = torch.tensor([3., 4.], requires_grad=True)\n"
     "y = (x * w).sum()", ["x", "w"]),
    ("x = torch.tensor([0.5, -1., 2.], requires_grad=True)\ny = torch.sin(x).sum()", ["x"]),
    ("x = torch.tensor([[1., -2., 3.], [4., 5., -6.]], requires_grad=True)\ny = (x * x * 0.5).sum()", ["x"]),
    ("x = torch.tensor([1., 2.], requires_grad=True)\ny = x * 3\ny.backward(torch.tensor([3., 5.]))\ny",
     ["x"]),
]


@pytest.mark.parametrize("source, leaves", SMALL)
def test_a_small_tensor_step_shows_upstream_times_local_entry_by_entry(client, source, leaves):
    """Each leaf's step ends with `upstream (…) ⊙ local (…) = (…)`, entries being PyTorch's:
    the gradient arriving, ∂out/∂in, and their product, the leaf's .grad.
    Mutation: WHOLE_STEP = 1 in explain.py (the step says only `x is [2] = [2] (3, 4)`)."""
    trace = trace_of(client, source)
    nodes = by_name(trace)
    scope = {"torch": torch}
    exec(source, scope)  # noqa: S102 — the test's own program, plain PyTorch
    y = scope["y"]
    if scope[leaves[0]].grad is None:
        y.backward()
    for name in leaves:
        leaf = scope[name]
        step = trace["explain"]["backward"][nodes[name]["id"]]
        lines = [l for l in step.split("\n") if "⊙ local" in l]  # one per use of the leaf
        assert lines
        results = []
        for line in lines:
            up, local, result = (numbers(g) for g in re.fullmatch(
                r"   = upstream (\(.*?\)) ⊙ local (\(.*?\)) [=≈] (\(.*?\))", line).groups())
            assert torch.allclose(up * local, result, rtol=1e-3)  # upstream ⊙ local = result
            results.append(result)
        # the contributions add up to PyTorch's .grad
        assert torch.allclose(sum(results), leaf.grad.flatten(), rtol=1e-3)
        if len(lines) == 1:
            assert line.endswith(entries(leaf.grad))


def numbers(text: str) -> torch.Tensor:
    return torch.tensor([float(v.replace("−", "-")) for v in text.strip("()").split(", ")])


def test_the_example_of_the_issue_reads_as_written(client):
    """`(x * w).sum()`, x = [1, 2], w = [3, 4]: x's step shows (1, 1) ⊙ (3, 4) = (3, 4).
    Mutation: swap `up` and `lo` in explain._one_contribution's entrywise line."""
    trace = trace_of(client, SMALL[0][0])
    step = trace["explain"]["backward"][by_name(trace)["x"]["id"]]
    assert "   = v̄1 ⊙ w\n   = upstream (1, 1) ⊙ local (3, 4) = (3, 4)" in step


def test_a_large_tensor_keeps_its_summary_and_says_so(client):
    """10 entries: the rule and the first entries, with a sentence saying why.
    Mutation: drop the `too many to show one by one` line in explain._one_contribution."""
    trace = trace_of(client, "x = torch.arange(10.0, requires_grad=True)\ny = (x * x).sum()")
    step = trace["explain"]["backward"][by_name(trace)["x"]["id"]]
    x = torch.arange(10.0, requires_grad=True)
    (x * x).sum().backward()
    assert "⊙ local" not in step
    assert "(10 entries: too many to show one by one" in step
    assert f"[10] ({', '.join(format_number(v) for v in x.grad[:3].tolist())}, …)" in step


def test_seven_entries_are_shown_whole_and_the_step_says_why_no_products(client):
    """7 entries: more than a step's 6 products, but few enough that the values are shown
    whole; the step must not claim to show only "the first entries". Mutation: the
    `count > WHOLE` condition dropped from explain._one_contribution."""
    trace = trace_of(client, "x = torch.arange(7.0, requires_grad=True)\ny = (x * x).sum()")
    step = trace["explain"]["backward"][by_name(trace)["x"]["id"]]
    x = torch.arange(7.0, requires_grad=True)
    (x * x).sum().backward()
    assert f"({', '.join(format_number(v) for v in x.grad.tolist())})" in step  # all 7, PyTorch's
    assert "(7 entries: too many to show one by one, more than 6; so the rule and the shapes)" in step


def test_a_small_tensor_forward_step_shows_its_entries(client):
    """Forward too: `v1 = x · w: x [2] , w [2] → [2]` then `= (1, 2) ⊙ (3, 4) = (3, 8)`,
    PyTorch's product; a scalar factor stays `·`. Mutation: _entrywise_forward returns None."""
    trace = trace_of(client, SMALL[0][0])
    x, w = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    forward = trace["explain"]["forward"]
    assert f"x [2] , w [2] → [2]\n   = {entries(x)} ⊙ {entries(w)} = {entries(x * w)}" in "\n".join(forward.values())
    scaled = trace_of(client, "x = torch.tensor([0.5, -1.], requires_grad=True)\ny = (x * 2).sum()")
    assert f"= (0.5, −1) · 2 = {entries(torch.tensor([0.5, -1.0]) * 2)}" in "\n".join(scaled["explain"]["forward"].values())


def test_an_unnamed_constant_tensor_is_named_by_its_shape_in_brackets(client):
    """`x * torch.tensor([1., 2.])`: the constant was `tensor 2`, read as the number 2.
    Mutation: constant_label writes the shape without brackets again."""
    trace = trace_of(client, "x = torch.tensor([1., 2.], requires_grad=True)\n"
                             "y = (x * torch.tensor([1., 2.])).sum()")
    constants = [n["label"] for n in trace["nodes"] if n["kind"] == "constant"]
    assert constants == ["tensor [2]"]
    assert "x · tensor [2]" in " ".join(trace["explain"]["forward"].values())


# pytorch/tutorials' autograd cell as the course corpus holds it, up to its loss, then its
# backward pass with the loss as the output.
TUTORIAL = (Path(__file__).parent / "course_corpus" / "pt_basics_autogradqs.py").read_text() \
    .split("\nprint(")[0] + "\nloss.backward()\nloss"


def test_an_unnamed_constant_says_its_shape_once(client):
    """pytorch/tutorials' autograd cell: matmul records x as an unnamed [1×5] constant
    (`tensor [1×5]`, its label already a shape). Its shape is said once in the forward step
    and its transpose is bracketed in the backward one; the shapes are torch's. Mutations:
    with_shape appending the shape always (`tensor [1×5] [1×5]`); transposed without its
    brackets (`tensor [1×5]ᵀ [5×1]`)."""
    torch.manual_seed(0)
    x, w = torch.ones(5), torch.randn(5, 3, requires_grad=True)
    row = x.unsqueeze(0)  # what matmul multiplies: [1×5] @ [5×3]
    product = row @ w
    label = "tensor [" + "×".join(map(str, row.shape)) + "]"
    trace = trace_of(client, TUTORIAL)
    forward = [t for t in trace["explain"]["forward"].values() if " @ w" in t]
    assert len(forward) == 1, forward
    assert f"{label} , w [5×3] → [{'×'.join(map(str, product.shape))}]" in forward[0], forward
    assert f"{label} [" not in forward[0], forward
    backward = by_name(trace)["w"]
    text = trace["explain"]["backward"][backward["id"]]
    assert f"({label})ᵀ [{row.shape[1]}×{row.shape[0]}] @ " in text and f"{label}ᵀ" not in text, text
