"""Issue 28, rule 3: one notation, written as a mathematician would. Negative bases,
factors, divisors and terms in brackets; `=` for a gradient's first contribution and `+=`
only where another path adds; no −0; a total agrees with its terms as shown or says ≈; one
adjoint notation (v̄) with a key on the page. Numbers are plain PyTorch's, run here."""
from __future__ import annotations

import re

import pytest
import torch

from tests import r_seeds, seeds
from webapp.formatting import format_number
from webapp.lesson.notation import bar

LOG_SIN = seeds.SEED003_LOG_SIN  # x = −0.5984: three paths into x, negative values everywhere
PROGRAMS = [  # (source, inputs, language)
    (LOG_SIN, {"x": -0.5984}, None),
    (seeds.SEED003_NODES, {}, None),
    (seeds.SEED001_ROSENBROCK, {"x": [-1.0, 1.0]}, None),
    (seeds.SEED001_QUADRATIC, {}, None),
    ("x = torch.tensor([0., 1.], requires_grad=True)\ny = (-(x * x)).sum()\ny", {}, None),
    ("loss = x * x - x / 3\nloss", {"x": -2.0}, None),
    (r_seeds.SEED001_ROSENBROCK + r_seeds.SEED001_START + "value <- rosenbrock(x)\nvalue", {}, "r"),
]


def trace_of(client, source, inputs, language=None):
    body = {"source": source, "inputs": inputs, **({"language": language} if language else {})}
    answer = client.post("/api/trace", json=body)
    assert answer.status_code == 200, answer.json
    return answer.json


def texts_of(trace) -> list[str]:
    explain = trace["explain"]
    return list(explain["forward"].values()) + list(explain["backward"].values()) + \
        [row["adjoint_sum"] for row in trace["tape"] if row.get("adjoint_sum")]


@pytest.fixture(scope="module")
def traces(app):
    client = app.test_client()
    return [trace_of(client, *program) for program in PROGRAMS]


# an operator, then a bare negative number: `1/−0.5984`, `0.5785 + −1.671`, `· −0.5633`
BARE_NEGATIVE_OPERAND = re.compile(r"[·/+⊙×^−] −\d|[·/^]−\d|[+·⊙] −")
BARE_NEGATIVE_BASE = re.compile(r"(?<![\w)(.])−\d[\d.e+]*\^")  # −0.5984^2


def test_negative_operands_are_in_brackets(traces):
    """Mutation: notation.term returns its text unchanged (`1/−0.5984`, `−0.5984^2`)."""
    bad = [t for trace in traces for t in texts_of(trace)
           if BARE_NEGATIVE_OPERAND.search(t) or BARE_NEGATIVE_BASE.search(t)]
    assert bad == []


def test_the_issues_examples_are_written_with_brackets(client):
    """The numbers are PyTorch's at x = −0.5984; the brackets the rule's.
    Mutation: in explain._forward_text, `operators = False` (no brackets in forward steps)."""
    trace = trace_of(client, LOG_SIN, {"x": -0.5984})
    x = torch.tensor(-0.5984)
    v2, v3 = torch.log(x ** 2), torch.sin(x)
    f = format_number
    forward = "\n".join(trace["explain"]["forward"].values())
    assert f"= ({f(x.item())})^2 = {f((x ** 2).item())}" in forward
    assert f"= 1/({f(x.item())}) = {f((1 / x).item())}" in forward
    assert f"= ({f(v2.item())}) · ({f(v3.item())}) = {f((v2 * v3).item())}" in forward
    assert f"= {f((v2 * v3).item())} + ({f((1 / x).item())}) = " in forward


def test_a_gradient_reads_equals_once_then_plus_equals_per_added_path(traces):
    """In each step the first contribution is `=`, each further one `+=`, as many as the
    node's outgoing edges in PyTorch's graph minus one.
    Mutation: in explain.backward_text always pass "+=" (the issue's complaint)."""
    checked = 0
    for trace in traces:
        out = {}
        for edge in trace["edges"]:
            if edge.get("grad") is not None:
                out[edge["source"]] = out.get(edge["source"], 0) + 1
        for node_id, text in trace["explain"]["backward"].items():
            ops = re.findall(r"^∂\S+/∂\S+ (\+?=) ∂", text, re.M)
            if not ops:
                continue
            assert ops[0] == "=" and ops[1:] == ["+="] * (len(ops) - 1)
            assert len(ops) == out.get(node_id, 0)
            checked += len(ops)
    assert checked > 20


def test_no_sentence_writes_minus_zero(traces):
    """`−(0 · 0)` is −0.0 in PyTorch; a student reads 0.
    Mutation: drop the `if value == 0` line of formatting.format_number."""
    assert torch.tensor(-0.0).item() == 0 and str(torch.tensor(-0.0).item()) == "-0.0"  # what torch makes
    assert [t for trace in traces for t in texts_of(trace) if re.search(r"−0(?![.\d])", t)] == []


SUM = re.compile(r"contributions: (.*) ([=≈]) (\S+)$")


def test_a_total_says_approximately_where_its_shown_terms_do_not_add_up(traces):
    """A `sums N contributions` line: `=` exactly when the terms as shown add up to the total
    as shown, else `≈`; the total is PyTorch's. At x = −0.5984 the terms 1.883, −0.8485 and
    −2.793 add up to −1.7585, written −1.758 or −1.759: the line says ≈.
    Mutation: notation.relation always returns "=" (a false `=`)."""
    lines = [l for trace in traces for t in texts_of(trace) for l in t.split("\n") if SUM.search(l)
             and "(" not in SUM.search(l).group(3)]
    assert len(lines) >= 3
    approx = 0
    for line in lines:
        terms, sign, total = SUM.search(line).groups()
        added = sum(float(t.strip("()").replace("−", "-")) for t in terms.split(" + "))
        assert sign == ("=" if format_number(added) == total else "≈"), line
        approx += sign == "≈"
    assert approx >= 1
    x = torch.tensor(-0.5984, requires_grad=True)
    (torch.log(x ** 2) * torch.sin(x) + 1 / x).backward()
    log_sin = next(l for t in traces[0]["explain"]["backward"].values() for l in t.split("\n")
                   if "sums 3 contributions" in l)
    assert log_sin.endswith(f"≈ {format_number(x.grad.item())}")


def test_one_adjoint_notation_everywhere(traces, client):
    """The adjoint is v̄ on every line, a long name overlined whole, never adj(·); the page
    carries the key. Mutation: notation.bar returns `adj(name)` for a long name; or drop
    the `_notation.html` include from templates/index.html."""
    assert bar("x1") == "x\u03041" and bar("y₂") == "y\u0304₂"
    assert bar("value") == "".join(c + "\u0305" for c in "value")
    everything = [t for trace in traces for t in texts_of(trace)]
    everything += [row["bar"] for trace in traces for row in _table(client, trace)]
    assert not any("adj(" in t for t in everything)
    rosen = "\n".join(traces[-1]["explain"]["backward"].values())
    assert f"= {bar('value')} · 1" in rosen
    page = client.get("/").data.decode()
    key = re.search(r'<details class="notation-key".*?</details>', page, re.S)
    assert key and all(s in key.group(0) for s in ("v̄", "⊙", "+=", "≈", "4 [1]", "(−0.5984)^2"))


def _table(client, trace):
    from webapp.lesson.tape_view import tape_view
    return (tape_view(trace) or {"rows": []})["rows"]


def test_forward_mode_brackets_its_negative_factors(client):
    """Tangent sentences too: `5·(−1) + 2·0`, PyTorch's jvp numbers (ẋ1 = −1).
    Mutation: drop `term(` around the tangent in tangent_text.tangent_text (`5·−1`)."""
    answer = client.post("/api/trace", json={"source": "log(x1) + x1*x2 - sin(x2)",
                                             "inputs": {"x1": 2.0, "x2": 5.0}, "tangent": {"x1": -1, "x2": 0}})
    texts = list(answer.json["explain"]["tangent"].values())
    x1, x2 = torch.tensor(2.0), torch.tensor(5.0)
    _, jvp = torch.func.jvp(lambda a, b: a * b, (x1, x2), (torch.tensor(-1.0), torch.tensor(0.0)))
    assert any(t.endswith(f"= 5·(−1) + 2·0 = {format_number(jvp.item())}") for t in texts)
    assert [t for t in texts if BARE_NEGATIVE_OPERAND.search(t)] == []


@pytest.mark.parametrize("source, x, shown", [
    ("x * 3", 0.33333, "0.3333 · 3 ≈ 1"),     # the shown factor times 3 is 0.9999, not 1
    ("x * 3", 0.25, "0.25 · 3 = 0.75"),       # exact as shown
    ("sin(x)", 0.5, "sin(0.5) = 0.4794"),
])
def test_a_forward_step_says_approximately_where_its_shown_numbers_do_not_give_its_result(
        client, source, x, shown):
    """The result is PyTorch's; the operands are shown to 4 digits. Mutation:
    explain._forward_relation always returns "=" (0.3333 · 3 = 1 is false as written)."""
    trace = trace_of(client, source, {"x": x})
    value = torch.tensor(x) * 3 if "*" in source else torch.sin(torch.tensor(x))
    assert shown.endswith(format_number(value.item()))  # the result shown is PyTorch's
    assert any(text.endswith(shown) for text in trace["explain"]["forward"].values())


def test_a_step_through_nan_and_infinity_still_shows_its_arithmetic(client):
    """At x = 0, log(x**2)·sin(x) + 1/x meets −inf, inf and NaN: every step still shows its
    numbers (a scalar is not "too many to show"), and they are plain PyTorch's: each node's
    forward value and x's three contributions and their sum. Mutation: numbers_of treating
    the JSON's "NaN"/"Infinity" strings as no numbers (the fallback said "1 entries: too many
    to show one by one, more than 6", false)."""
    trace = trace_of(client, LOG_SIN, {"x": 0.0})
    texts = texts_of(trace)
    assert not [t for t in texts if "too many" in t], texts
    x = torch.tensor(0.0, requires_grad=True)
    v1 = x ** 2
    v1.retain_grad()
    v2 = torch.log(v1)
    v3 = torch.sin(x)
    v3.retain_grad()
    v5 = 1 / x
    v5.retain_grad()
    y = v2 * v3 + v5
    y.backward()
    contributions = [v1.grad * 2 * x, v3.grad * torch.cos(x), v5.grad * (-1 / x ** 2)]
    leaf = next(n["id"] for n in trace["nodes"] if n.get("name") == "x")
    text = trace["explain"]["backward"][leaf]
    products = [line.rsplit("= ", 1)[1] for line in text.splitlines() if line.startswith("   = ") and " · " in line
                and not line.startswith("   = v̄")]  # the numbers line of each contribution
    assert products == [format_number(float(c)) for c in contributions], text
    total = format_number(float(x.grad))
    assert text.rstrip().endswith(f"x.grad = {total}") and total == "NaN", text
    assert "= NaN · 0 = NaN" in text, text  # v̄1 · 2·x, with PyTorch's v̄1 = 0·(1/0) = NaN
