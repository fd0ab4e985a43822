"""Each step in three forms (rule, rule with names, numbers), as sc420's graphs do.

Texts are built from the worker's `Trace` (model.py) only, its numbers as PyTorch gave them;
every variable in them is a node's `name`, so no text can put ∂ before an operator symbol.
"""
from __future__ import annotations

import math

from ..formatting import WHOLE, format_number
from ..model import ABSENT, Node, Trace
from .naming import INFIX, TraceIndex, formula, given, grad_summary_of, is_custom, operands, repeats
from .naming import format_value
from .notation import agrees, bar, derivatives, entries, factor, numbers_of, one_number, relation, term
from .steps import unreached

PATTERNS = {"+": "add distributes: each input receives the upstream gradient unchanged",
            "×": "multiply swaps its inputs: each input's local derivative is the other input",
            "max": "max routes: the whole gradient goes to the larger input",
            "maximum": "max routes: the whole gradient goes to the larger input",
            "relu": "relu routes: the gradient passes where the input was positive, else 0"}
REDUCTIONS = {"sum": "sums", "mean": "averages"}
WHOLE_STEP = 6  # up to 6 entries a step shows upstream ⊙ local = result, entry by entry
LAYOUT = {"transpose", "t", "reshape", "view", "permute", "expand", "squeeze", "unsqueeze",
          "select", "slice", "index", "unsafe_view", "clone", "flatten"}


def _numel(shape) -> int:
    return math.prod(shape) if shape else 1


def dims(shape) -> str:
    return "[" + "×".join(str(s) for s in shape) + "]" if shape else "scalar"


def with_shape(name: str, shape) -> str:
    """`w [5×3]`; an unnamed constant's label already says its shape (`tensor [1×5]`)."""
    return name if name.endswith(dims(shape)) else f"{name} {dims(shape)}"


def transposed(name: str, shape) -> str:
    """`wᵀ [3×5]`; a label of several words in brackets: `(tensor [1×5])ᵀ [5×1]`."""
    return f"{f'({name})' if ' ' in name else name}ᵀ {dims(list(reversed(shape)))}"


def _fmt(value, shape) -> str:
    """A value in a sentence: a 1-element tensor as its number (its shape is said once, at
    its forward step), anything else as format_value writes it."""
    number = one_number(value, shape)
    return format_number(number) if number is not None else format_value(value, shape)


def _one_element(ix: TraceIndex, node: Node) -> str:
    """`a 1-element tensor [1]…` at the first value of the forward pass that is one, else ``:
    said once; later ones read as numbers too, marked `[1]` in their boxes (and the key)."""
    if not ix.__dict__.get("one_element_said"):  # found once per lesson, not once per node
        ix.one_element_said = next((i for i in ix.trace.forward
                                    if ix.nodes[i].shape and _numel(ix.nodes[i].shape) == 1), "none")
    if ix.one_element_said != node.id:
        return ""
    return (f"a 1-element tensor {dims(node.shape)}; such tensors read as numbers here, "
            f"marked {dims(node.shape)}")


def forward_text(ix: TraceIndex, node: Node, language: str = "python") -> str:
    """What the forward pass computed at this node, with names and with numbers; a node
    the backward pass recorded (create_graph=True) says it is part of a derivative."""
    true = _words(language)[2]
    text = _forward_text(ix, node, true)
    if node.derivative:
        text += (f"   (recorded by the backward pass, create_graph{true}: this step computes "
                 "part of the derivative)")
    return text


def _forward_text(ix: TraceIndex, node: Node, true: str = "=True") -> str:
    if node.kind in ("input", "leaf"):
        one = _one_element(ix, node)
        return (f"{node.name} = {_fmt(node.value, node.shape)}   "
                f"(a leaf: created with requires_grad{true}{'; ' + node.name + ' is ' + one if one else ''})")
    if node.kind == "constant":
        return f"{node.name} is a constant: it needs no gradient"
    pairs = operands(ix, node.id)
    symbol = node.symbol or ""
    if symbol.startswith("^"):
        pairs = [p for p in pairs if p[1].kind != "constant"]
    names = [s.name for _, s in pairs]
    value = _fmt(node.value, node.shape)
    if all(one_number(s.value, s.shape) is not None for _, s in pairs) \
            and one_number(node.value, node.shape) is not None:
        operators = symbol in INFIX or symbol.startswith("^") or symbol in ("−x", "1/x")
        shown = [_fmt(s.value, s.shape) for _, s in pairs]
        numbers = formula(node, [term(v) for v in shown] if operators else shown)
        one = _one_element(ix, node)
        said = f"   ({node.name} is {one})" if one else ""
        sign = _forward_relation(symbol, [one_number(s.value, s.shape) for _, s in pairs],
                                 one_number(node.value, node.shape))
        return f"{node.name} = {formula(node, names)} = {numbers} {sign} {value}{said}"
    shapes = " , ".join(with_shape(s.name, s.shape) for _, s in pairs)
    text = f"{node.name} = {formula(node, names)}: {shapes} → {dims(node.shape)}"
    if symbol in REDUCTIONS and pairs:
        text += f" ({REDUCTIONS[symbol]} {_numel(pairs[0][1].shape)} entries)"
    entrywise = _entrywise_forward(node, pairs, symbol)
    if entrywise:
        return f"{text}\n   = {entrywise}"
    return f"{text} = {value}"


# A scalar step's operation on its operands, to check the rounded operands shown give the
# rounded result shown (else `≈`): the result itself is always PyTorch's.
SCALAR = {"log": math.log, "sin": math.sin, "cos": math.cos, "exp": math.exp, "tanh": math.tanh,
          "sqrt": math.sqrt, "1/x": lambda a: 1 / a, "relu": lambda a: max(a, 0.0),
          "sigmoid": lambda a: 1 / (1 + math.exp(-a))}


def _forward_relation(symbol: str, operands: list, result) -> str:
    """`=` when the operands as shown give the result as shown, `≈` when they do not
    (`(−0.5984)^2` shown to 4 digits need not square to the 0.3581 PyTorch computed)."""
    if symbol.startswith("^"):
        try:
            power = float(symbol[1:].replace("−", "-"))
        except ValueError:
            return "="
        function = lambda a: a ** power  # noqa: E731
    else:
        function = ENTRYWISE.get(symbol) or SCALAR.get(symbol)
    if function is None or result is None or None in operands:
        return "="
    try:
        return "=" if agrees(operands, result, lambda shown_: function(*shown_)) else "≈"
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):  # arity, domain: no claim
        return "="


ENTRYWISE = {"+": lambda a, b: a + b, "−": lambda a, b: a - b, "×": lambda a, b: a * b,
             "÷": lambda a, b: a / b, "−x": lambda a: -a}


def _entrywise_forward(node: Node, pairs: list, symbol: str) -> str | None:
    """A small tensor's forward arithmetic entry by entry: `(1, 2) ⊙ (3, 4) = (3, 8)`
    (⊙ where two tensors multiply; a scalar stays a factor); None past WHOLE_STEP entries
    or for an operation that is not entrywise."""
    result = numbers_of(node.value)
    columns = [numbers_of(s.value) for _, s in pairs]
    power = symbol.startswith("^") and len(pairs) == 1
    if result is None or not 1 < len(result) <= WHOLE_STEP or not (symbol in ENTRYWISE or power) \
            or any(c is None or len(c) not in (1, len(result)) for c in columns):
        return None
    args = [term(format_number(c[0])) if len(c) == 1 else entries(c) for c in columns]
    if power:
        try:
            k = float(symbol[1:].replace("−", "-"))
        except ValueError:
            return None
        numbers, combine = f"{args[0]}^{symbol[1:]}", lambda a: a ** k
    else:
        numbers = formula(node, args)
        combine = ENTRYWISE[symbol]
        if symbol == "×" and all(len(c) > 1 for c in columns):
            numbers = f"{args[0]} ⊙ {args[1]}"
    if len(columns) != (1 if power or symbol == "−x" else 2):
        return None
    full = [c * len(result) if len(c) == 1 else c for c in columns]
    try:
        sign = "=" if all(agrees(list(parts), r, lambda ps: combine(*ps)) for *parts, r in zip(*full, result)) \
            else "≈"
    except ZeroDivisionError:
        sign = "="
    return f"{numbers} {sign} {entries(result)}"


def local_derivative(node: Node, consumer: Node, pairs: list, position: int) -> str | None:
    """∂consumer/∂node written with names, for the operations a student meets first."""
    symbol = consumer.symbol or ""
    others = [s.name for i, (_, s) in enumerate(pairs) if i != position]
    first = position == 0
    c, n = consumer.name, node.name
    if symbol == "+":
        return "1"
    if symbol == "−":
        return "1" if first else "−1"
    if symbol == "×" and others:
        return others[0]
    if symbol == "÷" and len(pairs) == 2:
        return f"1/{others[0]}" if first else f"−{pairs[0][1].name}/{n}²"
    if symbol.startswith("^"):
        k = symbol[1:]
        return f"{k}·{n}" if k == "2" else f"{k}·{n}^({k}−1)"
    return {"log": f"1/{n}", "1/x": f"−1/{n}²", "sin": f"cos({n})", "cos": f"−sin({n})", "exp": c,
            "tanh": f"1 − {c}²", "sigmoid": f"{c}·(1 − {c})", "sqrt": f"1/(2·{c})",
            "−x": "−1", "relu": f"1 if {n} > 0 else 0"}.get(symbol)


def _contribution(ix, node, edge, consumer, out_name, op="+=") -> str:
    text = _one_contribution(ix, node, edge, consumer, out_name, op)
    count = repeats(ix, edge)
    if edge.entry:  # folded: this edge feeds the box's first repetition only
        return f"{text}\n   (into the first of {consumer.folded.count:,} repetitions)"
    return f"{text}\n   (the last of {count:,}, one per repetition)" if count > 1 else text


def _one_contribution(ix, node, edge, consumer, out_name, op="+=") -> str:
    """One edge's term of the chain rule: with names, then PyTorch's numbers; `op` is `=`
    for the node's first contribution, `+=` where another path adds to it."""
    pairs = operands(ix, consumer.id, first=bool(edge.entry))
    position = next((i for i, (e, _) in enumerate(pairs) if e is edge), 0)
    up_value = consumer.grad if edge.target_grad is ABSENT else edge.target_grad
    rule = _rule(ix, node, consumer, out_name, op)
    got = _fmt(edge.grad, node.shape)
    if is_custom(consumer):  # its grad_output is the upstream gradient: shown, as it went in
        upstream = _fmt(up_value, consumer.shape) if up_value is not None else \
            format_value(None, consumer.shape, grad_summary_of(consumer)) if consumer.shape else None
        given = f", given {bar(consumer.name)} = {upstream}," if upstream else ""
        return (f"{rule}\n   your backward of {consumer.symbol or consumer.op}{given} "
                f"returned {got}")
    local = local_derivative(node, consumer, pairs, position)
    named = (f"{bar(consumer.name)} {{}} {factor(local)}" if local else
             f"{bar(consumer.name)} {{}} ∂{consumer.name}/∂{node.name}")
    numbers = [numbers_of(v) for v in (up_value, edge.local_grad, edge.grad)]
    scalar_like = _numel(node.shape) == 1 and _numel(consumer.shape) == 1  # a number, or [1]
    if scalar_like and all(n is not None and len(n) == 1 for n in (numbers[0], numbers[2])) \
            and (numbers[1] is None or len(numbers[1]) == 1):
        # a number, or a 1-element tensor read as one; no local derivative when the upstream is 0
        up, result = numbers[0][0], numbers[2][0]
        lo = numbers[1][0] if numbers[1] is not None else None
        sign = "=" if lo is None or agrees([up, lo], result, _product) else "≈"
        local_text = term(format_number(lo)) if lo is not None else f"∂{consumer.name}/∂{node.name}"
        return (f"{rule}\n   = {named.format('·')}\n   = {term(format_number(up))} · "
                f"{local_text} {sign} {got}")
    how = _tensor_rule(node, consumer, pairs, position)
    count = max(_numel(node.shape), _numel(consumer.shape))
    if edge.local_kind == "derivative" and all(n is not None for n in numbers) \
            and len({len(n) for n in numbers}) == 1 and len(numbers[0]) <= WHOLE_STEP:
        up, lo, result = numbers
        sign = "=" if all(agrees([u, v], r, _product) for u, v, r in zip(up, lo, result)) else "≈"
        said = "" if how.startswith("entrywise") else f"\n   = {named.format('⊙')}"  # said once
        return (f"{rule}\n   {how}{said}\n   = upstream {entries(up)} ⊙ "
                f"local {entries(lo)} {sign} {entries(result)}")
    if count <= WHOLE_STEP and numbers[0] is not None and numbers[2] is not None:
        # no entrywise product (a sum, a matrix product): the entries that go in and come out
        up, result = (format_number(n[0]) if len(n) == 1 else entries(n)
                      for n in (numbers[0], numbers[2]))
        return f"{rule}\n   {how}\n   = upstream {up} → {result}"
    # a large gradient has no entries; up to WHOLE (8) the values above show them all
    first = ", with the first entries" if numbers[2] is not None and count > WHOLE else ""
    return (f"{rule}\n   {how} = {got}\n   ({count:,} entries: too many to show one by one, more "
            f"than {WHOLE_STEP}; so the rule and the shapes{first})")


def _rule(ix: TraceIndex, node: Node, consumer: Node, out_name: str, op: str) -> str:
    """The chain rule for one contribution. After a backward() from a scalar's 1 the gradients
    are derivatives, ∂loss/∂z; after any other seed (a grad_output, a tensor's ones) they are
    adjoints, z̄ = seed-weighted, and a rule in ∂ would be false. Into the output itself the
    outer factor is the seed and the inner one the output's local derivative (as ∂loss/∂loss ·
    ∂loss/∂z it read as circular); where the operation uses the node twice (x · x), each
    contribution is the derivative of one use."""
    left = f"∂{out_name}/∂{node.name}" if ix.plain_seed else bar(node.name)
    uses = sum(1 for e in ix.into.get(consumer.id, []) if e.source == node.id)
    which = f"one use of {node.name}" if uses > 1 else node.name
    if consumer.kind == "output":  # (one of the outputs, when a pass starts from several)
        seed = f"∂{out_name}/∂{out_name}" if ix.plain_seed else bar(consumer.name)
        return f"{left} {op} {seed} · {consumer.name}'s local derivative in {which}"
    upstream = f"∂{out_name}/∂{consumer.name}" if ix.plain_seed else bar(consumer.name)
    local = f"∂{consumer.name}/∂{node.name}" + (f" (one use of {node.name})" if uses > 1 else "")
    return f"{left} {op} {upstream} · {local}"


def _product(values):
    return math.prod(values)


def _tensor_rule(node, consumer, pairs, position) -> str:
    """What the vector-Jacobian product does to shapes, never an entrywise product."""
    symbol = consumer.symbol or ""
    up = f"{bar(consumer.name)} {dims(consumer.shape)}"
    if symbol in ("mm", "@", "matmul") and len(pairs) == 2:
        other = pairs[1 - position][1]
        other_t = transposed(other.name, other.shape)
        product = f"{up} @ {other_t}" if position == 0 else f"{other_t} @ {up}"
        return f"matrix product: {product} → {dims(node.shape)}"
    if symbol == "mv" and len(pairs) == 2:
        if position == 0:
            return f"outer product: {up} ⊗ {with_shape(pairs[1][1].name, pairs[1][1].shape)} → {dims(node.shape)}"
        matrix = pairs[0][1]
        return (f"matrix-vector product: {transposed(matrix.name, matrix.shape)} "
                f"@ {up} → {dims(node.shape)}")
    if symbol == "dot" and len(pairs) == 2:
        other = pairs[1 - position][1]
        return f"dot product: {up} times {with_shape(other.name, other.shape)} → {dims(node.shape)}"
    if symbol in LAYOUT:
        return (f"{symbol} only moves entries: the gradient is put back into "
                f"{node.name}'s layout {dims(node.shape)}, no arithmetic")
    if symbol in REDUCTIONS:
        count = _numel(node.shape)
        each = "the upstream gradient" if symbol == "sum" else f"the upstream gradient ÷ {count}"
        return f"{symbol} over {count} entries: each entry gets {each}, {up} → {dims(node.shape)}"
    pattern = PATTERNS.get(symbol)
    broadcast = (f", summed over the broadcast dimensions down to {dims(node.shape)}"
                 if _numel(node.shape) < _numel(consumer.shape) else "")
    local = local_derivative(node, consumer, pairs, position)
    how = pattern or (f"entrywise: {up} ⊙ ({local})" if local else
                      f"entrywise: {up} times ∂{consumer.name}/∂{node.name} entry by entry")
    return f"{how}{broadcast}; {node.name} is {dims(node.shape)}"


def backward_text(ix: TraceIndex, node: Node, out_name: str, seeded: bool,
                  language: str = "python") -> str:
    """How the node's gradient was assembled from its consumers' gradients."""
    grad = _fmt(node.grad, node.shape)
    if node.kind == "output":
        # ∂y/∂y = 1 is true of a number; a tensor's seed is ȳ (∂y/∂y would be the identity);
        # a pass from several outputs starts at each with its own
        seed = f"∂{node.name}/∂{node.name}" if _is_one(node.grad) else bar(node.name)
        text = f"{seed} = {grad}: backward starts at the output with {seed_words(node, seeded)}"
        if ix.trace.extra_pass:
            attr = _words(language)[0]
            text += (f"\n(the program's own backward() ran before {out_name} was computed: chainrule "
                     f"runs this pass on {out_name} itself and leaves every {attr} as the program left it)")
        return text
    nodes, reached = ix.nodes, ix.reached
    edges = [e for e in ix.out.get(node.id, [])  # a large gradient is left
             if e.grad is not None or e.target in reached]  # out of the JSON, not the text
    # `=` for the first contribution; `+=` only where a second path (or repetition) adds to it
    texts = [_contribution(ix, node, e, nodes[e.target], out_name,
                           "=" if i == 0 and repeats(ix, e) == 1 else "+=")
             for i, e in enumerate(edges)]
    patterns = {PATTERNS[nodes[e.target].symbol] for e in edges  # tensor lines name it
                if nodes[e.target].symbol in PATTERNS
                and _numel(node.shape) == 1 and _numel(nodes[e.target].shape) == 1}
    lines = texts + sorted(patterns)
    targets = [e.target for e in edges]
    for target in dict.fromkeys(t for t in targets if targets.count(t) > 1):  # x·x: x twice
        consumer = nodes[target]
        uses = [s.name for _, s in operands(ix, target)]
        times = {2: "twice", 3: "three times"}.get(targets.count(target), f"{targets.count(target)} times")
        lines.append(f"{node.name} is used {times} in {consumer.name} = "
                     f"{formula(consumer, uses)}: one contribution for each use")
    total = sum(repeats(ix, e) for e in edges)
    if total > len(edges):  # folded: the shown edges stand for more, their terms do not add up
        lines.append(f"{bar(node.name)} sums {total:,} contributions, one per repetition of the "
                     f"folded boxes it feeds (the lines above show one of each) = {grad}")
    elif len(edges) > 1:
        lines.append(f"{bar(node.name)} sums {len(edges)} contributions: "
                     f"{sum_text([e.grad for e in edges], node.grad, node.shape)}")
    if node.kind in ("input", "leaf"):
        lines.append(_grad_line(ix.trace, node, grad, language))
    plain = f"∂{out_name}/∂{node.name}" if ix.plain_seed else bar(node.name)
    return "\n".join(lines) if lines else f"{plain} = {grad}"


def sum_text(parts: list, total, shape) -> str:
    """`1.883 + (−0.8485) + (−2.793) = −1.758`; a small tensor's entries without its shape
    (said above); `≈` where the terms as shown do not add up to the total as shown."""
    small = shape and numbers_of(total) is not None and len(numbers_of(total)) <= WHOLE_STEP \
        and _numel(shape) > 1
    show = (lambda v: entries(numbers_of(v)) if numbers_of(v) is not None else _fmt(v, shape)) \
        if small else (lambda v: _fmt(v, shape))
    terms = " + ".join(term(show(p)) for p in parts)
    return f"{terms} {relation(parts, total)} {show(total)}"


def _is_one(value) -> bool:
    numbers = numbers_of(value)
    return numbers is not None and len(numbers) == 1 and numbers[0] == 1


def seed_words(node: Node, seeded: bool) -> str:
    """What backward() started with, as it is: 1, ones, or the gradient given (its numbers
    are the step's own, said just before)."""
    numbers = numbers_of(node.grad)
    if numbers is not None and all(v == 1 for v in numbers):
        if len(numbers) == 1:
            return "1"
        return "ones, one per entry" + (" (the grad_output given)" if seeded else "")
    return "the grad_output given" if seeded else "the gradient the program gave backward()"


# How the program's language writes a leaf's gradient, its absence and a flag set: `x.grad`,
# `None`, `requires_grad=True` in Python; `x$grad`, `NULL`, `requires_grad = TRUE` in R (the
# lesson a student pasted is read in its own words).
GRAD_WORDS = {"python": (".grad", "None", "=True"), "r": ("$grad", "NULL", " = TRUE")}


def _words(language) -> tuple[str, str, str]:
    return GRAD_WORDS.get(language, GRAD_WORDS["python"])


def _grad_line(trace: Trace, node: Node, grad: str, language: str = "python") -> str:
    """The leaf's `.grad` after the pass shown: this pass's gradient, unless earlier passes
    of the program had already added to it, or chainrule ran the pass itself; and what the
    program's later lines made of it (`zero_()`, a descent step), when they changed it."""
    accumulated = given(node.accumulated)
    attr, none, _ = _words(language)
    name = node.name
    if trace.extra_pass:
        kept = none if accumulated is None else _fmt(accumulated, node.shape)
        return f"{name}{attr} stays {kept}, as the program left it (this pass is chainrule's own)"
    after = accumulated if node.after_pass is ABSENT else node.after_pass  # .grad right after the pass
    if after is None and node.grad is not None:
        # .grad unset right after the pass and at the end, though the pass reached the leaf
        # with a listed gradient: torch.autograd.grad returns gradients, it adds to no .grad
        return (f"{name}{attr} stays {none}: this pass returned the gradient to the program "
                f"instead of adding it to {name}{attr}")
    if after is None or after == node.grad:
        line = f"{name}{attr} = {grad}"
    elif isinstance(after, (int, float)) and isinstance(node.grad, (int, float)):
        earlier = _fmt(after - node.grad, node.shape)
        sign = relation([after - node.grad, node.grad], after)
        line = (f"{name}{attr} = {term(earlier)} + {term(grad)} {sign} {_fmt(after, node.shape)}: "
                f"{attr} adds this pass to the earlier ones")
    else:
        line = (f"{name}{attr} = {_fmt(after, node.shape)}: {attr} adds this pass's {grad} to "
                "the earlier passes'")
    if after is not None and accumulated != after:
        ended = none if accumulated is None else _fmt(accumulated, node.shape)
        line += f"; the program's later lines then made it {ended}"
    return line


def explanations(ix: TraceIndex, seeded: bool = False, language: str = "python") -> dict:
    """{"forward": {id: text}, "backward": {id: text}} for every step, in the words of the
    program's language where they name its code (`x$grad` in R)."""
    trace, nodes = ix.trace, ix.nodes
    outputs = [n for n in trace.nodes if n.kind == "output"]
    output = outputs[0] if outputs else None
    out_name = output.name if output else "y"
    # one scalar output's backward from 1: gradients are derivatives (else adjoints: _rule)
    ix.plain_seed = derivatives([(n.shape, n.grad) for n in outputs])
    # dict.fromkeys: a folded trace (folding.py) steps one box many times; one text each
    return {"forward": {i: forward_text(ix, nodes[i], language) for i in dict.fromkeys(trace.forward)},
            "backward": {i: backward_text(ix, nodes[i], out_name, seeded, language)
                         for i in dict.fromkeys([*trace.backward, *unreached(trace)])}}
