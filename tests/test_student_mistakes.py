"""Mistakes said in the student's own terms (issue 28, item 5; the hint half of item 6).

Each row goes where a user's program goes: POST /api/trace, through the worker pool, into
chainrule's interpreter or (after a construct the interpreter does not speak, here a list
comprehension on line 1) real CPython in the sandbox. Both engines say one sentence per
kind of mistake, written once in webapp/language/student_terms.py. Every refusal is a 400
in docs/api.md's error shape, at the line of the mistake.
"""
from __future__ import annotations

import pytest

CPYTHON = "ys = [i for i in range(2)]\n"  # the interpreter refuses this: the rest runs as CPython
LEAF = "x = torch.tensor(2.0, requires_grad=True)\n"

MISTAKES = [
    # `.grad` read before any backward pass: the gradient is None, said as why.
    ("grad-python", LEAF + "y = x.grad * 2\n", "python",
     "`x.grad` is None because no backward pass has reached x yet", 2),
    ("grad-call", LEAF + "y = torch.sin(x.grad)\n", "python",
     "`x.grad` is None because no backward pass has reached x yet", 2),
    ("grad-index", "y = x.grad[0]\n", "python",
     "`x.grad` is None because no backward pass has reached x yet", 1),
    ("grad-cpython", CPYTHON + LEAF + "y = x.grad * 2\n", "python",
     "`x.grad` is None because no backward pass has reached x yet", 3),
    ("grad-r", "x <- torch_tensor(2, requires_grad = TRUE)\ny <- x$grad * 2\n", "r",
     "`x$grad` is NULL because no backward pass has reached x yet", 2),
    ("grad-non-leaf", LEAF + "h = x * 2\ny = h * 3\ny.backward()\nz = h.grad * 2\n", "python",
     "`h.grad` is None because PyTorch keeps gradients only on leaf tensors", 5),
    ("grad-no-requires", "w = torch.tensor(2.0)\ny = w * 2\nz = w.grad + 1\n", "python",
     "`w.grad` is None because w does not require grad", 3),
    # Sizes that cannot be multiplied: the student's tensors, by name and shape.
    ("matmul", "W = torch.randn(3,4)\nv = torch.randn(3)\ny = W @ v\n", "python",
     "W is [3×4], v is [3]: the inner sizes 4 and 3 must match", 3),
    ("mv-cpython", CPYTHON + "W = torch.randn(3,4)\nv = torch.randn(3)\ny = torch.mv(W, v)\n",
     "python", "W is [3×4], v is [3]: the inner sizes 4 and 3 must match", 4),
    ("mm-method", "W = torch.randn(3,4)\nM = torch.randn(3,2)\ny = W.mm(M)\n", "python",
     "W is [3×4], M is [3×2]: the inner sizes 4 and 3 must match", 3),
    ("matmul-r", "W <- torch_randn(3, 4)\nv <- torch_randn(3)\ny <- W %*% v\n", "r",
     "W is [3×4], v is [3]: the inner sizes 4 and 3 must match", 3),
    # `^` where a power was meant: the hint writes the student's own power.
    ("xor-cubed", "y = x^3 + 1\n", "python", "write `x**3 + 1`", 1),
    ("xor-bracket", "y = (x+1)^2\n", "python", "write `(x+1)**2`", 1),
    ("xor-cpython", CPYTHON + "x = torch.tensor(2.0)\ny = (x+1)^2 + 1\n", "python",
     "write `(x + 1)**2 + 1`", 3),
    ("r-lookalike", "y <- x\u00b2\n", "r", "did you mean ^2?", 1),
    # A name never assigned, used as an object: an error at its line, not an input box.
    ("object-python", LEAF + "y = x**2\nloss.backward()\n", "python",
     "`loss` is never given a value, so `loss.backward()` cannot run. The program's own "
     "names are `x`, `y`.", 3),
    ("object-close", LEAF + "lsos = x**2\nloss.backward()\n", "python",
     "Did you mean `lsos`?", 3),
    ("object-cpython", CPYTHON + LEAF + "lsos = x**2\nloss.backward()\n", "python",
     "`loss` is never given a value, so `loss.backward()` cannot run. Did you mean `lsos`?", 4),
    ("object-r", "x <- torch_tensor(2, requires_grad = TRUE)\ny <- x^2\nloss$backward()\n", "r",
     "`loss` is never given a value, so `loss$backward()` cannot run", 3),
]


@pytest.mark.parametrize("source, language, fragment, line",
                         [row[1:] for row in MISTAKES], ids=[row[0] for row in MISTAKES])
def test_a_mistake_is_said_in_the_students_terms(client, source, language, fragment, line):
    """Mutations seen failing: `return None` first in student_terms.none_grad_operand
    (grad-call: "sin(): argument 'input' must be Tensor, not NoneType"; the other grad rows
    fall back to CPython, which says the same); `return None` first in
    student_terms.shape_mismatch (the four size rows: raw "Size mismatch, got input (3), mat
    (3x4), vec (3)"); `written = "x**2"` in power_hint (the xor rows); `return None` first in
    said._in_student_terms (grad-, mv- and xor-cpython); `return` first in
    name_slips.refuse_objects_never_given (object-python, -close, -r: "Give a value for
    loss"); the `**2` entry dropped from frontend.R_WORDING (r-lookalike)."""
    response = client.post("/api/trace", json={"source": source, "language": language,
                                                "inputs": {"x": 1.0}})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert set(error) <= {"kind", "message", "line", "col", "guards", "input"}
    assert fragment in error["message"], error["message"]
    assert error["line"] == line
    assert "NoneType" not in error["message"] and "mat (3x4)" not in error["message"]


def test_in_r_a_caret_is_a_power_and_gets_no_python_hint(client):
    """R's `x^3` is right: it runs, and its value is PyTorch's x**3 (no `**` hint anywhere).
    Mutation seen failing: `"^": ast.BitXor` in r_calls.ARITHMETIC (a 400 with the Python
    hint)."""
    response = client.post("/api/trace", json={"source": "y <- x^3\n", "language": "r",
                                                "inputs": {"x": 2.0}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"]["value"] in (8.0, [8.0])


def test_only_names_used_as_values_become_inputs_and_the_page_says_which(client):
    """`x.sin()` uses x as a value (a tensor's method), so it stays an input; the page says
    which names it made inputs. Mutation seen failing: the `made-inputs` line removed from
    templates/_inputs.html; "sin" added to free_names.OBJECT_ATTRIBUTES (x is refused)."""
    page = client.get("/?f=x.sin()%20*%20w&x=1&w=2").get_data(as_text=True)
    assert ('<p class="hint made-inputs">Made <code>x</code>, <code>w</code> inputs: the '
            'program uses them as values but never assigns them.</p>') in page
    trace = client.post("/api/trace", json={"source": "x.sin() * w", "inputs": {"x": 1.0, "w": 2.0}})
    assert trace.status_code == 200 and trace.get_json()["inputs"] == ["x", "w"]


def test_a_program_that_fails_on_its_input_keeps_the_box_to_fix_it(client):
    """Rosenbrock typed as the lesson writes it: x, made an input of 1.0, is indexed as a
    vector and PyTorch refuses. The page must keep an input box for x, so the student can
    give it [-1, 1] there. Mutation: `error.kind == "runtime"` -> `False` in
    pages._inputs_despite (no box: the error could only be fixed by editing the URL)."""
    from urllib.parse import urlencode
    source = ("a = 1\nb = 5\n\ndef rosenbrock(x):\n    x1 = x[0]\n    x2 = x[1]\n"
              "    return (a - x1)**2 + b * (x2 - x1**2)**2\n\nrosenbrock(x)")
    html = client.get("/?" + urlencode({"f": source})).data.decode()
    assert "0-dim tensor" in html and 'name="x"' in html
    fixed = client.get("/?" + urlencode({"f": source, "x": "[-1,1]"})).data.decode()
    assert 'class="error"' not in fixed and "<svg" in fixed
