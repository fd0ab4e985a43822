"""R torch lessons, pasted as they are, give the seeds' numbers and Python's graphs.

Oracles: the seeds' own printed R output, plain PyTorch run here independently, and the
trace of the equivalent Python program (the Python front end, tested on its own).
"""
from __future__ import annotations

import pytest
import torch

from webapp.errors import ChainruleError
from webapp.engine.evaluation import RANDOM_SEED, trace_values
from webapp.language.frontend import source_language

from . import r_seeds as R
from . import seeds


def run_r(source, limits, **inputs):
    with source_language("r"):
        return trace_values(source, inputs, None, limits)


def run_python(source, limits, **inputs):
    return trace_values(source, inputs, None, limits)


def graph_of(result):
    """What must be equal node for node: ops, names, values, grads, edges and orders."""
    keep = ("id", "kind", "label", "op", "value", "grad", "shape")
    nodes = [{k: n.get(k) for k in keep} for n in result["nodes"]]
    edges = [{k: e.get(k) for k in ("source", "target", "local_grad", "grad")} for e in result["edges"]]
    return nodes, edges, result["forward"], result["backward"]


# The Python an R torch user would write by hand for seed 001's x1..x7: R's
# torch_tensor(2) is a float tensor of shape {1}, so [2.0].
PYTHON_QUADRATIC = seeds.SEED001_QUADRATIC.replace("torch.tensor(2.0,", "torch.tensor([2.0],")


def test_seed001_nodes_give_minus_3_4(limits):
    """Mutation: `torch_tensor(2)` emitted as `[2]` (an integer tensor) fails: no grad allowed."""
    result = run_r(R.SEED001_CREATE + R.SEED001_NODES, limits)
    assert result["output"]["value"] == pytest.approx([-3.4])
    assert result["output"]["shape"] == [1] and result["output"]["dtype"] == "float32"


def test_seed001_requires_grad_and_gradients(limits):
    """Mutation: translating `$grad` to `_r_field` (named lists only) refuses x1$grad."""
    session = R.SEED001_CREATE + R.SEED001_NODES + R.SEED001_REQUIRES_GRAD
    with source_language("r"):
        from webapp.engine.evaluation import run_program
        assert run_program(session, {}, limits).output is True
    session += R.SEED001_BACKWARD + R.SEED001_GRAD_X1
    result = run_r(session, limits)
    assert result["output"]["value"] == pytest.approx([0.8])
    assert result["leaves"]["x1"]["grad"] == pytest.approx([0.8])
    assert result["leaves"]["x2"]["grad"] == pytest.approx([0.8])
    assert run_r(session + R.SEED001_GRAD_X2, limits)["output"]["value"] == pytest.approx([0.8])


def test_seed001_graph_equals_python(limits):
    """Mutation: emitting `x1.square()` as `x1 ** 2` changes nothing... but `x * 0.2` as
    `0.2 * x` swaps the edges' inputs and fails here."""
    r_graph = graph_of(run_r(R.SEED001_CREATE + R.SEED001_NODES, limits))
    assert r_graph == graph_of(run_python(PYTHON_QUADRATIC, limits))
    assert [n["label"] for n in run_r(R.SEED001_CREATE + R.SEED001_NODES, limits)["nodes"]
            if n["kind"] != "constant"] == ["x1", "x2", "x3", "x5", "x4", "x6", "+", "x7"]


def seed_table():
    return [line[3:] for line in R.SEED001_LOOP_OUTPUT.split("\n")]


def test_seed001_rosenbrock_loop_prints_the_seeds_table(limits):
    """The loop's cat() lines equal the seed's printed lines, all thirty, character for
    character (0.3502924, -0.667685 -0.5771312, 6.962555e-05). Mutation: `%.6g` instead of
    R's 7 significant digits in r_number fails; so does `1:n` excluding n (no 1000th line)."""
    source = R.SEED001_ROSENBROCK + R.SEED001_LOOP + R.SEED001_FINAL_X
    result = run_r(source, limits)
    # cat("...", "\n") ends each line with a space; the seed's last line lost it in copying.
    assert [line.rstrip() for line in result["prints"]] == [line.rstrip() for line in seed_table()]
    assert result["prints"][:-1] == seed_table()[:-1]
    assert [round(v, 4) for v in result["output"]["value"]] == [0.9918, 0.9830]


def test_seed001_loop_graph_equals_python(limits):
    """The last iteration's graph of `value` equals the Python loop's (tests/seeds.py).
    Mutation: `x[1]` translated to `x[1]` (0-based by mistake) fails."""
    r_source = R.SEED001_ROSENBROCK + R.SEED001_LOOP.replace("1000", "5") + "value\n"
    python = seeds.SEED001_DESCENT.replace("1000", "5").rsplit("\nx", 1)[0] + "\nvalue"
    assert graph_of(run_r(r_source, limits)) == graph_of(run_python(python, limits))


def test_seed001_rosenbrock_function_with_an_input(limits):
    """Mutation: dropping the implicit return (R functions return their last value) fails."""
    r_result = run_r(R.SEED001_ROSENBROCK + "rosenbrock(x)\n", limits, x=[-1, 1])
    assert graph_of(r_result) == graph_of(run_python(seeds.SEED001_ROSENBROCK, limits, x=[-1, 1]))
    x = torch.tensor([-1.0, 1.0], requires_grad=True)
    ((1 - x[0]) ** 2 + 5 * (x[1] - x[0] ** 2) ** 2).backward()
    assert r_result["leaves"]["x"]["grad"] == pytest.approx(x.grad.tolist())


def test_seed001_with_no_grad_snippet_takes_one_step(limits):
    """The with_no_grad block, after one backward, is one step of gradient descent.
    Mutation: translating with_no_grad as a plain block fails (in-place on a leaf)."""
    source = ("lr <- 0.01\n" + R.SEED001_ROSENBROCK + R.SEED001_START
              + "value <- rosenbrock(x)\nvalue$backward()\n" + R.SEED001_NO_GRAD + "x\n")
    x = torch.tensor([-1.0, 1.0], requires_grad=True)
    ((1 - x[0]) ** 2 + 5 * (x[1] - x[0] ** 2) ** 2).backward()
    expected = (x.detach() - 0.01 * x.grad).tolist()
    assert run_r(source, limits)["output"]["value"] == pytest.approx(expected)


def test_seed001_not_yet_correct_loop_is_refused_as_pytorch_refuses_it(limits):
    """The seed's "not the correct procedure yet" loop updates a leaf in place."""
    source = ("num_iterations <- 3\nlr <- 0.01\n" + R.SEED001_ROSENBROCK + R.SEED001_START
              + R.SEED001_NOT_YET_CORRECT)
    with pytest.raises(ChainruleError) as caught:
        run_r(source, limits)
    assert caught.value.kind == "runtime" and "in place" in caught.value.message
    assert caught.value.line == source.split("\n").index("  x$sub_(lr * x$grad)") + 1


LAB_SOLUTION = """b0_hat <- torch_tensor(0, requires_grad = TRUE)
b1_hat <- torch_tensor(0, requires_grad = TRUE)
for (i in 1:2000) {
  loss <- ((b0_hat + b1_hat * x - y)^2)$mean()
  loss$backward()
  with_no_grad({
    b0_hat$sub_(0.1 * b0_hat$grad)
    b1_hat$sub_(0.1 * b1_hat$grad)
    b0_hat$grad$zero_()
    b1_hat$grad$zero_()
  })
}
c(as.numeric(b0_hat), as.numeric(b1_hat))
"""


def test_seed001_lab_starter_runs_and_descent_finds_least_squares(limits):
    """The lab's starter (set.seed, runif, rnorm) runs; R's generator is not PyTorch's, so
    the oracle is the closed-form least-squares line through the x, y it drew.
    Mutation: `max - min` swapped in `_r_runif` (x drawn in (-2, 0]) fails the range check."""
    with source_language("r"):
        from webapp.engine.evaluation import run_program
        data = run_program(R.SEED001_LAB + "x\n", {}, limits)
        x = data.output.detach().double()
        y = data.interpreter.scope.values["y"].detach().double()
    assert 0 <= x.min() and x.max() < 2 and len(x) == 200
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    intercept = y.mean() - slope * x.mean()
    fitted = run_r(R.SEED001_LAB + LAB_SOLUTION, limits)["output"]["value"]
    assert fitted == pytest.approx([intercept.item(), slope.item()], abs=1e-3)


def test_seed002_line_breaks_are_the_only_change():
    assert R.SEED002_NETWORK.replace("\n", " ") == R.SEED002_FLAT


def printed_losses(prints):
    return {int(line.split()[1]): float(line.split(":")[2]) for line in prints}


def test_seed002_network_loss_falls_as_the_seed_shows(limits):
    """Full sizes (N=64, D_in=1000, H=100, D_out=10, 500 steps) fit the limits. R's random
    numbers are not PyTorch's, so the oracle is plain PyTorch from the same seed; the shape
    is the seed's (33210170 → 4.690059e-05). Mutation: `to_index` shifting a logical mask
    like numbers (`v$input < 0`) fails; so does not skipping `#` comments in the lexer."""
    result = run_r(R.SEED002_NETWORK, limits)
    losses = printed_losses(result["prints"])
    assert list(losses) == [1, 100, 200, 300, 400, 500]
    values = list(losses.values())
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[0] > 1e6 and values[-1] < 1e-3

    torch.random.default_generator.manual_seed(RANDOM_SEED)
    x, y = torch.randn(64, 1000), torch.randn(64, 10)
    w1 = torch.randn(1000, 100, requires_grad=True)
    w2 = torch.randn(100, 10, requires_grad=True)
    expected = {}
    for t in range(1, 501):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        if t % 100 == 0 or t == 1:
            expected[t] = loss.item()
        loss.backward()
        with torch.no_grad():
            w1 -= 1e-6 * w1.grad
            w2 -= 1e-6 * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    for t, value in expected.items():
        assert losses[t] == pytest.approx(value, rel=1e-4, abs=1e-9)


PYTHON_NETWORK = seeds.MY_RELU.replace("MyReLU", "my_relu") + """N, D_in, H, D_out = 64, 1000, 100, 10
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)
w1 = torch.randn(D_in, H, requires_grad=True)
w2 = torch.randn(H, D_out, requires_grad=True)
learning_rate = 1e-6
for t in range(1, 3 + 1):
    y_pred = my_relu.apply(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        w1.sub_(learning_rate * w1.grad)
        w2.sub_(learning_rate * w2.grad)
        w1.grad.zero_()
        w2.grad.zero_()
y_pred = my_relu.apply(x.mm(w1)).mm(w2)
loss = (y_pred - y).pow(2).sum()"""


def test_seed002_graph_equals_python(limits):
    """3 steps instead of 500 (the graph is the same each step), then the next loss.
    Mutation: exchanging a BinOp's operands in r_calls.binary fails."""
    r_source = R.SEED002_NETWORK.replace("seq_len(500)", "seq_len(3)") + \
        "\ny_pred <- my_relu(x$mm(w1))$mm(w2)\nloss <- (y_pred - y)$pow(2)$sum()\n"
    r_result = run_r(r_source, limits)
    assert graph_of(r_result) == graph_of(run_python(PYTHON_NETWORK, limits))
    assert "my_relu" in [n["label"] for n in r_result["nodes"]]


NEEDS_INPUT_GRAD_RELU = """my_relu <- autograd_function(
  forward = function(ctx, input) {
    ctx$save_for_backward(input = input)
    input$clamp(min = 0)
  },
  backward = function(ctx, grad_output) {
    input <- ctx$saved_variables$input
    grad_input <- NULL
    if (ctx$needs_input_grad$input) grad_input <- grad_output * (input > 0)
    list(input = grad_input)
  }
)
x <- torch_tensor(c(-2, 0.5, 3), requires_grad = TRUE)
my_relu(x)$sum()
"""


def test_needs_input_grad_and_saved_variables_by_name(limits):
    """Oracle: torch.relu's gradient. Mutation: `_r_named` zipping names in reverse fails."""
    result = run_r(NEEDS_INPUT_GRAD_RELU, limits)
    x = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    torch.relu(x).sum().backward()
    assert result["leaves"]["x"]["grad"] == pytest.approx(x.grad.tolist())
    assert "my_relu" in [n["label"] for n in result["nodes"]]


@pytest.mark.parametrize("r_source, python_source", [
    ("x <- torch_tensor(c(1, 2, 3, 4), requires_grad = TRUE)\nx[2:3]$sum()",
     "x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)\nx[1:3].sum()"),
    ("m <- torch_ones(2, 3, requires_grad = TRUE)\n(m * 2)$sum(dim = 1)$sum()",
     "m = torch.ones(2, 3, requires_grad=True)\n(m * 2).sum(dim=0).sum()"),
    ("m <- torch_ones(2, 3, requires_grad = TRUE)\ntorch_sum(m^2, 2)$mean()",
     "m = torch.ones(2, 3, requires_grad=True)\ntorch.sum(m**2, 1).mean()"),
    ("w <- torch_tensor(c(1, -2), requires_grad = TRUE)\nn <- 2\nfor (i in seq_len(n)) w <- w * i\nw[n]",
     "w = torch.tensor([1.0, -2.0], requires_grad=True)\nn = 2\nfor i in range(1, n + 1):\n"
     "    w = w * i\nw[n - 1]"),
    ("f <- function(a) {\n  if (a$sum() > 0) a %*% a else -a$sum()\n}\n"
     "v <- torch_tensor(c(1, 2), requires_grad = TRUE)\nf(v)",
     "def f(a):\n    if a.sum() > 0:\n        return a @ a\n    else:\n        return -a.sum()\n"
     "v = torch.tensor([1.0, 2.0], requires_grad=True)\nf(v)"),
])
def test_r_semantics_give_the_python_graph(r_source, python_source, limits):
    """1-based and inclusive indices, 1-based dim, seq_len, implicit return of an if.
    Mutation: `_r_dim` returning dim unchanged makes the second and third rows fail."""
    assert graph_of(run_r(r_source, limits)) == graph_of(run_python(python_source, limits))


def test_r_gallery_examples_run(limits):
    """Every R example of the gallery runs and is read as R."""
    from webapp.web.examples import EXAMPLES
    from webapp.language.frontend import detect_language
    r_examples = [e for e in EXAMPLES if e.slug.startswith("r-")]
    assert len(r_examples) == 5
    for example in r_examples:
        assert detect_language(example.source) == "r"
        result = run_r(example.source, limits, **example.inputs)
        assert result["nodes"], example.slug


def test_named_list_of_gradients_is_put_in_forward_order(limits):
    """backward returns list(b = ..., a = ...): R matches by name. Oracle: d(ab)/da = b.
    Mutation: tail_return not wrapping in `_r_grads` gives p the gradient 3."""
    source = """mul <- autograd_function(
  forward = function(ctx, a, b) {
    ctx$save_for_backward(a = a, b = b)
    a * b
  },
  backward = function(ctx, grad_output) {
    s <- ctx$saved_variables
    list(b = grad_output * s$a, a = grad_output * s$b)
  }
)
p <- torch_tensor(3, requires_grad = TRUE)
q <- torch_tensor(5, requires_grad = TRUE)
mul(p, q)$sum()
"""
    result = run_r(source, limits)
    assert result["leaves"]["p"]["grad"] == pytest.approx([5.0])
    assert result["leaves"]["q"]["grad"] == pytest.approx([3.0])


def test_nodes_keep_r_names_for_fields(limits):
    """`x$grad` used as a value is a constant node named `x$grad`; `g <- x$grad` is named g.
    Mutation: `_r_grad` not announcing the name shows the number 4 instead."""
    source = "x <- torch_tensor(2, requires_grad = TRUE)\ny <- x^2\ny$backward()\n"
    labels = [n["label"] for n in run_r(source + "z <- x * x$grad\nz", limits)["nodes"]]
    assert labels == ["x", "x$grad", "z"]
    labels = [n["label"] for n in run_r(source + "g <- x$grad\nz <- x * g\nz", limits)["nodes"]]
    assert labels == ["x", "g", "z"]


def test_autograd_grad_backward_while_return_and_right_assign(limits):
    """Oracles: d/dx sum(x^3) = 3x^2; d(x*x)/dx = 2x; d/dx 8 sin(x) = 8 cos(x).
    Mutation: translating `->` with its sides swapped fails the third program."""
    import math
    source = ("x <- torch_tensor(c(1, 2), requires_grad = TRUE)\ny <- (x^3)$sum()\n"
              "g <- autograd_grad(list(y), list(x), create_graph = TRUE)\ng[[1]]$sum()")
    assert run_r(source, limits)["output"]["value"] == pytest.approx(3 * 1 + 3 * 4)
    source = "x <- torch_tensor(3, requires_grad = TRUE)\ny <- x * x\nautograd_backward(list(y))\nx$grad"
    assert run_r(source, limits)["output"]["value"] == pytest.approx([6.0])
    source = ("f = function(a) {\n  k <- 0\n  while (k < 3) {\n    a <- a * 2\n    k <- k + 1\n"
              "  }\n  return(a)\n  a * 100\n}\nx$sin() -> s\nf(s)")
    result = run_r(source, limits, x=0.5)
    assert result["output"]["value"] == pytest.approx(8 * math.sin(0.5))
    assert result["leaves"]["x"]["grad"] == pytest.approx(8 * math.cos(0.5))


def test_print_shows_r_values(limits):
    source = "x <- torch_tensor(c(1, 2, 3), requires_grad = TRUE)\nprint(x)\nprint(3.5)\nprint(TRUE)\nx$sum()"
    prints = run_r(source, limits)["prints"]
    assert prints[0] == "torch_tensor" and prints[4] == "[ CPUFloatType{3} ][ requires_grad = TRUE ]"
    assert prints[-2:] == ["[1] 3.5", "[1] TRUE"]
