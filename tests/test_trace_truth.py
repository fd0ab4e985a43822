"""Issue 12: the trace is exactly what PyTorch did, for every program a student types.

Each row of `truth_corpus` runs twice: through chainrule, and as real Python with real
PyTorch under the oracle of `truth_oracle` (dispatch mode + hooks on every grad_fn).
"""
from __future__ import annotations

import re
from collections import Counter
from html import unescape

import pytest
import torch
import torchviz

from webapp.errors import ChainruleError
from webapp.engine.evaluation import trace_values
from webapp.drawing.render import draw
from webapp.formatting import format_value

from . import truth_oracle
from .truth_corpus import ROWS

TOLERANCE = 1e-6


def same(got, want) -> bool:
    """A JSON number/list against a tensor (or None), to float32 precision."""
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, (list, tuple)):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if isinstance(got, str) or isinstance(got, list) and _has_str(got):
        return torch.equal(torch.isnan(want), torch.ones_like(want, dtype=torch.bool)) or \
            bool(torch.isinf(want).any())
    got_t = torch.tensor(got, dtype=torch.float64)
    want_t = want.detach().double()
    return got_t.shape == want_t.shape and torch.allclose(got_t, want_t, rtol=TOLERANCE, atol=TOLERANCE,
                                                          equal_nan=True)


def _has_str(value) -> bool:
    return any(_has_str(v) if isinstance(v, list) else isinstance(v, str) for v in value)


def paired(trace, oracle, names):
    """Trace node id -> the oracle's grad_fn: ops in forward order, leaves by name."""
    roots = oracle.roots or []
    fns = truth_oracle.reachable(roots)
    ops = sorted((fn for fn in fns if not hasattr(fn, "variable")), key=lambda fn: oracle.order.get(fn, -1))
    op_nodes = [n for n in trace["nodes"] if n["op"] is not None]
    pairs = dict(zip([n["id"] for n in op_nodes], ops))
    for node in trace["nodes"]:
        if node["kind"] in ("input", "leaf", "output") and node["op"] is None:
            tensor = names.get(node["label"])
            fn = next((f for f in fns if hasattr(f, "variable") and f.variable is tensor), None)
            if fn is not None:
                pairs[node["id"]] = fn
    return pairs, ops, op_nodes, fns


def check_row(source, inputs, grad_output):
    """Every property of issue 12 for one program; returns a list of what differs."""
    problems = []
    try:
        trace = trace_values(source, inputs, grad_output, pytest_limits())
    except ChainruleError as error:
        return [f"refused: {error.message}"]
    oracle, names, last = truth_oracle.run(source, inputs, grad_output)
    pairs, ops, op_nodes, fns = paired(trace, oracle, names)
    by_id = {n["id"]: n for n in trace["nodes"]}
    # Forward: PyTorch's computation order, op by op (so the same multiset and topological).
    got_ops = [n["op"] for n in op_nodes]
    want_ops = [type(fn).__name__ for fn in ops]
    if got_ops != want_ops:
        return [f"ops {got_ops} != PyTorch's {want_ops}"]
    position = {node_id: i for i, node_id in enumerate(trace["forward"])}
    for edge in trace["edges"]:
        if position[edge["source"]] >= position[edge["target"]]:
            problems.append(f"edge {edge['source']}->{edge['target']} against forward order")
    # Values, snapshotted when computed; gradients, as the engine passed them.
    for node in op_nodes:
        fn = pairs[node["id"]]
        values = oracle.values.get(fn, {})
        if node.get("outputs"):
            want = [values.get(i) for i in range(node["outputs"])]
        else:
            want = values.get(0)
        if node["value"] is not None or node.get("summary") is None:
            if not same(node["value"], want):
                problems.append(f"value of {node['id']} {node['op']}: {node['value']} != {want}")
        upstream = oracle.upstream.get(fn)
        want_grad = None if upstream is None else (upstream if node.get("outputs") else upstream[0])
        if (node["grad"] is not None or node.get("grad_summary") is None) and not same(node["grad"], want_grad):
            problems.append(f"grad of {node['id']} {node['op']}: {node['grad']} != {want_grad}")
    for edge in trace["edges"]:
        target = pairs.get(edge["target"])
        if by_id[edge["source"]]["kind"] == "constant" or target is None:
            continue
        index = edge["input"] - (1 if type(target).__name__.startswith("Rsub") else 0)
        sent = oracle.sent.get(target)
        want = None if sent is None else sent[index]
        if edge["grad"] is not None and not same(edge["grad"], want) or edge["grad"] is None and want is not None \
                and want.numel() <= 1000:
            problems.append(f"edge grad {edge['source']}->{edge['target']}: {edge['grad']} != {want}")
    # Backward: the engine's order.
    id_of = {fn: node_id for node_id, fn in pairs.items()}
    want_backward = [id_of[fn] for fn in oracle.engine if fn in id_of]
    if [i for i in trace["backward"] if i in set(want_backward)] != want_backward or \
            len(trace["backward"]) != len(want_backward):
        problems.append(f"backward {trace['backward']} != engine's {want_backward}")
    # Leaves: this pass's gradient and the accumulated .grad.
    for name, leaf in trace["leaves"].items():
        tensor = names.get(name)
        if not isinstance(tensor, torch.Tensor):
            continue
        if not same(leaf.get("accumulated"), tensor.grad):
            problems.append(f"{name}.grad {leaf.get('accumulated')} != {tensor.grad}")
        acc = next((f for f in fns if hasattr(f, "variable") and f.variable is tensor), None)
        if acc is not None:
            delivered = _delivered(oracle, acc, fns)
            if not same(leaf["grad"], delivered):
                problems.append(f"{name} grad this pass {leaf['grad']} != {delivered}")
    # torchviz's multiset of operations.
    if oracle.roots:
        try:
            viz = torchviz.make_dot(tuple(oracle.roots) if len(oracle.roots) > 1 else oracle.roots[0]).source
            labels = Counter(label for label in re.findall(r"\[label=(\w+)\]", viz) if label != "AccumulateGrad")
        except RuntimeError:  # torchviz reads a custom Function's freed saved tensors
            labels = Counter(type(fn).__name__ for fn in ops)
        if labels != Counter(n["op"] for n in op_nodes):
            problems.append(f"torchviz {dict(labels)} != {dict(Counter(got_ops))}")
    # The program's last value.
    result = trace.get("result") or {}
    if isinstance(last, torch.Tensor) and not same(result.get("value"), last):
        problems.append(f"result {result.get('value')} != {last}")
    return problems


def _delivered(oracle, acc, fns):
    upstream = oracle.upstream.get(acc)
    if upstream is not None:
        return upstream[0]
    parts = [oracle.sent[fn][i] for fn in fns if fn in oracle.sent
             for i, (nf, _) in enumerate(fn.next_functions) if nf is acc and oracle.sent[fn][i] is not None]
    return sum(parts[1:], parts[0]) if parts else None


def pytest_limits():
    from webapp.limits import DEFAULT_LIMITS
    return DEFAULT_LIMITS


def test_corpus_is_broad():
    """Mutation: drop SNIPPETS from rows() → fewer than 150 rows, seeds missing."""
    names = {row[0] for row in ROWS}
    assert len(ROWS) >= 150
    for needed in ("seed001-descent", "seed003-log-sin", "seed003-retain", "seed003-control-flow",
                   "seed004-helpers", "custom-relu", "seed002-small-training", "autograd-grad-two",
                   "create-graph", "element-assign", "values", "unpack", "split", "v:sum(x**2)"):
        assert needed in names


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_trace_is_what_pytorch_did(row):
    """Values, forward order, engine order, node/edge/leaf gradients, torchviz's ops, result.

    Mutations that fail it: in recorder._stamp, snapshot(t) → t (aliases: snapshot-inplace);
    drop the `_base` branch (element-assign); in before_backward hook only roots[0]
    (autograd-grad-two); in GraphBuilder._leaf_grads use tensor.grad (backward-twice).
    """
    _, source, inputs, grad_output = row
    assert check_row(source, inputs, grad_output) == []


SVG_ROWS = [row for row in ROWS if row[0] in {
    "s:1/x", "v:1/x", "s:x * 0 + 1", "s:torch.clamp(x, min=0)", "unpack", "split", "element-assign",
    "backward-twice", "seed001-quadratic", "seed003-log-sin", "custom-relu", "v:sum(x**2)", "values"}]


@pytest.mark.parametrize("row", SVG_ROWS, ids=[row[0] for row in SVG_ROWS])
def test_every_number_drawn_is_the_jsons(row):
    """Each node's SVG text is its label, value and gradient as the JSON says.

    Mutation: render.placeholder returns "0" * n → a constant labelled 0 is emptied.
    """
    _, source, inputs, grad_output = row
    trace = trace_values(source, inputs, grad_output, pytest_limits())
    svg = draw(trace).decode()
    for node in trace["nodes"]:
        group = re.search(rf'<g id="{node["id"]}" class="node[^"]*"[^>]*>(.*?)</g>', svg, re.S)
        texts = [unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", group.group(1))]
        assert texts[0] == node.get("name", node["label"])  # the name a student reads (API.md)
        if node["kind"] != "constant":
            assert format_value(node["value"], node["shape"], node.get("summary")) in texts
            assert any(t.startswith("grad ") and format_value(node["grad"], node["shape"],
                                                                node.get("grad_summary")) in t
                       or t == "grad –" for t in texts), texts
