"""Draw sampled functions with matplotlib's object API (thread-safe: no pyplot state).

Input is the plain JSON a worker returned from `sampling`; nothing here imports torch.
"""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # before anything else from matplotlib: no display, no GUI state
matplotlib.rcParams["svg.hashsalt"] = "chainrule"  # stable element ids: same data, same bytes
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

BLUE, ORANGE, GREEN, PURPLE, GREY = "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#777777"
SVG_METADATA = {"Date": None, "Creator": "chainrule"}  # the same data gives the same bytes


def _float(value) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str):
        return {"Infinity": math.inf, "-Infinity": -math.inf}.get(value, math.nan)
    return float(value)


def with_gaps(xs, ys, breaks):
    """Insert NaN after each break so matplotlib lifts the pen there."""
    gap = set(breaks)
    out_x, out_y = [], []
    for i, (x, y) in enumerate(zip(xs, ys)):
        y = _float(y)
        out_x.append(x)
        out_y.append(y if math.isfinite(y) else math.nan)
        if i in gap:
            out_x.append(x)
            out_y.append(math.nan)
    return out_x, out_y


def _clip_limits(ys, keep: float | None = None) -> tuple[float, float] | None:
    """A y-range for the bulk of the samples, so a pole (1/x near 0) cannot flatten the rest:
    the 2nd to 98th percentiles, narrowed to 4 interquartile ranges beyond the quartiles,
    widened again to show `keep` (the marked point)."""
    values = sorted(y for y in (_float(v) for v in ys) if math.isfinite(y))
    if not values:
        return None
    at = lambda q: values[int(q * (len(values) - 1))]  # noqa: E731
    spread = 4 * (at(0.75) - at(0.25))
    lo, hi = max(at(0.02), at(0.25) - spread), min(at(0.98), at(0.75) + spread)
    if keep is not None and math.isfinite(keep):
        lo, hi = min(lo, keep), max(hi, keep)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = 0.08 * (hi - lo)
    return lo - pad, hi + pad


def tangent_equation(at: dict) -> str:
    """`tangent: y = 1.76 − 0.1056·(x − 2.08)`: signs written once, never `+ −`."""
    a, fa, slope = (_float(at[k]) for k in ("x", "f", "df"))
    return (f"tangent: y = {fa:.4g} {'−' if slope < 0 else '+'} {abs(slope):.4g}"
            f"·(x {'+' if a < 0 else '−'} {abs(a):.4g})").replace("-", "−")


def figure_1d(data: dict, title: str = "") -> Figure:
    """f with its tangent line at the point, and f′ (and f″) below it."""
    rows = 3 if data.get("d2f") and data.get("show_d2f") else 2
    # Fixed margins: matplotlib's constrained layout would triple the drawing time.
    figure = Figure(figsize=(7, 2.4 * rows + 0.4))
    axes = figure.subplots(rows, 1, sharex=True)
    figure.subplots_adjust(left=0.11, right=0.97, top=1 - 0.35 / (2.4 * rows + 0.4),
                           bottom=0.45 / (2.4 * rows + 0.4), hspace=0.12)
    xs, at, wrt = data["x"], data["at"], data["wrt"]
    a, fa, slope = _float(at["x"]), _float(at["f"]), _float(at["df"])

    ax = axes[0]
    ax.plot(*with_gaps(xs, data["f"], data["breaks"]), color=BLUE, lw=2, label=f"f({wrt})")
    tangent = [fa + slope * (x - a) for x in xs]
    ax.plot(xs, tangent, color=ORANGE, lw=1.5, ls="--", label=tangent_equation(at))
    ax.plot([a], [fa], "o", color=ORANGE, ms=8, zorder=5)
    ax.annotate(f"({a:.4g}, {fa:.4g})", (a, fa), textcoords="offset points", xytext=(8, 8))
    limits = _clip_limits(data["f"], keep=fa)
    if limits:
        ax.set_ylim(*limits)
    ax.set_ylabel(f"f({wrt})")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    ax.set_title(title or f"f and its tangent at {wrt} = {a:.4g}", fontsize=10)

    _derivative_panel(axes[1], xs, data["df"], data["breaks"], GREEN, f"f′({wrt})",
                      f"f′({wrt}) by autograd", (a, slope))
    if rows == 3:
        _derivative_panel(axes[2], xs, data["d2f"], data["breaks"], PURPLE, f"f″({wrt})",
                          f"f″({wrt}) by autograd (create_graph=True)", None)
    for ax in axes:
        ax.axhline(0, color=GREY, lw=0.6)
        ax.grid(alpha=0.25)
    axes[-1].set_xlabel(wrt)
    return figure


def _derivative_panel(ax, xs, ys, breaks, color, name, label, point) -> None:
    """One derivative under the function, with the slope at the point marked."""
    ax.plot(*with_gaps(xs, ys, breaks), color=color, lw=2, label=label)
    if point is not None:
        ax.plot([point[0]], [point[1]], "o", color=ORANGE, ms=7, zorder=5)
        ax.annotate(f"slope {point[1]:.4g}", point, textcoords="offset points", xytext=(8, 8))
    limits = _clip_limits(ys, keep=point[1] if point is not None else None)
    if limits:
        ax.set_ylim(*limits)
    ax.set_ylabel(name)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8)


def figure_2d(data: dict) -> Figure:
    """Contour of f with the point, ∇f and −∇f, and the two slices through the point."""
    figure = Figure(figsize=(10, 4.2))
    grid = figure.add_gridspec(2, 2, width_ratios=(1.25, 1), left=0.07, right=0.98, top=0.93,
                               bottom=0.11, wspace=0.28, hspace=0.45)
    ax = figure.add_subplot(grid[:, 0])
    xs, ys = data["x"], data["y"]
    zs = [[_float(v) for v in row] for row in data["f"]]
    contour = ax.contourf(xs, ys, zs, levels=20, cmap="viridis")
    ax.contour(xs, ys, zs, levels=20, colors="white", linewidths=0.4, alpha=0.5)
    figure.colorbar(contour, ax=ax, shrink=0.85)
    at = data["at"]
    px, py = _float(at["x"]), _float(at["y"])
    gx, gy = (_float(g) for g in at["grad"])
    span = max(xs[-1] - xs[0], ys[-1] - ys[0])
    norm = math.hypot(gx, gy) or 1.0
    scale = 0.18 * span / norm
    rise = ax.annotate("", (px + gx * scale, py + gy * scale), (px, py),
                       arrowprops={"arrowstyle": "-|>", "color": ORANGE, "lw": 2.5})
    descend = ax.annotate("", (px - gx * scale, py - gy * scale), (px, py),
                          arrowprops={"arrowstyle": "-|>", "color": "white", "lw": 2.5, "ls": "--"})
    rise.arrow_patch.set_gid("gradient-arrow")  # ids let a test find the arrows in the SVG
    descend.arrow_patch.set_gid("descent-arrow")
    ax.plot([px], [py], "o", color=ORANGE, ms=8, markeredgecolor="white")
    ax.set_xlabel(data["wx"])
    ax.set_ylabel(data["wy"])
    ax.set_title(f"∇f = ({gx:.4g}, {gy:.4g})  (orange);  −∇f, the descent direction (white)",
                 fontsize=9)
    middle_row = min(range(len(ys)), key=lambda i: abs(ys[i] - py))
    middle_col = min(range(len(xs)), key=lambda i: abs(xs[i] - px))
    for position, (axis_values, values, name, slope, point) in enumerate((
            (xs, zs[middle_row], data["wx"], gx, px), (ys, [row[middle_col] for row in zs], data["wy"], gy, py))):
        sub = figure.add_subplot(grid[position, 1])
        sub.plot(axis_values, values, color=BLUE, lw=2)
        f_at = _float(at["f"])
        sub.plot(axis_values, [f_at + slope * (v - point) for v in axis_values], color=ORANGE,
                 ls="--", lw=1.2)
        sub.plot([point], [f_at], "o", color=ORANGE)
        sub.set_title(f"f against {name}, others fixed: slope {slope:.4g}", fontsize=9)
        limits = _clip_limits(values)
        if limits:
            sub.set_ylim(*limits)
        sub.grid(alpha=0.25)
    return figure


def to_bytes(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "svg":
        FigureCanvasSVG(figure).print_svg(buffer, metadata=SVG_METADATA)
    else:
        FigureCanvasAgg(figure).print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def figure_loss(steps: list[dict]) -> Figure:
    """The value at each step, on a log scale (absolute values when it goes negative)."""
    figure = Figure(figsize=(5, 3))
    figure.subplots_adjust(left=0.16, right=0.96, top=0.9, bottom=0.16)
    ax = figure.add_subplot()
    values = [_float(s["value"]) for s in steps]
    shown = [abs(v) if math.isfinite(v) else math.nan for v in values]
    ax.plot([s["step"] for s in steps], shown, color=BLUE, lw=1.8)
    if all(v > 0 for v in shown if math.isfinite(v)) and any(math.isfinite(v) for v in shown):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("|value|" if any(v < 0 for v in values if math.isfinite(v)) else "value")
    ax.set_title("loss per step (log scale)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    return figure


def figure_path(result: dict, landscape: dict | None) -> Figure:
    """The descent's path on the contour (two inputs) or on the curve (one input)."""
    figure = Figure(figsize=(5, 3.6))
    figure.subplots_adjust(left=0.14, right=0.96, top=0.91, bottom=0.14)
    ax = figure.add_subplot()
    names = list(result["final"])
    path = [[_float(s["inputs"][n]) for n in names] for s in result["steps"]]
    path.append([_float(result["final"][n]) for n in names])
    if landscape and "wx" in landscape:
        zs = [[_float(v) for v in row] for row in landscape["f"]]
        ax.contourf(landscape["x"], landscape["y"], zs, levels=20, cmap="viridis")
        ax.plot([p[0] for p in path], [p[1] for p in path], "-", color=ORANGE, lw=1.5)
        ax.plot([path[0][0]], [path[0][1]], "o", color="white", ms=7, label="start")
        ax.plot([path[-1][0]], [path[-1][1]], "*", color=ORANGE, ms=12, label="end")
        ax.set_xlabel(landscape["wx"])
        ax.set_ylabel(landscape["wy"])
    elif landscape:
        ax.plot(*with_gaps(landscape["x"], landscape["f"], landscape["breaks"]), color=BLUE, lw=2)
        values = [_float(s["value"]) for s in result["steps"]]
        ax.plot([p[0] for p in path[:-1]], values, ".-", color=ORANGE, lw=1, ms=4)
        ax.set_xlabel(landscape["wrt"])
        limits = _clip_limits(landscape["f"])
        if limits:
            ax.set_ylim(*limits)
    ax.set_title("the path of gradient descent", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return figure


def figure_fit(result: dict) -> Figure:
    """The regression lab: the data, and the fitted line at a few moments of the descent."""
    figure = Figure(figsize=(5, 3.6))
    figure.subplots_adjust(left=0.12, right=0.96, top=0.91, bottom=0.1)
    ax = figure.add_subplot()
    xs, ys = result["points"]["x"], result["points"]["y"]
    ax.scatter(xs, ys, s=8, color=GREY, alpha=0.6, label="data")
    first, second = list(result["final"])
    steps = result["steps"]
    moments = sorted({0, len(steps) // 10, len(steps) // 3, len(steps) - 1})
    lo, hi = min(xs), max(xs)
    for order, index in enumerate(moments):
        b0, b1 = (_float(steps[index]["inputs"][n]) for n in (first, second))
        alpha = 0.3 + 0.7 * order / max(1, len(moments) - 1)
        ax.plot([lo, hi], [b0 + b1 * lo, b0 + b1 * hi], color=ORANGE, alpha=alpha, lw=2,
                label=f"step {steps[index]['step']}: {first}={b0:.3g}, {second}={b1:.3g}")
    ax.legend(fontsize=7)
    ax.set_title(f"fitted line y = {first} + {second}·x as the descent moves", fontsize=10)
    return figure


def data_uri(figure: Figure) -> str:
    """An SVG figure as a data: URI for an <img> (the page's CSP allows data: images)."""
    import base64
    return "data:image/svg+xml;base64," + base64.b64encode(to_bytes(figure, "svg")).decode()
