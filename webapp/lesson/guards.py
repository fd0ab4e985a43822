"""Misconception guards: short notes next to a line that does a classic autograd mistake.

Found from the program's syntax tree (parsed only, never run) and, where it needs the
run, from the trace's nodes (which names hold non-leaf or non-scalar tensors).
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from ..memo import MiB, bytes_bounded
from ..model import Node

MESSAGES = {
    "grad-before-backward": "{name}.grad is read before any backward() ran, so it is still None.",
    "non-leaf-grad": "{name} is computed from other tensors (not a leaf), so {name}.grad stays "
                     "None; call {name}.retain_grad() before backward() to keep it.",
    "integer-tensor": "torch.tensor({value}, requires_grad=True) makes an integer tensor, which "
                      "cannot have a gradient: write {value}.0.",
    "accumulate": "Gradients add up across backward() calls: .grad now holds the sum; zero it "
                  "(x.grad = None or x.grad.zero_()) between calls.",
    "retain-graph": "A second backward() through the same graph needs retain_graph=True in "
                    "the first: PyTorch frees the saved values after backward().",
    "non-scalar-backward": "{name} is not a single number, so {name}.backward() needs a gradient "
                           "of its shape, e.g. {name}.backward(torch.ones_like({name})).",
    "gradcheck-float32": "gradcheck compares with finite differences, which float32 is too coarse "
                         "for: give it float64 inputs (dtype=torch.float64).",
}


def _guard(node, kind, **words) -> dict:
    return {"line": getattr(node, "lineno", None), "kind": kind,
            "message": MESSAGES[kind].format(**words)}


def _is_call(node, *names) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in names


def _keyword_true(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in call.keywords)


def _integer_literal(node) -> str | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return str(node.value)
    if isinstance(node, ast.List) and node.elts and all(_integer_literal(e) for e in node.elts):
        return _integer_literal(node.elts[0])
    return None


CREATORS = {"tensor", "zeros", "ones", "rand", "randn", "arange", "full", "empty", "linspace",
            "zeros_like", "ones_like", "randn_like", "rand_like", "eye", "requires_grad_"}


def _computed_names(tree) -> set[str]:
    """Names assigned from arithmetic or a call that makes a new tensor from others."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and (
                isinstance(node.value, (ast.BinOp, ast.UnaryOp))
                or (isinstance(node.value, ast.Call) and not _is_call(node.value, *CREATORS))):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _made_leaves(nodes) -> set[str]:
    """Names a program turns into leaves after computing them: `x2 = torch.Tensor([0.0]).double();
    x2.requires_grad = True` (Karpathy's micrograd check) or `x2.requires_grad_()`."""
    names = set()
    for node in nodes:
        if isinstance(node, ast.Assign):
            names |= {t.value.id for t in node.targets if isinstance(t, ast.Attribute)
                      and t.attr == "requires_grad" and isinstance(t.value, ast.Name)}
        elif _is_call(node, "requires_grad_") and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            names.add(node.func.value.id)
    return names


def _base_name(node) -> str | None:
    """The name a chain of method calls starts from: y in `y.sum().backward()`."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value
    return node.id if isinstance(node, ast.Name) else None


@dataclass(frozen=True)
class _Syntax:
    """What the guards read from a program's tree: the same for every run of one source."""

    computed: frozenset
    made_leaves: frozenset
    calls: tuple
    backwards: tuple
    retained: frozenset
    in_loop: frozenset
    zeroes: bool
    grad_reads: tuple
    assigned: tuple


@bytes_bounded(16 * MiB)
def _syntax(source: str) -> _Syntax | None:
    """Parsed and walked once per source (a point change runs the same text again)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None  # not Python (an R program): no guards
    nodes = list(ast.walk(tree))
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    backwards = sorted((c for c in calls if _is_call(c, "backward")), key=lambda c: c.lineno)
    return _Syntax(
        computed=frozenset(_computed_names(tree)),
        made_leaves=frozenset(_made_leaves(nodes)),
        calls=tuple(calls), backwards=tuple(backwards),
        retained=frozenset(c.func.value.id for c in calls if _is_call(c, "retain_grad")
                           and isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name)),
        in_loop=frozenset(id(c) for loop in nodes if isinstance(loop, (ast.For, ast.While))
                          for c in ast.walk(loop) if _is_call(c, "backward")),
        zeroes=any(_is_call(c, "zero_", "zero_grad") for c in calls) or any(
            isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "grad"
                                              for t in n.targets) for n in nodes),
        grad_reads=tuple(n for n in nodes if isinstance(n, ast.Attribute) and n.attr == "grad"
                         and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name)),
        assigned=tuple((t.id, n.lineno) for n in nodes if isinstance(n, ast.Assign)
                       for t in n.targets if isinstance(t, ast.Name)))


def find_guards(source: str, nodes: list[Node] = ()) -> list[dict]:
    """[{line, kind, message}] for each mistake the program makes, in line order; `nodes`
    are the trace's, named (naming.assign_names), when the program ran."""
    syntax = _syntax(source)
    if syntax is None:
        return []
    # the program's own names: a reassigned name is numbered in `name` (y₁, y₂), not in `label`
    non_leaf = {n.label or n.name for n in nodes if n.named and n.kind in ("op", "output")}
    non_leaf |= syntax.computed - syntax.made_leaves  # the run may have ended before a graph
    # backward() without a gradient needs more than one entry to be refused (a [1] is fine)
    tensor_names = {n.label or n.name if n.named else n.name for n in nodes
                    if n.shape and math.prod(n.shape) > 1 and n.kind in ("op", "output")}
    calls, backwards, retained = syntax.calls, list(syntax.backwards), syntax.retained
    in_loop, zeroes, assigned = syntax.in_loop, syntax.zeroes, syntax.assigned
    found = []
    first_backward = backwards[0].lineno if backwards else None
    for node in syntax.grad_reads:
        name = node.value.id
        if first_backward is None or node.lineno < first_backward:
            found.append(_guard(node, "grad-before-backward", name=name))
        elif name in non_leaf and name not in retained:
            found.append(_guard(node, "non-leaf-grad", name=name))
    for call in calls:
        if _is_call(call, "tensor") and _keyword_true(call, "requires_grad") and call.args:
            value = _integer_literal(call.args[0])
            if value is not None:
                found.append(_guard(call, "integer-tensor", value=value))
        if _is_call(call, "gradcheck", "gradgradcheck") and "float64" not in source \
                and "double" not in source:
            found.append(_guard(call, "gradcheck-float32"))
    if backwards and (len(backwards) > 1 or in_loop) and not zeroes:
        found.append(_guard(backwards[1] if len(backwards) > 1 else backwards[0], "accumulate"))
    receivers = [c.func.value.id if isinstance(c.func, ast.Attribute)
                 and isinstance(c.func.value, ast.Name) else None for c in backwards]
    # whose graph each pass goes through: y for `y.backward()` and `y.sum().backward()`, a
    # name the program assigned (never `torch` of `torch.sum(y)`), else unknown (no guard)
    names = {name for name, _ in assigned}
    bases = [_base_name(c.func.value) if isinstance(c.func, ast.Attribute) else None for c in backwards]
    bases = [base if base in names else None for base in bases]
    for index, call in enumerate(backwards):
        receiver, base = receivers[index], bases[index]
        earlier = max((i for i in range(index) if bases[i] == base), default=None) if base else None
        rebuilt = earlier is not None and any(  # a new graph under the same name is fine
            name == base and backwards[earlier].lineno < line <= call.lineno
            for name, line in assigned)
        if earlier is not None and not rebuilt and not _keyword_true(backwards[earlier], "retain_graph"):
            found.append(_guard(call, "retain-graph"))
        if receiver in tensor_names and not call.args and not call.keywords:
            found.append(_guard(call, "non-scalar-backward", name=receiver))
    return sorted(found, key=lambda g: (g["line"] or 0, g["kind"]))
