"""Sample a function and its autograd derivatives over a range (runs in a worker).

Derivatives always come from autograd. One batched pass evaluates every sample at
once when the function treats its input elementwise; a check at a few points against
separate evaluations catches functions that mix the samples (`x * x.mean()`), and
data-dependent control flow refuses a batch by itself: both fall back to one pass
per point.
"""
from __future__ import annotations

import math

import torch

from ..errors import ChainruleError, bad_input, limit, runtime
from .evaluation import graphs_kept, run_program
from .jsonvalues import number, tensor_value
from ..language.frontend import parse_source
from ..limits import Limits

from ..limits import MAX_SAMPLES
from ..limits import MAX_POINTWISE
from ..limits import MAX_GRID
from ..limits import MAX_POINTWISE_GRID


class NotBatchable(Exception):
    """The batched pass does not give per-point answers for this function."""


def _run(source: str, inputs: dict, limits: Limits):
    """run_program for a plot: the program's passes keep their graphs (evaluation.graphs_kept)."""
    with graphs_kept():
        return run_program(source, inputs, limits)


def _scalar_input(inputs: dict, name: str) -> float:
    value = inputs.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_input(f"{name} must be a single number to plot against it; give other "
                        "tensor inputs as they are and choose a scalar input for wrt.")
    return float(value)


def _check_wrt(source: str, inputs: dict, wrt: str, limits: Limits) -> list[str]:
    names = parse_source(source, limits).inputs
    if wrt not in names:
        choices = ", ".join(names) or "none"
        raise bad_input(f"wrt must be one of the function's inputs ({choices}).")
    missing = [n for n in names if n not in inputs and n != wrt]
    if missing:
        raise bad_input(f"Give a value for {', '.join(missing)}.")
    return names


def _derivatives(output, leaf, order: int):
    """f, f' and (order 2) f'' of a per-sample output with respect to `leaf`."""
    if not isinstance(output, torch.Tensor) or not output.is_floating_point():
        raise runtime("Plots need the function to give a number.")
    if not output.requires_grad:
        zeros = torch.zeros_like(output)
        return output.detach(), zeros, zeros if order > 1 else None
    try:
        (first,) = torch.autograd.grad(output.sum(), leaf, create_graph=order > 1, allow_unused=True)
    except RuntimeError as error:  # PyTorch's refusal, said as the program's (never a 500)
        raise runtime("PyTorch could not differentiate the output for the plot: "
                      f"{str(error).splitlines()[0]}") from None
    first = torch.zeros_like(leaf) if first is None else first
    second = None
    if order > 1:
        try:
            if first.requires_grad:
                (second,) = torch.autograd.grad(first.sum(), leaf, allow_unused=True)
            second = torch.zeros_like(leaf) if second is None else second
        except RuntimeError:
            second = None  # e.g. a custom Function without a double backward
    return output.detach(), first.detach(), None if second is None else second.detach()


def _evaluate(source, inputs, wrt, value, limits, order):
    evaluation = _run(source, {**inputs, wrt: value}, limits)
    return _derivatives(evaluation.output, evaluation.input_tensors[wrt], order)


def _batched(source, inputs, wrt, xs, limits, order):
    try:
        f, df, d2f = _evaluate(source, inputs, wrt, xs.tolist(), limits, order)
    except ChainruleError as error:
        if error.kind == "limit":
            raise
        raise NotBatchable() from None
    if f.shape != xs.shape:
        raise NotBatchable()
    return f, df, d2f


def _pointwise(source, inputs, wrt, xs, limits, order):
    if len(xs) > MAX_POINTWISE:
        raise limit(f"This function cannot be evaluated for all samples at once, and "
                    f"{len(xs)} separate passes are more than the {MAX_POINTWISE} allowed; "
                    "ask for fewer samples (n).")
    columns = [[], [], []]
    for x in xs.tolist():
        try:
            f, df, d2f = _evaluate(source, inputs, wrt, x, limits, order)
            values = (f.item() if f.numel() == 1 else math.nan,
                      df.item() if df.numel() == 1 else math.nan,
                      d2f.item() if d2f is not None and d2f.numel() == 1 else math.nan)
        except ChainruleError as error:
            if error.kind == "limit":
                raise
            values = (math.nan, math.nan, math.nan)  # undefined here: a gap in the plot
        for column, value in zip(columns, values):
            column.append(value)
    f, df, d2f = (torch.tensor(c, dtype=torch.float64) for c in columns)
    return f, df, (d2f if order > 1 else None)


def _agrees(batch, source, inputs, wrt, xs, limits, order) -> bool:
    """Compare the batch with separate passes at three points."""
    f, df, _ = batch
    for i in sorted({0, len(xs) // 2, len(xs) - 1}):
        try:
            pf, pdf, _ = _evaluate(source, inputs, wrt, float(xs[i]), limits, 1)
        except ChainruleError:
            return False
        for got, want in ((f[i], pf), (df[i], pdf)):
            got, want = float(got), float(want.reshape(-1)[0]) if want.numel() else math.nan
            if math.isfinite(got) or math.isfinite(want):
                if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-5):
                    return False
    return True


def sample_1d(source: str, inputs: dict, wrt: str, lo: float, hi: float, n: int,
              limits: Limits, order: int = 2) -> dict:
    """`GET /api/plot`: f, f', f'' at n points, the point itself, and where lines break."""
    _check_wrt(source, inputs, wrt, limits)
    if not (isinstance(n, int) and 2 <= n <= MAX_SAMPLES):
        raise bad_input(f"n must be a whole number from 2 to {MAX_SAMPLES}.")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise bad_input("lo must be smaller than hi.")
    at_x = _scalar_input(inputs, wrt)
    xs = torch.linspace(lo, hi, n)
    mode = "batched"
    try:
        batch = _batched(source, inputs, wrt, xs, limits, order)
        if not _agrees(batch, source, inputs, wrt, xs, limits, order):
            raise NotBatchable()
    except NotBatchable:
        mode = "per-point"
        batch = _pointwise(source, inputs, wrt, xs, limits, order)
    f, df, d2f = batch
    at_f, at_df, at_d2f = _evaluate(source, inputs, wrt, at_x, limits, order)
    if at_f.numel() != 1:
        raise runtime("Plots need a function whose output is a single number.")
    xs64 = xs.double()
    return {
        "wrt": wrt, "x": _numbers(xs64), "f": _numbers(f), "df": _numbers(df),
        "d2f": _numbers(d2f) if d2f is not None else None,
        "at": {"x": number(at_x), "f": _scalar(at_f), "df": _scalar(at_df),
               "d2f": _scalar(at_d2f) if at_d2f is not None else None},
        "breaks": find_breaks(xs64, f.double(), df.double()),
        "mode": mode,
    }


def find_breaks(xs, f, df) -> list[int]:
    """Indices i where no line should join sample i to i+1.

    A break is a non-finite end, or a jump the derivative cannot explain: the change
    from i to i+1 differs from the trapezoid estimate ½(f'ᵢ + f'ᵢ₊₁)·Δx by more than half
    of itself and by more than 2% of the plot's height (1/x at 0, tan at π/2, a step).
    """
    finite = torch.isfinite(f) & torch.isfinite(df)
    values = f[finite]
    height = float(values.max() - values.min()) if values.numel() else 0.0
    # Python floats (the same doubles): one tensor op per sample passed the job's
    # allocation guard each time, three quarters of a plot's time (bench/sandbox_bench.py).
    xs, f, df, finite = xs.tolist(), f.tolist(), df.tolist(), finite.tolist()
    breaks = []
    for i in range(len(xs) - 1):
        if not (finite[i] and finite[i + 1]):
            breaks.append(i)
            continue
        change = f[i + 1] - f[i]
        expected = 0.5 * (df[i] + df[i + 1]) * (xs[i + 1] - xs[i])
        miss = abs(change - expected)
        if miss > 0.5 * abs(change) and miss > 0.02 * height:
            breaks.append(i)
    return breaks


def _numbers(tensor) -> list:
    return [number(float(v)) for v in tensor.reshape(-1).tolist()]


def sample_2d(source: str, inputs: dict, wx: str, wy: str, ranges, n: int,
              limits: Limits) -> dict:
    """A grid of f over two scalar inputs, with the gradient at the point."""
    names = _check_wrt(source, inputs, wx, limits)
    if wy not in names or wy == wx:
        raise bad_input("Choose two different inputs for the contour plot.")
    (x_lo, x_hi), (y_lo, y_hi) = ranges
    px, py = _scalar_input(inputs, wx), _scalar_input(inputs, wy)
    n = max(5, min(n, MAX_GRID))
    gx, gy = torch.meshgrid(torch.linspace(x_lo, x_hi, n), torch.linspace(y_lo, y_hi, n),
                            indexing="xy")
    try:
        evaluation = run_program(source, {**inputs, wx: gx.tolist(), wy: gy.tolist()}, limits)
        grid = evaluation.output
        if not isinstance(grid, torch.Tensor) or grid.shape != gx.shape:
            raise NotBatchable()
        grid = grid.detach().double()
        mode = "batched"
    except (NotBatchable, ChainruleError) as error:
        if isinstance(error, ChainruleError) and error.kind == "limit":
            raise
        mode = "per-point"
        n = min(n, MAX_POINTWISE_GRID)
        gx, gy = torch.meshgrid(torch.linspace(x_lo, x_hi, n), torch.linspace(y_lo, y_hi, n),
                                indexing="xy")
        grid = torch.tensor([[_value(source, {**inputs, wx: float(a), wy: float(b)}, limits)
                              for a, b in zip(row_x.tolist(), row_y.tolist())]
                             for row_x, row_y in zip(gx, gy)], dtype=torch.float64)
    evaluation = _run(source, {**inputs, wx: px, wy: py}, limits)
    output = evaluation.output
    if not isinstance(output, torch.Tensor) or output.numel() != 1:
        raise runtime("A contour plot needs a function whose output is a single number.")
    leaves = [evaluation.input_tensors[wx], evaluation.input_tensors[wy]]
    grads = torch.autograd.grad(output, leaves, allow_unused=True) if output.requires_grad else (None, None)
    gradient = [0.0 if g is None else _scalar(g) for g in grads]
    return {"wx": wx, "wy": wy, "x": _numbers(gx[0].double()), "y": _numbers(gy[:, 0].double()),
            "f": [_numbers(row) for row in grid], "mode": mode,
            "at": {"x": number(px), "y": number(py), "f": _scalar(output), "grad": gradient}}


def _scalar(tensor):
    """A one-element tensor as JSON, float32 written as its shortest decimal (0.8)."""
    return tensor_value(tensor.detach().reshape(()), 1)


def _value(source, inputs, limits) -> float:
    try:
        output = run_program(source, inputs, limits).output
        if isinstance(output, torch.Tensor) and output.numel() == 1:
            return output.detach().item()
        return math.nan
    except ChainruleError as error:
        if error.kind == "limit":
            raise
        return math.nan
