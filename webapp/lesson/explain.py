"""Each step in three forms (rule, rule with names, numbers), as sc420's graphs do.

Texts are built from the trace's plain data only; every variable in them is a node's
`name`, so no text can put ∂ before an operator symbol.
"""
from __future__ import annotations

import math

from .naming import TraceIndex, formula, is_custom, operands, repeats
from .naming import format_value
from .tape import bar

PATTERNS = {"+": "add distributes: each input receives the upstream gradient unchanged",
            "×": "multiply swaps its inputs: each input's local derivative is the other input",
            "max": "max routes: the whole gradient goes to the larger input",
            "maximum": "max routes: the whole gradient goes to the larger input",
            "relu": "relu routes: the gradient passes where the input was positive, else 0"}
REDUCTIONS = {"sum": "sums", "mean": "averages"}
LAYOUT = {"transpose", "t", "reshape", "view", "permute", "expand", "squeeze", "unsqueeze",
          "select", "slice", "index", "unsafeview", "clone", "flatten"}


def _numel(shape) -> int:
    return math.prod(shape) if shape else 1


def dims(shape) -> str:
    return "[" + "×".join(str(s) for s in shape) + "]" if shape else "scalar"


def _fmt(value, shape) -> str:
    return format_value(value, shape)


def forward_text(ix: TraceIndex, node: dict) -> str:
    """What the forward pass computed at this node, with names and with numbers; a node
    the backward pass recorded (create_graph=True) says it is part of a derivative."""
    text = _forward_text(ix, node)
    if node.get("derivative"):
        text += ("   (recorded by the backward pass, create_graph=True: this step computes "
                 "part of the derivative)")
    return text


def _forward_text(ix: TraceIndex, node: dict) -> str:
    if node["kind"] in ("input", "leaf"):
        return (f"{node['name']} = {_fmt(node['value'], node['shape'])}   "
                "(a leaf: created with requires_grad=True)")
    if node["kind"] == "constant":
        return f"{node['name']} is a constant: it needs no gradient"
    pairs = operands(ix, node["id"])
    symbol = node.get("symbol") or ""
    if symbol.startswith("^"):
        pairs = [p for p in pairs if p[1]["kind"] != "constant"]
    names = [s["name"] for _, s in pairs]
    value = _fmt(node["value"], node["shape"])
    if all(not s["shape"] for _, s in pairs) and not node["shape"]:
        numbers = formula(node, [_fmt(s["value"], s["shape"]) for _, s in pairs])
        return f"{node['name']} = {formula(node, names)} = {numbers} = {value}"
    shapes = " , ".join(f"{s['name']} {dims(s['shape'])}" for _, s in pairs)
    text = f"{node['name']} = {formula(node, names)}: {shapes} → {dims(node['shape'])}"
    if symbol in REDUCTIONS and pairs:
        text += f" ({REDUCTIONS[symbol]} {_numel(pairs[0][1]['shape'])} entries)"
    return f"{text} = {value}"


def local_derivative(node: dict, consumer: dict, pairs: list, position: int) -> str | None:
    """∂consumer/∂node written with names, for the operations a student meets first."""
    symbol = consumer.get("symbol") or ""
    others = [s["name"] for i, (_, s) in enumerate(pairs) if i != position]
    first = position == 0
    c, n = consumer["name"], node["name"]
    if symbol == "+":
        return "1"
    if symbol == "−":
        return "1" if first else "−1"
    if symbol == "×" and others:
        return others[0]
    if symbol == "÷" and len(pairs) == 2:
        return f"1/{others[0]}" if first else f"−{pairs[0][1]['name']}/{n}²"
    if symbol.startswith("^"):
        k = symbol[1:]
        return f"{k}·{n}" if k == "2" else f"{k}·{n}^({k}−1)"
    return {"log": f"1/{n}", "1/x": f"−1/{n}²", "sin": f"cos({n})", "cos": f"−sin({n})", "exp": c,
            "tanh": f"1 − {c}²", "sigmoid": f"{c}·(1 − {c})", "sqrt": f"1/(2·{c})",
            "−x": "−1", "relu": f"1 if {n} > 0 else 0"}.get(symbol)


def _contribution(ix, node, edge, consumer, out_name) -> str:
    text = _one_contribution(ix, node, edge, consumer, out_name)
    count = repeats(ix, edge)
    if edge.get("entry"):  # folded: this edge feeds the box's first repetition only
        return f"{text}\n   (into the first of {consumer['folded']['count']:,} repetitions)"
    return f"{text}\n   (the last of {count:,}, one per repetition)" if count > 1 else text


def _one_contribution(ix, node, edge, consumer, out_name) -> str:
    pairs = operands(ix, consumer["id"], first=bool(edge.get("entry")))
    position = next((i for i, (e, _) in enumerate(pairs) if e is edge), 0)
    rule = f"∂{out_name}/∂{node['name']} += ∂{out_name}/∂{consumer['name']} · ∂{consumer['name']}/∂{node['name']}"
    upstream = _fmt(edge.get("target_grad", consumer.get("grad")), consumer["shape"])
    got = _fmt(edge["grad"], node["shape"])
    if is_custom(consumer):
        return f"{rule}\n   your backward of {consumer.get('symbol') or consumer['op']} returned {got}"
    if node["shape"] or consumer["shape"]:
        return f"{rule}\n   {_tensor_rule(node, consumer, pairs, position)} = {got}"
    local = local_derivative(node, consumer, pairs, position)
    named = f"{bar(consumer['name'])} · {_term(local)}" if local else f"{bar(consumer['name'])} · ∂{consumer['name']}/∂{node['name']}"
    return f"{rule}\n   = {named}\n   = {_term(upstream)} · {_term(_fmt(edge['local_grad'], []))} = {got}"


def _tensor_rule(node, consumer, pairs, position) -> str:
    """What the vector-Jacobian product does to shapes, never an entrywise product."""
    symbol = consumer.get("symbol") or ""
    up = f"{bar(consumer['name'])} {dims(consumer['shape'])}"
    if symbol in ("mm", "@", "matmul") and len(pairs) == 2:
        other = pairs[1 - position][1]
        other_t = f"{other['name']}ᵀ {dims(list(reversed(other['shape'])))}"
        product = f"{up} @ {other_t}" if position == 0 else f"{other_t} @ {up}"
        return f"matrix product: {product} → {dims(node['shape'])}"
    if symbol == "mv" and len(pairs) == 2:
        if position == 0:
            return f"outer product: {up} ⊗ {pairs[1][1]['name']} {dims(pairs[1][1]['shape'])} → {dims(node['shape'])}"
        matrix = pairs[0][1]
        return (f"matrix-vector product: {matrix['name']}ᵀ {dims(list(reversed(matrix['shape'])))} "
                f"@ {up} → {dims(node['shape'])}")
    if symbol == "dot" and len(pairs) == 2:
        other = pairs[1 - position][1]
        return f"dot product: {up} times {other['name']} {dims(other['shape'])} → {dims(node['shape'])}"
    if symbol in LAYOUT:
        return (f"{symbol} only moves entries: the gradient is put back into "
                f"{node['name']}'s layout {dims(node['shape'])}, no arithmetic")
    if symbol in REDUCTIONS:
        count = _numel(node["shape"])
        each = "the upstream gradient" if symbol == "sum" else f"the upstream gradient ÷ {count}"
        return f"{symbol} over {count} entries: each entry gets {each}, {up} → {dims(node['shape'])}"
    pattern = PATTERNS.get(symbol)
    broadcast = (f", summed over the broadcast dimensions down to {dims(node['shape'])}"
                 if _numel(node["shape"]) < _numel(consumer["shape"]) else "")
    local = local_derivative(node, consumer, pairs, position)
    how = pattern or (f"entrywise: {up} ⊙ ({local})" if local else
                      f"entrywise: {up} times ∂{consumer['name']}/∂{node['name']} entry by entry")
    return f"{how}{broadcast}; {node['name']} is {dims(node['shape'])}"


def _term(text: str) -> str:
    """A negative term or factor in brackets: 0.9093 + (−0.5769), 1 · (−0.25)."""
    return f"({text})" if text.startswith(("−", "-")) else text


def backward_text(ix: TraceIndex, node: dict, out_name: str, seeded: bool) -> str:
    """How the node's gradient was assembled from its consumers' gradients."""
    grad = _fmt(node.get("grad"), node["shape"])
    if node["kind"] == "output":
        start = "the gradient you passed" if seeded else "1"
        text = f"∂{out_name}/∂{out_name} = {grad}: backward starts at the output with {start}"
        if ix.trace.get("extra_pass"):
            text += (f"\n(the program's own backward() ran before {out_name} was computed: chainrule "
                     f"runs this pass on {out_name} itself and leaves every .grad as the program left it)")
        return text
    nodes, reached = ix.nodes, ix.reached
    edges = [e for e in ix.out.get(node["id"], [])  # a large gradient is left
             if e.get("grad") is not None or e["target"] in reached]  # out of the JSON, not the text
    texts = [_contribution(ix, node, e, nodes[e["target"]], out_name) for e in edges]
    patterns = {PATTERNS[nodes[e["target"]].get("symbol")] for e in edges  # tensor lines name it
                if nodes[e["target"]].get("symbol") in PATTERNS
                and not node["shape"] and not nodes[e["target"]]["shape"]}
    lines = texts + sorted(patterns)
    targets = [e["target"] for e in edges]
    for target in dict.fromkeys(t for t in targets if targets.count(t) > 1):  # x·x: x twice
        consumer = nodes[target]
        uses = [s["name"] for _, s in operands(ix, target)]
        times = {2: "twice", 3: "three times"}.get(targets.count(target), f"{targets.count(target)} times")
        lines.append(f"{node['name']} is used {times} in {consumer['name']} = "
                     f"{formula(consumer, uses)}: one contribution for each use")
    total = sum(repeats(ix, e) for e in edges)
    if total > len(edges):  # folded: the shown edges stand for more, their terms do not add up
        lines.append(f"{bar(node['name'])} sums {total:,} contributions, one per repetition of the "
                     f"folded boxes it feeds (the lines above show one of each) = {grad}")
    elif len(edges) > 1:
        parts = " + ".join(_term(_fmt(e["grad"], node["shape"])) for e in edges)
        lines.append(f"{bar(node['name'])} sums {len(edges)} contributions: {parts} = {grad}")
    if node["kind"] in ("input", "leaf"):
        lines.append(_grad_line(ix.trace, node, grad))
    return "\n".join(lines) if lines else f"∂{out_name}/∂{node['name']} = {grad}"


def _grad_line(trace: dict, node: dict, grad: str) -> str:
    """The leaf's `.grad` after the pass shown: this pass's gradient, unless earlier passes
    of the program had already added to it, or chainrule ran the pass itself; and what the
    program's later lines made of it (`zero_()`, a descent step), when they changed it."""
    accumulated = node.get("accumulated")
    name = node["name"]
    if trace.get("extra_pass"):
        kept = "None" if accumulated is None else _fmt(accumulated, node["shape"])
        return f"{name}.grad stays {kept}, as the program left it (this pass is chainrule's own)"
    after = node.get("after_pass", accumulated)  # .grad right after the pass
    if after is None or after == node.get("grad"):
        line = f"{name}.grad = {grad}"
    elif isinstance(after, (int, float)) and isinstance(node.get("grad"), (int, float)):
        earlier = _fmt(after - node["grad"], node["shape"])
        line = (f"{name}.grad = {_term(earlier)} + {_term(grad)} = {_fmt(after, node['shape'])}: "
                ".grad adds this pass to the earlier ones")
    else:
        line = (f"{name}.grad = {_fmt(after, node['shape'])}: .grad adds this pass's {grad} to "
                "the earlier passes'")
    if after is not None and accumulated != after:
        ended = "None" if accumulated is None else _fmt(accumulated, node["shape"])
        line += f"; the program's later lines then made it {ended}"
    return line


def explanations(ix: TraceIndex, seeded: bool = False) -> dict:
    """{"forward": {id: text}, "backward": {id: text}} for every step."""
    trace, nodes = ix.trace, ix.nodes
    output = next((n for n in trace["nodes"] if n["kind"] == "output"), None)
    out_name = output["name"] if output else "y"
    # dict.fromkeys: a folded trace (folding.py) steps one box many times; one text each
    return {"forward": {i: forward_text(ix, nodes[i]) for i in dict.fromkeys(trace["forward"])},
            "backward": {i: backward_text(ix, nodes[i], out_name, seeded)
                         for i in dict.fromkeys(trace["backward"])}}
