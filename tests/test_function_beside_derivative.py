"""f's graph beside the graph PyTorch recorded for a gradient made with create_graph=True.

Seed 003's question, d²/dx² by taking the gradient of a gradient: the output `dy` is drawn
as the backward ops PyTorch recorded (issue 25). `graph_of=function` draws instead the
graph the program's own backward pass ran on, y's, with the gradients that pass sent;
the page offers it in a panel under the graph. The oracle is plain PyTorch here and the
derivative written by hand.

Mutations seen failing: trace_program running chainrule's own pass whatever `of_pass`
says (the function graph is dy's again); pages.build_view offering the panel for every
trace (the plain function's page shows it).
"""
from __future__ import annotations

import math
import re

import torch

SOURCE = "y = x**2 * sin(x)\n(dy,) = torch.autograd.grad(y, x, create_graph=True)\ndy"


def grads_in(dot: str) -> list[float]:
    return [float(t.replace("−", "-")) for t in re.findall(r"grad ([−\-\d.e+]+)", dot)]


def test_graph_of_function_draws_ys_graph_with_the_programs_pass(client):
    x = torch.tensor(1.5, requires_grad=True)
    y = x ** 2 * torch.sin(x)
    (dy,) = torch.autograd.grad(y, x, create_graph=True)
    assert math.isclose(dy.item(), 2 * 1.5 * math.sin(1.5) + 1.5 ** 2 * math.cos(1.5), rel_tol=1e-6)
    shown = client.post("/api/trace", json={"source": SOURCE, "inputs": {"x": 1.5}}).get_json()
    assert any(n.get("derivative") for n in shown["nodes"])
    function = client.post("/api/trace", json={"source": SOURCE, "inputs": {"x": 1.5},
                                               "graph_of": "function"}).get_json()
    assert not any(n.get("derivative") for n in function["nodes"])
    assert sorted(n["op"] for n in function["nodes"] if n["op"]) == \
        ["MulBackward0", "PowBackward0", "SinBackward0"]
    output = next(n for n in function["nodes"] if n["kind"] == "output")
    assert math.isclose(output["value"], y.item(), rel_tol=1e-6) and output["grad"] == 1
    leaf = next(n for n in function["nodes"] if n["label"] == "x")
    assert math.isclose(leaf["grad"], dy.item(), rel_tol=1e-5)
    assert function["output"]["value"] == shown["output"]["value"]  # the output is still dy
    dot = client.get("/graph.dot", query_string={"f": SOURCE, "x": "1.5", "graph_of": "function"})
    assert dot.status_code == 200
    assert any(math.isclose(g, dy.item(), rel_tol=1e-3) for g in grads_in(dot.get_data(as_text=True)))


def test_the_page_offers_fs_graph_only_beside_a_derivative(client):
    html = client.get("/", query_string={"f": SOURCE, "x": "1.5"}).get_data(as_text=True)
    image = re.search(r'<img class="function-graph" src="([^"]+)"', html)
    assert image, "the panel is missing"
    url = image.group(1).replace("&amp;", "&")
    assert url.startswith("/graph.svg?") and url.endswith("&graph_of=function")
    svg = client.get(url)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    plain = client.get("/", query_string={"f": "x**2 * sin(x)", "x": "1.5"}).get_data(as_text=True)
    assert 'class="function-graph"' not in plain


def test_graph_of_is_checked(client):
    response = client.get("/graph.svg", query_string={"f": SOURCE, "x": "1.5", "graph_of": "f"})
    assert response.status_code == 400
    bad = client.post("/api/trace", json={"source": SOURCE, "inputs": {"x": 1}, "graph_of": 3})
    assert bad.status_code == 400 and "graph_of must be output or function" in bad.get_json()["error"]["message"]
