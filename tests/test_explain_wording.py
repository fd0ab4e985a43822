"""Sentences a student reads without tripping: a reassigned name is numbered, a value used
twice says so, a sum shows its negative terms in brackets, 1/x has its derivative.
Numbers come from plain PyTorch run here, never from chainrule."""
from __future__ import annotations

import re

import torch

from webapp.drawing.plots import tangent_equation
from webapp.lesson.notation import bar

LOOP = "y = x\nfor i in range(3):\n    y = y * x + 1\ny"
FORUM = "log(x**2)*sin(x) + 1/x"


def trace_of(client, source, **inputs):
    answer = client.post("/api/trace", json={"source": source, "inputs": inputs})
    assert answer.status_code == 200, answer.json
    return answer.json


def test_a_name_assigned_in_a_loop_is_numbered_in_forward_order(client):
    """Mutation: drop `_number_reused_names(trace, nodes)` in naming.assign_names (three
    nodes are all `y`, and the explanation reads ∂y/∂y += …)."""
    trace = trace_of(client, LOOP, x=2.0)
    nodes = {n["id"]: n for n in trace["nodes"]}
    ys = [nodes[i]["name"] for i in dict.fromkeys(trace["forward"]) if nodes[i].get("named")]
    # plain PyTorch: the loop's additions, each one a value of y
    x = torch.tensor(2.0, requires_grad=True)
    values, y = [], x
    for _ in range(3):
        y = y * x + 1
        values.append(y.item())
    assert ys == ["y₁", "y₂", "y₃"]
    assert [nodes[i]["value"] for i in dict.fromkeys(trace["forward"]) if nodes[i].get("named")] == values
    texts = "\n".join(trace["explain"]["backward"].values())
    assert "∂y/∂y " not in texts and "∂y₃/∂y₂ = ∂y₃/∂v3 · ∂v3/∂y₂" in texts


def test_a_folded_box_takes_the_numbers_of_all_its_repetitions(client):
    """Mutation: `count = 1` for folded boxes in naming._number_reused_names (the box is y₁
    and the last repetition y₂, though y took 30 values)."""
    answer = client.post("/api/trace", json={"source": "y = x\nfor i in range(30):\n    y = y * 0.9 + x\ny",
                                             "inputs": {"x": 2.0}, "fold": True})
    named = [n["name"] for n in answer.json["nodes"] if n.get("named")]
    assert named == ["y₁…y₂₉", "y₃₀"]


def test_a_value_used_twice_by_one_operation_says_so(client):
    """Mutation: drop the `is used twice in` lines in explain.backward_text."""
    trace = trace_of(client, LOOP, x=2.0)
    x_node = next(n for n in trace["nodes"] if n["kind"] == "input")
    text = trace["explain"]["backward"][x_node["id"]]
    assert "x is used twice in v1 = x · x: one contribution for each use" in text


def test_a_sum_brackets_its_negative_terms_and_adds_up_to_pytorchs_gradient(client):
    """Mutation: `_term` returns its text unchanged (0.9093 + −0.5769 + −0.25)."""
    trace = trace_of(client, FORUM, x=2.0)
    x_node = next(n for n in trace["nodes"] if n["kind"] == "input")
    line = next(l for l in trace["explain"]["backward"][x_node["id"]].split("\n") if "sums" in l)
    terms = re.search(r"contributions: (.*) = ", line).group(1).split(" + ")
    assert "+ −" not in line and all(t.startswith("(−") for t in terms if "−" in t)
    x = torch.tensor(2.0, requires_grad=True)
    (torch.log(x ** 2) * torch.sin(x) + 1 / x).backward()
    total = sum(float(t.strip("()").replace("−", "-")) for t in terms)
    assert abs(total - x.grad.item()) < 1e-3


def test_the_reciprocal_has_its_local_derivative_written_out(client):
    """Mutation: drop `"1/x": f"−1/{n}²"` from explain._local (it reads ∂v5/∂x)."""
    trace = trace_of(client, FORUM, x=2.0)
    x_node = next(n for n in trace["nodes"] if n["kind"] == "input")
    text = trace["explain"]["backward"][x_node["id"]]
    reciprocal = next(n for n in trace["nodes"] if n["label"] == "1/x")
    assert f"= v̄{reciprocal['name'][1:]} · (−1/x²)" in text
    x = torch.tensor(2.0, requires_grad=True)
    (local,) = torch.autograd.grad(1 / x, x)  # −1/x² at 2, by PyTorch
    assert f"· ({local.item():g})".replace("-", "−") in text


def test_the_tangent_writes_each_sign_once():
    """Mutation: the old `f"… = {fa:.4g} + {slope:.4g}·(x − {a:.4g})"` in plots.tangent_equation."""
    assert tangent_equation({"x": 2.08, "f": 1.76, "df": -0.1056}) == "tangent: y = 1.76 − 0.1056·(x − 2.08)"
    assert tangent_equation({"x": -1, "f": 3, "df": 2}) == "tangent: y = 3 + 2·(x + 1)"


def test_a_step_into_the_output_is_the_seed_times_its_local_derivative(client):
    """Into the output's own operation the chain rule's outer factor is the seed: the rule
    line says so, and never reads ∂loss/∂z = ∂loss/∂loss · ∂loss/∂z (circular, a lecturer
    found). After a tensor output's ones the gradients are adjoints: x̄ = ȳ · …. Mutation: the
    `consumer.kind == "output"` case removed from explain._rule."""
    trace = trace_of(client, "z = w * x - 3\nloss = z ** 2\nloss", x=2.0, w=0.5)
    names = {n["id"]: n["name"] for n in trace["nodes"]}
    z_id = next(i for i, name in names.items() if name == "z")
    text = trace["explain"]["backward"][z_id]
    w = torch.tensor(0.5, requires_grad=True)
    z = w * 2.0 - 3
    z.retain_grad()
    (z ** 2).backward()
    assert text.splitlines()[0] == "∂loss/∂z = ∂loss/∂loss · loss's local derivative in z"
    assert text.splitlines()[-1].endswith(f"= {z.grad.item():g}".replace("-", "−"))
    for step in trace["explain"]["backward"].values():
        assert not re.search(r"∂(\S+)/∂(\S+) \+?= ∂\1/∂\1 · ∂\1/∂\2", step), step
    answer = client.post("/api/trace", json={"source": "y = x * 3\ny", "inputs": {"x": [1.0, 2.0]},
                                             "grad_output": "ones"})
    vector = answer.json
    first = next(iter(t for i, t in vector["explain"]["backward"].items() if i != vector["backward"][0]))
    assert first.splitlines()[0] == f"{bar('x')} = {bar('y')} · y's local derivative in x", first


def test_after_any_seed_but_a_single_1_the_rules_are_in_adjoints(client):
    """y = x·w with backward(2.0): the pass carries 2 · ∂y/∂x, so a rule reading ∂y/∂x = … would
    be false; it reads x̄ = ȳ · y's local derivative in x, with plain torch's numbers. A pass
    from two outputs (autograd.grad([y1, y2], x)) starts at each with its own name. Mutation
    seen failing: explanations() setting `ix.plain_seed = True` always."""
    source = "y = x * w\ny.backward(torch.tensor(2.0))\ny"
    trace = trace_of(client, source, x=3.0, w=0.5)
    x = torch.tensor(3.0, requires_grad=True)
    (x * 0.5).backward(torch.tensor(2.0))
    text = trace["explain"]["backward"][next(n["id"] for n in trace["nodes"] if n["name"] == "x")]
    assert text.splitlines()[0] == f"{bar('x')} = {bar('y')} · y's local derivative in x", text
    assert text.splitlines()[2].endswith(f"= {x.grad.item():g}") and "∂y/∂x" not in text
    two = trace_of(client, "y1 = x*2\ny2 = x*x\ng = torch.autograd.grad([y1, y2], [x])\ng", x=3.0)
    starts = [t.split(":")[0] for t in two["explain"]["backward"].values() if "backward starts" in t]
    assert sorted(starts) == ["∂y1/∂y1 = 1", "∂y2/∂y2 = 1"], starts


def test_each_use_of_a_value_is_its_own_local_derivative(client):
    """x · x at 3: each of the two contributions is the derivative of one use (3), and they sum
    to PyTorch's 6; "the local derivative in x" alone would be 2x = 6, not 3. Mutation seen
    failing: _rule's `uses > 1` test → `uses > 2`."""
    trace = trace_of(client, "x * x", x=3.0)
    x = torch.tensor(3.0, requires_grad=True)
    (x * x).backward()
    text = trace["explain"]["backward"]["n1"]
    assert text.count("v1's local derivative in one use of x") == 2, text
    assert text.splitlines()[-1] == f"x.grad = {x.grad.item():g}"


def test_a_gradient_handed_back_by_autograd_grad_has_its_sentence():
    """autograd.grad(y, x, create_graph=True), the pass shown: x gets its backward step though
    the engine never ran its AccumulateGrad, and that step has a sentence; x.grad stays None,
    as torch leaves it (it said x.grad = 12). Mutations seen failing: explanations() over
    `trace.backward` only (no caption for x's step); _grad_line without its returned case."""
    from webapp.engine.evaluation import trace_values
    from webapp.limits import DEFAULT_LIMITS
    trace = trace_values("y = x ** 3\ng, = torch.autograd.grad(y, x, create_graph=True)\ng",
                         {"x": 2.0}, None, DEFAULT_LIMITS, of_pass=True)  # the page's f beside f′
    x = torch.tensor(2.0, requires_grad=True)
    (g,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    assert x.grad is None
    backward = [s["node"] for s in trace["steps"] if s["phase"] == "backward"]
    assert all(trace["explain"]["backward"].get(node) for node in backward), backward
    text = trace["explain"]["backward"][backward[-1]]
    assert f"= {g.item():g}" in text and text.splitlines()[-1].startswith("x.grad stays None"), text


def test_the_tape_caption_says_what_the_adjoint_is_after_a_seed(client):
    """The evaluation trace's caption read v̄ = ∂y/∂v on a page whose backward() started from
    2, where x̄ = 1 and ∂y/∂x = 0.5; it now says the seed multiplies it there, and only there
    (a practice page of the same source as well). Mutation seen failing: tape_view's
    `derivatives` always true."""
    import urllib.parse
    seeded = urllib.parse.urlencode({"f": "y = x * w\ny.backward(torch.tensor(2.0))\ny", "x": 3, "w": 0.5})
    plain = urllib.parse.urlencode({"f": "x * w", "x": 3, "w": 0.5})
    caption = re.compile(r'<caption id="tape-caption">(.*?)</caption>', re.S)
    for query, seeded_page in ((seeded, True), (seeded + "&practice=1", True), (plain, False),
                               (plain + "&practice=1", False)):
        text = " ".join(caption.search(client.get("/?" + query).get_data(as_text=True)).group(1).split())
        assert ("times the seed backward() started from" in text) == seeded_page, (query, text)


def test_a_local_derivative_that_is_a_sum_is_bracketed(client):
    """tanh's local derivative 1 − o² is one factor: `ō · (1 − o²)`, never `ō · 1 − o²` (read
    as (ō · 1) − o², a new user's report on Karpathy's micrograd cell); the number is plain
    torch's. Mutation seen failing: explain.py using term() for the local again."""
    trace = trace_of(client, "o = torch.tanh(x * 2)\no", x=0.3)
    text = next(t for t in trace["explain"]["backward"].values() if "o's local derivative" in t)
    x = torch.tensor(0.3, requires_grad=True)
    n = x * 2
    n.retain_grad()
    torch.tanh(n).backward()
    assert text.splitlines()[1].strip() == f"= {bar('o')} · (1 − o²)", text
    assert text.splitlines()[2].endswith(f"= {n.grad.item():.4g}"), text
