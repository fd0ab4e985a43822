"""R programs answer in R (issue 28, item 6): results and prints look as R torch prints them,
while Python programs keep Python's form.

The oracle for the form is R torch's own print, as its documentation and snapshot tests
show it (mlverse/torch tests/testthat/_snaps/tensor.md): `torch_tensor`, libtorch's
entries (one width and notation for all), `[ CPUFloatType{3} ]`, then R torch's
`[ requires_grad = TRUE ]` or `[ grad_fn = <LogBackward0> ]`; R's `[1] 3.5`, `NULL`.
The numbers come from real torch tensors.
Mutations seen failing: `int_mode = False` in r_printing._format (whole numbers print
` 2.0000`); results._text without its `current_language() == "r"` branch (an R result
reads `tensor([2., 4.])`); _result.html printing `trace.result.kind` for R too.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
import torch

from webapp.language.r_printing import print_text

LOG = torch.log(torch.tensor([1.0, 2.0, 3.0], requires_grad=True))

R_TORCH = [  # (the value, what R torch prints)
    (torch.tensor([2.0, 4.0]), "torch_tensor\n 2\n 4\n[ CPUFloatType{2} ]"),
    (torch.tensor([1.0, 2.0, 3.0], requires_grad=True),
     "torch_tensor\n 1\n 2\n 3\n[ CPUFloatType{3} ][ requires_grad = TRUE ]"),
    (LOG, "torch_tensor\n 0.0000\n 0.6931\n 1.0986\n[ CPUFloatType{3} ][ grad_fn = <LogBackward0> ]"),
    (torch.arange(25.0), "torch_tensor\n" + "".join(f"{i:3d}\n" for i in range(25)) + "[ CPUFloatType{25} ]"),
    (torch.arange(100.0), "torch_tensor\n" + "".join(f"{i:3d}\n" for i in range(30))
     + "... [the output was truncated (use n=-1 to disable)]\n[ CPUFloatType{100} ]"),
    (torch.tensor(5.0, requires_grad=True) * 1, "torch_tensor\n5\n[ CPUFloatType{} ][ grad_fn = <MulBackward0> ]"),
    (torch.tensor([[-0.4254, 0.3206, -1.2035], [0.7367, -0.7282, -0.5366]]),
     "torch_tensor\n-0.4254  0.3206 -1.2035\n 0.7367 -0.7282 -0.5366\n[ CPUFloatType{2,3} ]"),
    (torch.tensor([0.001, 0.002], dtype=torch.float64),
     "torch_tensor\n0.001 *\n 1.0000\n 2.0000\n[ CPUDoubleType{2} ]"),
    (torch.tensor([1, 2]), "torch_tensor\n 1\n 2\n[ CPULongType{2} ]"),
    (None, "NULL"),
    (3.5, "[1] 3.5"),
    (0.3580871, "[1] 0.3580871"),
    (True, "[1] TRUE"),
    ([1.0, 2.5], "[1] 1.0 2.5"),
    (1e5, "[1] 1e+05"),
    ("hi", '[1] "hi"'),
    (list(range(1, 31)), " [1]  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25\n"
                         "[26] 26 27 28 29 30"),
]


@pytest.mark.parametrize("value, printed", R_TORCH)
def test_values_print_as_r_torch_prints_them(value, printed):
    assert print_text(value) == printed


def test_print_n_keeps_that_many_lines_as_r_torch():
    """print(y, n = 3): the first 3 lines, R torch's note, the type line."""
    assert print_text(torch.arange(10.0), 3) == (
        "torch_tensor\n 0\n 1\n 2\n... [the output was truncated (use n=-1 to disable)]\n[ CPUFloatType{10} ]")


R_PROGRAM = ("x <- torch_tensor(c(1, 2), requires_grad = TRUE)\ny <- (x^2)$sum()\nprint(y)\n"
             "y$backward()\nprint(x$grad)\nx$grad")
PYTHON_PROGRAM = ("x = torch.tensor([1., 2.], requires_grad=True)\ny = (x**2).sum()\nprint(y)\n"
                  "y.backward()\nx.grad")


def test_an_r_program_answers_in_r_and_python_in_python(client):
    """Through the worker: the R program's result and prints in R torch's form (2x with x = 1, 2
    is 2, 4: PyTorch's numbers), the same program in Python in Python's."""
    r = client.post("/api/trace", json={"source": R_PROGRAM, "inputs": {}}).json
    assert r["language"] == "r"
    assert r["result"]["text"] == "torch_tensor\n 2\n 4\n[ CPUFloatType{2} ]"
    assert r["prints"] == ["torch_tensor", "5", "[ CPUFloatType{} ][ grad_fn = <SumBackward0> ]",
                           "torch_tensor", " 2", " 4", "[ CPUFloatType{2} ]"]
    python = client.post("/api/trace", json={"source": PYTHON_PROGRAM, "inputs": {}}).json
    assert "language" not in python
    assert python["result"]["text"] == "tensor([2., 4.])"
    assert python["prints"][0]["text"] == "tensor(5., grad_fn=<SumBackward0>)"


def test_the_page_says_null_for_an_r_program_and_none_for_python(client):
    """`x$grad` before any backward pass is NULL in R (kind and text), None in Python."""
    page = client.get("/?f=" + quote("x <- torch_tensor(c(1, 2), requires_grad = TRUE)\nx$grad")).data.decode()
    result = page[page.index('id="result"'):]
    assert "(line 2, NULL)" in result and '<pre class="result-text">NULL</pre>' in result
    page = client.get("/?f=" + quote("x = torch.tensor([1., 2.], requires_grad=True)\nx.grad")).data.decode()
    result = page[page.index('id="result"'):]
    assert "(line 2, none)" in result and '<pre class="result-text">None</pre>' in result
