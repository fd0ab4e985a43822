"""Property tests: random programs of the language agree with plain PyTorch, and the
validator lets through nothing but whitelisted syntax."""
from __future__ import annotations

import ast

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings, strategies as st

from webapp.errors import ChainruleError
from webapp.engine.evaluation import trace_values
from webapp.language.validator import parse_program
from webapp.limits import DEFAULT_LIMITS

from . import seeds

# Each operation: how it is written in the language, and the same thing in plain torch.
UNARY = [
    ("sin({})", torch.sin), ("cos({})", torch.cos), ("torch.tanh({})", torch.tanh),
    ("sigmoid({})", torch.sigmoid), ("square({})", torch.square), ("({}) ** 2", lambda a: a ** 2),
    ("-({})", lambda a: -a), ("exp(tanh({}))", lambda a: torch.exp(torch.tanh(a))),
    ("log(1 + ({}) ** 2)", lambda a: torch.log(1 + a ** 2)), ("relu({})", torch.relu),
    ("sqrt(1 + abs({}))", lambda a: torch.sqrt(1 + a.abs())), ("({}) * 0.5", lambda a: a * 0.5),
]
BINARY = [
    ("({}) + ({})", lambda a, b: a + b), ("({}) - ({})", lambda a, b: a - b),
    ("({}) * ({})", lambda a, b: a * b), ("({}) / (1 + ({}) ** 2)", lambda a, b: a / (1 + b ** 2)),
    ("maximum({}, {})", torch.maximum), ("torch.minimum({}, {})", torch.minimum),
]


def _operand(text: str, spelled: str, constant: bool) -> str:
    """A plain number passed to `torch.f` is PyTorch's TypeError (a bare `f` takes it), so
    the grammar writes it as `torch.tensor(...)` there, as a PyTorch user must."""
    return f"torch.tensor({spelled})" if constant and text.startswith("torch.") else spelled


@st.composite
def _expressions(draw, depth=0):
    """(source text, a function of the inputs computing the same thing, is it a constant)."""
    choice = draw(st.integers(0, 9 if depth < 3 else 2))
    if choice <= 1:
        name = draw(st.sampled_from(["x", "y"]))
        return name, lambda env, n=name: env[n], False
    if choice == 2:
        value = draw(st.sampled_from([0.5, 2, 3.0, -1.5]))
        return repr(value), lambda env, v=value: v, True
    if choice <= 6:
        text, fn = draw(st.sampled_from(UNARY))
        inner, inner_fn, constant = draw(_expressions(depth + 1))
        return (text.format(_operand(text, inner, constant)),
                lambda env: fn(torch.as_tensor(inner_fn(env))), constant)
    text, fn = draw(st.sampled_from(BINARY))
    (left, lfn, lc), (right, rfn, rc) = draw(_expressions(depth + 1)), draw(_expressions(depth + 1))
    return (text.format(_operand(text, left, lc), _operand(text, right, rc)),
            lambda env: fn(torch.as_tensor(lfn(env)), torch.as_tensor(rfn(env))), lc and rc)


@st.composite
def expressions(draw):
    """(source text, a function of the input tensors computing the same thing)."""
    text, fn, _ = draw(_expressions())
    return text, fn


@st.composite
def programs(draw):
    """A program: an expression, maybe split into assignments, maybe inside a def."""
    source, fn = draw(expressions())
    style = draw(st.sampled_from(["expression", "assignment", "def", "loop"]))
    if style == "assignment":
        source = f"t = {source}\nout = t + x * y\nout"
        inner = fn
        fn = lambda env: inner(env) + env["x"] * env["y"]
    elif style == "def":
        source = f"def g(x, y):\n    return {source}\n\ng(x, y) * 2"
        inner = fn
        fn = lambda env: inner(env) * 2
    elif style == "loop":
        source = f"acc = 0\nfor i in range(3):\n    acc = acc + ({source}) * i\nacc"
        inner = fn
        fn = lambda env: sum(inner(env) * i for i in range(3))
    return source, fn


values = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), values, values)
def test_random_programs_match_plain_pytorch(program, x, y):
    source, fn = program
    result = trace_values(source, {"x": x, "y": y}, None, DEFAULT_LIMITS)
    env = {"x": torch.tensor(x, requires_grad=True), "y": torch.tensor(y, requires_grad=True)}
    expected = torch.as_tensor(fn(env)).float()
    assert torch.isclose(torch.tensor(float(result["output"]["value"])), expected.detach(),
                         rtol=1e-5, atol=1e-5)
    if expected.requires_grad:
        expected.backward()
    for name in ("x", "y"):
        if name not in result["leaves"]:
            continue  # the name does not occur in this program
        want = env[name].grad
        got = result["leaves"][name]["grad"]
        if want is None:
            assert got is None or got == 0.0
        else:
            assert abs(got - want.item()) <= 1e-4 * max(1.0, abs(want.item())), (source, name)


# The language's syntax as README.md describes it, written out here rather than imported
# from the validator: a test that read the validator's own list would pass whatever the
# validator let through. Mutation: allow lambda (ast.Lambda into ALLOWED_NODES and out of
# REFUSED, which is checked first): both properties below fail on "lambda: 1".
LANGUAGE_SYNTAX = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.While, ast.For,
    ast.Break, ast.Continue, ast.Pass, ast.FunctionDef, ast.Return, ast.With,
    ast.withitem, ast.ClassDef, ast.arguments, ast.arg, ast.Name, ast.Load, ast.Store,
    ast.Constant, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.keyword,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.IfExp,
    ast.Import, ast.ImportFrom, ast.alias, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)
# Constructs outside the language, each written once so hypothesis always tries them.
OUTSIDE = ["lambda: 1", "(lambda x: x)(2)", "[i for i in range(3)]", "(i for i in x)",
           "{1: 2}", "{1, 2}", "del x", "global x", "x := 1", "try:\n    pass\nfinally:\n    pass",
           "async def f():\n    pass", "yield 1", "x[...]", "*a, b = x", "assert x", "x: int = 1",
           "raise ValueError"]


def _only_whitelisted(tree) -> bool:
    return all(isinstance(node, LANGUAGE_SYNTAX) for node in ast.walk(tree))


def _examples(texts):
    def decorate(test):
        for text in texts:
            test = example(text)(test)
        return test
    return decorate


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
@_examples(OUTSIDE)
def test_random_text_is_refused_or_whitelisted(text):
    try:
        program = parse_program(text)
    except ChainruleError as error:
        assert error.kind in {"syntax", "unsupported", "limit"} and error.message
        return
    assert _only_whitelisted(program.tree)


SEED_SOURCES = [seeds.SEED001_QUADRATIC, seeds.SEED001_ROSENBROCK, seeds.SEED004_HELPERS,
                seeds.SEED003_CONTROL_FLOW, seeds.SEED000_RELU_EXERCISE]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SEED_SOURCES), st.integers(0, 10_000), st.integers(1, 12),
       st.text(alphabet="_.()[]:=#'\"\\ \nxabcdefimport_os0123456789+-*/@{}", max_size=12))
@example(seeds.SEED001_QUADRATIC, 0, 0, "f = lambda v: v\n")
@example(seeds.SEED004_HELPERS, 0, 0, "del w1\n")
def test_mutated_seeds_are_refused_or_whitelisted(source, position, cut, insert):
    position %= len(source) + 1
    text = source[:position] + insert + source[position + cut:]
    try:
        program = parse_program(text)
    except ChainruleError as error:
        assert error.kind in {"syntax", "unsupported", "limit"}
        return
    assert _only_whitelisted(program.tree)


def test_a_number_given_to_torch_functions_is_refused_as_pytorch_refuses_it():
    """`torch.tanh(0.5)` is PyTorch's TypeError; bare `tanh(0.5)` reads as maths and works.

    Found by hypothesis in test_trace_defects (chainrule answered 0.462 where PyTorch
    refuses). Mutation: `converts = True` in calls.call_torch (torch.tanh(0.5) answers)."""
    with pytest.raises(TypeError):
        torch.tanh(0.5)  # the oracle: plain PyTorch
    with pytest.raises(ChainruleError, match="must be Tensor, not float"):
        trace_values("torch.tanh(0.5) * x", {"x": 1.0}, None, DEFAULT_LIMITS)
    with pytest.raises(ChainruleError, match="must be Tensor"):
        trace_values("torch.minimum(x, 0.5)", {"x": 1.0}, None, DEFAULT_LIMITS)
    bare = trace_values("tanh(0.5) * x", {"x": 1.0}, None, DEFAULT_LIMITS)
    assert abs(float(bare["output"]["value"]) - torch.tanh(torch.tensor(0.5)).item()) < 1e-6
