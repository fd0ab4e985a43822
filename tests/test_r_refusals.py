"""The R front end refuses by name, never crashes, and widens nothing for Python users."""
from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from webapp.errors import ChainruleError
from webapp.engine.evaluation import trace_values
from webapp.language.frontend import detect_language, parse_r_program, source_language
from webapp.language.r_runtime import r_number
from webapp.language.validator import parse_program

from . import r_seeds as R


def refusal(source, limits, **inputs) -> ChainruleError:
    with source_language("r"), pytest.raises(ChainruleError) as caught:
        trace_values(source, inputs, None, limits)
    return caught.value


@pytest.mark.parametrize("source, kind, message, line, col", [
    ('system("ls")', "unsupported", "`system()` is not part of the R language", 1, 1),
    ('eval(parse(text = "1 + 1"))', "unsupported", "R's eval is not part of the language", 1, 1),
    ("library(stats)", "unsupported", "`library(stats)` is not part of the language", 1, 1),
    ("x <- 1\ny <- x@slot", "unsupported", "The @ operator is not part of the language", 2, 7),
    ("`my var` <- 2", "unsupported", "Backtick names", 1, 1),
    ("e <- environment()", "unsupported", "`environment()` is not part of", 1, 6),
    ('assign("x", 2)', "unsupported", "`assign()` is not part of", 1, 1),
    ('get("x")', "unsupported", "`get()` is not part of", 1, 1),
    ("f <- sys.function()", "unsupported", "`sys.function()` is not part of", 1, 6),
    (".GlobalEnv$x", "unsupported", "The name `.GlobalEnv` is not supported", 1, 1),
    ('do.call("system", list("ls"))', "unsupported", "`do.call()` is not part of", 1, 1),
    ('Sys.getenv("HOME")', "unsupported", "`Sys.getenv()` is not part of", 1, 1),
    ("base::system('ls')", "unsupported", "The :: operator is not part of the language", 1, 5),
    ("x <<- 2", "unsupported", "`<<-` (assigning outside the function)", 1, 3),
    ("f <- function(x, y = 2) x + y", "unsupported", "Default argument values", 1, 6),
    ("x <- 1:3\nx %in% 2", "unsupported", "The %in% operator is not part of the language", 2, 3),
    ("a <- TRUE\nb <- a & a", "unsupported", "use && for single", 2, 8),
    ("z <- 1i", "unsupported", "Complex numbers", 1, 6),
    ("torch_arange(1, 5)", "unsupported", "torch_arange includes its end in R", 1, 1),
    ("x <- runif(1e9)", "limit", "More than 2,000,000 random numbers", 1, 6),
    ("torch_load('w.pt')", "unsupported", "`torch_load()` is not part of the language", 1, 1),
    ("x <- torch_tensor(c(1, 2))\nx[-1]", "unsupported", "R indices start at 1", 2, 3),
    ("x <- torch_randn(3)\nx$numpy()", "unsupported", "`$numpy()` is not a tensor method", 2, 2),
    ("x <- (1 + 2", "syntax", "Expected ')' to close this bracket", 1, 12),
    ("f <- function(x) {\n  x + 1\n", "syntax", "A '{' is never closed", 3, 1),
    ("x <- 1 2", "syntax", "R expects a new line or ';'", 1, 8),
    ('cat("never closed)', "syntax", "This string is never closed", 1, 5),
    ("x <- 1\nx <- x _ 1", "syntax", "R cannot read the character '_'", 2, 8),
    ("x <- 1 +", "syntax", "unexpected the end of the text", 1, 9),
])
def test_refused_with_name_and_position(source, kind, message, line, col, limits):
    """Mutation: Node("call") at the '(' instead of the name moves every call's column."""
    error = refusal(source, limits)
    assert (error.kind, error.line, error.col) == (kind, line, col), error.message
    assert message in error.message


def test_python_users_cannot_reach_the_r_helpers(limits):
    """Mutation: letting `_r_` names through the Python checker fails the first loop;
    installing the helpers for every program fails the `run_program` check."""
    for source in ('_r_cat("hi")', "x = _r_seq(1, 3)\nx", "y = _r_field"):
        with pytest.raises(ChainruleError) as caught:
            trace_values(source, {}, None, limits)
        assert "underscore" in caught.value.message
    with pytest.raises(ChainruleError):
        parse_program("r_cat(1)")
    from webapp.engine.evaluation import run_program
    assert "_r_cat" not in run_program("x = 1\nx", {}, limits).interpreter.language
    error = refusal("r_cat(1)", limits)
    assert "`r_cat()` is not part of the R language" in error.message


def test_refused_words_name_themselves_in_r_too(limits):
    """An R program cannot spell a helper: `_` cannot start an R name."""
    assert "R cannot read the character '_'" in refusal('_r_cat("hi")', limits).message


@pytest.mark.parametrize("value, printed", [
    (0.3502924, "0.3502924"), (-0.667685, "-0.667685"), (-0.5771312, "-0.5771312"),
    (6.962555e-05, "6.962555e-05"), (0.0007584976, "0.0007584976"), (33210170.0, "33210170"),
    (429.2728, "429.2728"), (4.690059e-05, "4.690059e-05"), (100000.0, "1e+05"), (100, "100"),
    (0.1, "0.1"), (2.0, "2"), (True, "TRUE"), (float("inf"), "Inf"),
])
def test_cat_prints_numbers_as_r_does(value, printed):
    """Oracle: the numbers as R printed them in seeds 001 and 002 (and R's 1e+05, TRUE).
    Mutation: `<` instead of `<=` when choosing fixed notation prints 7.584976e-04."""
    assert r_number(value) == printed


@pytest.mark.parametrize("source, language", [
    (R.SEED001_CREATE + R.SEED001_NODES, "r"), (R.SEED002_NETWORK, "r"),
    ("x7$backward()", "r"), ("f <- function(x) x^2\nf(x)", "r"), ("x<-1", "r"),
    ("0.2*x1**2 + 0.2*x2**2 - 5", "python"), ("sin(x)", "python"),
    ("x = torch.tensor(2.0, requires_grad=True)\nx.sin()", "python"),
    ("y <- torch_sin(x)", "r"), ("where(x<-1, x, 0)", "python"),
    ('print("costs $5")\nx * 2', "python"), ("x = 1 # TRUE or FALSE\nx", "python"),
])
def test_detect_language(source, language):
    """Mutation: dropping `$` from the R signs sends `x7$backward()` to Python."""
    assert detect_language(source) == language


R_WORDS = ["x", "y", "f", "<-", "->", "=", "(", ")", "{", "}", "[", "]", "[[", ",", "\n", ";",
           "$", "@", ":", "+", "-", "*", "/", "^", "%%", "%/%", "%*%", "==", "<", "!", "&&",
           "||", "1", "2.5", "1e-3", "TRUE", "NULL", "function", "if", "else", "for", "in",
           "while", "repeat", "break", "next", "c", "list", "torch_tensor", "cat", "return",
           "with_no_grad", "autograd_function", "forward", "backward", "ctx", "\"s\"", "#",
           "grad", "requires_grad", "seq_len", "`", "'", "\\", "library", "torch", " "]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(R_WORDS), max_size=40))
def test_random_r_is_translated_or_refused(words):
    """Only ChainruleError escapes the R reader. Mutation: removing the `end` check in
    Parser.statements loops forever / IndexErrors on unclosed braces."""
    source = " ".join(words)
    try:
        program = parse_r_program(source)
    except ChainruleError:
        return
    assert program.python is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_random_text_is_translated_or_refused(text):
    try:
        parse_r_program(text)
    except ChainruleError:
        pass


def test_http_trace_with_language_r_and_with_detection(client):
    """Mutation: not passing the body's language to the job makes the third request a
    Python syntax error."""
    source = R.SEED001_CREATE + R.SEED001_NODES
    for body in ({"source": source, "language": "r"}, {"source": source}):
        response = client.post("/api/trace", json=body)
        assert response.status_code == 200, response.get_json()
        data = response.get_json()
        assert data["output"]["value"] == pytest.approx([-3.4])
        assert data["language"] == "r" and "x3 = x1.square()" in data["python"]
    tricky = "x <- 1\nx"  # also R; the explicit choice is honoured either way
    assert client.post("/api/trace", json={"source": tricky, "language": "r"}).status_code == 200
    response = client.post("/api/trace", json={"source": 'system("ls")', "language": "r"})
    assert response.status_code == 400
    assert response.get_json()["error"]["kind"] == "unsupported"
    response = client.post("/api/trace", json={"source": "x", "language": "julia"})
    assert response.status_code == 400 and "language" in response.get_json()["error"]["message"]


def test_http_get_routes_take_language(client):
    """`language` is a reserved query name, not an input."""
    response = client.get("/api/check", query_string={"f": "x^2", "x": "3", "language": "r"})
    assert response.status_code == 200, response.get_json()
    assert "language" not in json.dumps(response.get_json().get("inputs", {}))
    response = client.get("/graph.svg", query_string={"f": "y <- x^2\ny", "x": "3"})
    assert response.status_code == 200 and b"<svg" in response.data


def test_cli_language_r(tmp_path, capsys):
    from webapp.cli import main
    lesson = tmp_path / "lesson.R"
    lesson.write_text(R.SEED001_CREATE + R.SEED001_NODES + R.SEED001_BACKWARD)
    assert main(["check", str(lesson), "--language", "r"]) == 0
    out = capsys.readouterr().out
    assert "x1" in out and "0.8" in out
    assert main(["check", "x^2", "--language", "r", "--at", "x=3"]) == 0
    assert "6.0" in capsys.readouterr().out


def test_http_optimize_reads_r(client):
    """The other job routes read R too: descent on (x - 3)^2 from 0 moves x toward 3.
    Oracle: one step is x - lr * 2(x - 3) = 0.06 with lr 0.01."""
    response = client.post("/api/optimize", json={"source": "(x - 3)^2", "inputs": {"x": 0.0},
                                                  "lr": 0.01, "steps": 2, "language": "r"})
    assert response.status_code == 200, response.get_json()
    steps = response.get_json()["steps"]
    assert steps[1]["inputs"]["x"] == pytest.approx(0.06)


# Issue 26 item 6: an R sequence walked as a vector is bounded like a Python list (10,000),
# before it is walked. Written out, `1:1e9` is refused at translation; computed (`1:n`), by
# the helper that would walk it. Each is a 4xx sentence in well under the deadline, and no
# worker is replaced. Mutations: `bounded()` returning its size unchecked and the
# translator's check removed make these rows time out (the worker replaced).
SEQUENCE_ROWS = [
    ("length(1:1e9)", "`1:1e9` would hold 1,000,000,000 numbers"),
    ("c(1:1e9)", "`1:1e9` would hold 1,000,000,000 numbers"),
    ("cat(1:1e9)", "`1:1e9` would hold 1,000,000,000 numbers"),
    ("torch_tensor(1:1e9)", "`1:1e9` would hold 1,000,000,000 numbers"),
    ("n <- 1e9\nlength(1:n)", "This vector would hold 1,000,000,000 numbers"),
    ("n <- 1e9\nc(1:n)", "This vector would hold 1,000,000,000 numbers"),
    ("n <- 1e9\ncat(1:n)", "This vector would hold 1,000,000,000 numbers"),
    ("n <- 1e9\nx <- torch_tensor(1:n)", "This vector would hold 1,000,000,000 numbers"),
    ("n <- 6000\nx <- c(1:n, 1:n)", "This vector would hold 12,000 numbers"),
]


@pytest.mark.parametrize("source, sentence", SEQUENCE_ROWS)
def test_a_long_r_sequence_is_one_sentence_and_keeps_its_worker(client, app, source, sentence):
    client.post("/api/trace", json={"source": "x * 7", "inputs": {"x": 3}})  # the pool is up
    pool = app.extensions["chainrule"].pool
    before = set(pool.idle_pids(wait_seconds=30))
    started = time.monotonic()
    response = client.post("/api/trace", json={"source": source, "language": "r"})
    assert time.monotonic() - started < 2.0
    assert 400 <= response.status_code < 500
    error = response.get_json()["error"]
    assert error["kind"] == "limit" and sentence in error["message"], error
    assert "a vector here holds at most 10,000" in error["message"] or \
        "one here holds at most 10,000" in error["message"]
    assert set(pool.idle_pids(wait_seconds=5)) == before  # no worker was replaced


def test_a_for_loop_over_a_long_sequence_is_still_a_loop(limits):
    """Only a sequence walked as a vector is bounded: `for (i in 1:1e9)` is a loop, whose
    budget stops it (refused before it runs when nothing leaves it)."""
    error = refusal("s <- 0\nfor (i in 1:1e9) {\n  s <- s + i\n}\ns", limits)
    assert error.kind == "limit" and "vector" not in error.message
    with source_language("r"):
        assert trace_values("s <- 0\nfor (i in 1:20000) {\n  s <- s + 1\n}\ns", {}, None,
                            limits)["output"]["value"] == 20000
