"""Plots: autograd derivatives over a range, tangents, gaps, contours, FD checks, Jacobians."""
from __future__ import annotations

import math
import struct
import urllib.parse

import pytest
import torch

from webapp.engine.checks import finite_differences, jacobian
from webapp.errors import ChainruleError
from webapp.drawing.plots import with_gaps
from webapp.engine.sampling import find_breaks, sample_1d, sample_2d

from . import seeds


def api(client, path, **query):
    response = client.get(path + "?" + urllib.parse.urlencode(query))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def test_sin_derivative_is_cos_at_every_sample(client):
    data = api(client, "/api/plot", f="sin(x)", x=1, wrt="x", lo=-math.pi, hi=math.pi, n=101)
    assert data["mode"] == "batched"
    for x, df in zip(data["x"], data["df"]):
        assert abs(df - math.cos(x)) < 1e-6
    assert set(data) >= {"x", "f", "df", "d2f", "at"}


def test_log_sin_derivative_matches_seed003_closed_form(client):
    data = api(client, "/api/plot", f=seeds.SEED003_LOG_SIN, x=2, wrt="x", lo=0.1, hi=10, n=100)
    for x, df in zip(data["x"], data["df"]):
        closed = -(2 / x) * -math.sin(x) + math.log(x ** 2) * math.cos(x) - 1 / x ** 2
        assert df == pytest.approx(closed, rel=1e-4, abs=1e-4)


def test_tangent_at_two_is_f_plus_slope_times_offset(client):
    data = api(client, "/api/plot", f=seeds.SEED003_LOG_SIN, x=2, wrt="x")
    x = torch.tensor(2.0, requires_grad=True)
    f = torch.log(x ** 2) * torch.sin(x) + 1 / x
    f.backward()
    assert data["at"]["x"] == 2.0
    assert data["at"]["f"] == pytest.approx(f.item(), rel=1e-6)
    assert data["at"]["df"] == pytest.approx(x.grad.item(), rel=1e-6)
    for offset in (-1.0, 0.5, 3.0):
        tangent = data["at"]["f"] + data["at"]["df"] * offset
        assert tangent == pytest.approx(f.item() + x.grad.item() * offset, rel=1e-6)


def test_second_derivative_uses_create_graph(limits):
    data = sample_1d("x ** 3", {"x": 1.0}, "x", -2, 2, 9, limits)
    for x, d2f in zip(data["x"], data["d2f"]):
        assert d2f == pytest.approx(6 * x, abs=1e-5)


def test_one_over_x_has_no_line_across_zero(limits):
    data = sample_1d("1/x", {"x": 0.5}, "x", -1, 1, 200, limits)
    xs, ys = with_gaps(data["x"], data["f"], data["breaks"])
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x0 < 0 < x1:
            assert math.isnan(y0) or math.isnan(y1), "a segment crosses x = 0"


def test_log_of_negatives_is_a_gap(limits):
    data = sample_1d("log(x)", {"x": 1.0}, "x", -1, 1, 50, limits)
    negatives = [f for x, f in zip(data["x"], data["f"]) if x < 0]
    assert all(f == "NaN" for f in negatives)


def test_smooth_function_has_no_breaks(limits):
    data = sample_1d("sin(3 * x) * exp(x)", {"x": 0.0}, "x", -2, 2, 200, limits)
    assert data["breaks"] == []


def test_step_function_breaks_at_the_step():
    xs = torch.linspace(-1, 1, 11, dtype=torch.float64)
    f = (xs > 0.05).double()
    assert find_breaks(xs, f, torch.zeros_like(f)) == [5]


@pytest.mark.parametrize("source", ["x * x.mean()", "y = x\nif x > 0:\n    y = x * x\ny"])
def test_functions_that_cannot_batch_are_sampled_point_by_point(source, limits):
    data = sample_1d(source, {"x": 1.0}, "x", -1, 1, 21, limits)
    assert data["mode"] == "per-point"
    for x, df in zip(data["x"], data["df"]):
        assert df == pytest.approx(2 * x if x > 0 or "mean" in source else 1.0, abs=1e-5)


def test_other_inputs_are_held_at_their_values(limits):
    data = sample_1d(seeds.SEED004_HELPERS, {"w1": 1.0, "w2": 2.0}, "w2", -3, 3, 7, limits)
    for w2, f, df in zip(data["x"], data["f"], data["df"]):
        assert f == pytest.approx(2 * 1.0 + w2 * w2 + 5, rel=1e-6)
        assert df == pytest.approx(2 * w2, abs=1e-5)


def test_seed001_gradient_arrow_at_two_two(limits):
    data = sample_2d(seeds.SEED001_EXPRESSION, {"x1": 2, "x2": 2}, "x1", "x2", ((-4, 4), (-4, 4)), 30, limits)
    assert data["at"]["grad"] == [0.8, 0.8]
    assert data["at"]["f"] == -3.4
    assert len(data["f"]) == 30 and len(data["f"][0]) == 30
    corner = data["f"][0][0]
    assert corner == pytest.approx(0.2 * 16 + 0.2 * 16 - 5, rel=1e-5)


def test_plot_images_are_real_svg_and_png(client):
    svg = client.get("/plot.svg?f=sin(x)&x=1&wrt=x")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and b"tangent" in svg.data
    assert client.get("/plot.svg?f=sin(x)&x=1&wrt=x").data == svg.data
    png = client.get("/plot.png?" + urllib.parse.urlencode(
        {"f": seeds.SEED001_EXPRESSION, "x1": 2, "x2": 2, "wrt": "x1,x2"}))
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.data[16:24])
    assert width > 600 and height > 300


def test_plot_refuses_a_tensor_wrt_clearly(client):
    response = client.get("/plot.svg?" + urllib.parse.urlencode({"f": "x.sum()", "x": "[1,2]", "wrt": "x"}))
    assert response.status_code == 400
    assert "single number" in response.get_data(as_text=True)


def test_finite_differences_sit_beside_autograd(limits):
    data = finite_differences(seeds.SEED004_HELPERS, {"w1": 1.0, "w2": 2.0}, None, 1e-2, limits)
    rows = {row["input"]: row for row in data["rows"]}
    assert rows["w1"]["autograd"] == 2.0 and rows["w2"]["autograd"] == 4.0
    assert rows["w1"]["central"] == pytest.approx(2.0, abs=1e-2)
    errors = [row["error"] for row in data["sweep"]]
    assert errors[-1] > errors[1]  # too small a step: float32 rounding takes over


def test_jacobian_one_backward_per_row(limits):
    data = jacobian("x * x", {"x": [1.0, 2.0, 3.0]}, limits)
    assert data["rows"] == [[2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 6.0]]
    assert data["backward_passes"] == 3
    with pytest.raises(ChainruleError):
        jacobian("x * x", {"x": list(range(100))}, limits)


def test_check_and_jacobian_routes(client):
    data = api(client, "/api/check", f="x * x", x="[1, 2]", grad_output="ones")
    assert [row["autograd"] for row in data["rows"]] == [2.0, 4.0]
    data = api(client, "/api/jacobian", f="x.sin()", x="[0, 1]")
    assert data["rows"][0][0] == 1.0 and data["rows"][1][0] == 0.0


def test_a_pole_does_not_flatten_the_derivative_plot():
    """The forum's log(x²)·sin(x) + 1/x: f′ ≈ −1/x² near 0 spans hundreds, the rest of f′
    a few units. The y-range must show the bulk and the marked slope, not the pole.
    Mutation: `spread = math.inf` in plots._clip_limits (2nd–98th percentiles only: −300…)."""
    from webapp.drawing.plots import _clip_limits
    xs = torch.linspace(-1, 5, 201, dtype=torch.float64, requires_grad=True)
    (df,) = torch.autograd.grad((torch.log(xs ** 2) * torch.sin(xs) + 1 / xs).sum(), xs)
    x0 = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(torch.log(x0 ** 2) * torch.sin(x0) + 1 / x0, x0)
    values = [v for v in df.tolist() if math.isfinite(v)]
    lo, hi = _clip_limits(df.tolist(), keep=slope.item())
    assert lo < slope.item() < hi and hi - lo < 30
    assert sum(lo <= v <= hi for v in values) >= 0.85 * len(values)


def test_a_program_that_runs_its_own_backward_still_plots(client):
    """`y = x * w; y.backward(); y`, as course cells end: the program's pass used to free the
    graph f′ needs, and /api/plot answered 500 ("backward through the graph a second time").
    f′ is plain torch's ∂(x·w)/∂x = w at every sample; the contour's gradient too.
    Mutation seen failing: sampling._evaluate calling run_program, not _run."""
    source = "y = x * w\ny.backward()\ny"
    data = api(client, "/api/plot", f=source, x=3, w=0.5, wrt="x", lo=-1, hi=1, n=21)
    x = torch.tensor(3.0, requires_grad=True)
    (x * 0.5).backward()
    assert data["df"] == [x.grad.item()] * 21 and data["at"]["f"] == 1.5
    contour = api(client, "/api/plot", f=source, x=3, w=0.5, wrt="x,w", n=5)
    assert contour["at"]["grad"] == [0.5, 3.0]


def test_the_check_compares_the_derivative_the_differences_approximate(client):
    """`y.backward(torch.tensor(2.0))` seeds the program's own pass: x.grad is 2 · ∂y/∂x = 1,
    but the central difference approximates ∂y/∂x = 0.5 (plain torch's). The check's autograd
    column is chainrule's own pass from the output, and the page says why x.grad differs
    (it read "difference −5.00e-01", blamed on float32). Mutation seen failing: checks.py
    reading `leaves[name].grad` again."""
    source = "y = x * w\ny.backward(torch.tensor(2.0))\ny"
    x = torch.tensor(3.0, requires_grad=True)
    (g,) = torch.autograd.grad(x * 0.5, x)
    data = api(client, "/api/check", f=source, x=3, w=0.5)
    row = next(r for r in data["rows"] if r["input"] == "x")
    assert row["autograd"] == g.item() and abs(row["difference"]) < 1e-3, row
    assert sorted(data["program_grad_differs"]) == ["w", "x"]
    page = client.get("/partials/check?" + urllib.parse.urlencode({"f": source, "x": 3, "w": 0.5}))
    assert "left x, w.grad different from it" in page.get_data(as_text=True)
    plain = api(client, "/api/check", f="x * w", x=3, w=0.5)
    assert plain["program_grad_differs"] == []


def test_keeping_graphs_in_two_threads_leaves_torch_as_it_was():
    """A trusted notebook may sample a plot in two threads: graphs_kept is one at a time, so
    torch.autograd.backward is PyTorch's own afterwards (interleaved, the second thread put
    the first one's wrapper back, and every later pass kept its graph: PyTorch's "backward
    a second time" refusal, a gallery lesson, would never come). Mutation seen failing:
    graphs_kept without its lock."""
    import threading
    from webapp.engine.evaluation import graphs_kept
    backward, grad = torch.autograd.backward, torch.autograd.grad
    inside, first_left = threading.Event(), threading.Event()

    def second():
        with graphs_kept():
            inside.set()
            first_left.wait(0.5)  # without the lock: leaves after the first, restoring its wrapper

    thread = threading.Thread(target=second)
    with graphs_kept():
        thread.start()
        inside.wait(0.5)  # without the lock the second thread is inside by now
    first_left.set()
    thread.join(10)
    assert torch.autograd.backward is backward and torch.autograd.grad is grad
