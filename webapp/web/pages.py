"""The classroom page, its htmx partials, and the embeddable player."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..sandbox import gate as evaluator
from ..drawing import render
from ..cache import note
from ..drawing.layout import LayoutTimeout
from ..errors import ChainruleError
from ..lesson import folding, practice
from ..lesson.error_guards import guards_for_error
from ..lesson.steps import animation_steps, export_steps
from ..lesson.tape_view import tape_view
from ..limits import MAX_ANIMATION_STEPS, MAX_DESCENT_STEPS
from ..services import services
from .embed_snippet import image_size, image_tag, snippet
from .fold_links import fold_links
from .examples import DEFAULT, EXAMPLES
from .query import (RESERVED, VIEWS, default_span, embed_options, fold_from_query, grad_output_from_query,
                    number_param, page_theme, parse_inputs, plot_job, plot_range, whole_param)
from .query import PLOT_SAMPLES

bp = Blueprint("pages", __name__)

NEW_INPUT_VALUE = 1.0


class PageState:
    """What the URL (or the editor's form) says: source, input values as typed, view."""

    def __init__(self, args):
        self.source = args.get("f")
        self.view = args.get("view") if args.get("view") in VIEWS else "values"
        self.inputs_text = {k: v for k, v in args.items() if k not in RESERVED}
        self.grad_output_text = (args.get("grad_output") or "").strip()
        self.fold = fold_from_query(args)
        # Kept through edits (the editor form carries them back), so a copied link keeps them.
        self.theme = args.get("theme") if args.get("theme") in ("light", "dark") else None
        self.plot = {k: args.get(k).strip() for k in ("wrt", "lo", "hi") if (args.get(k) or "").strip()}
        # Practice mode: the page carries no gradient it asks (lesson/practice.py).
        self.practice = args.get("practice") == "1"
        if self.source is None:
            self.source = DEFAULT.source
            self.inputs_text = {k: json.dumps(v) for k, v in DEFAULT.inputs.items()}

    def parsed_inputs(self) -> dict:
        return parse_inputs(self.inputs_text)

    def query(self, inputs: list[str] | None = None) -> str:
        names = inputs if inputs is not None else list(self.inputs_text)
        pairs = {"f": self.source, **{n: self.inputs_text.get(n, str(NEW_INPUT_VALUE)) for n in names}}
        if self.view != "values":
            pairs["view"] = self.view
        if self.grad_output_text:
            pairs["grad_output"] = self.grad_output_text
        if self.fold != "auto":
            pairs["fold"] = "1" if self.fold else "0"
        if self.theme:
            pairs["theme"] = self.theme
        pairs.update(self.plot)
        return urlencode(pairs)


def page_trace(state: PageState, also: list[dict] | None = None) -> dict:
    """The trace the page draws (through the evaluator and its cache, as every route);
    `also`: what the page asks for next, made in the same job (gate.evaluate)."""
    return evaluator.evaluate("trace", source=state.source, inputs=state.parsed_inputs(),
                              grad_output=grad_output_from_query({"grad_output": state.grad_output_text}),
                              fill_missing=NEW_INPUT_VALUE, fold=state.fold, also=also)


def next_plot(state: PageState) -> list[dict] | None:
    """The plot the page's script will ask for (api.plot, at _plot_context's URL), for the
    graph's job to make beside it: the worker fills in what only the trace knows (the
    program's inputs, the first number among them, its range) and says which job it made
    (gate.evaluate caches it under that job's key). Only what the URL keeps is given here."""
    wrt = state.plot.get("wrt")
    if wrt and "," in wrt:
        return None  # two inputs: a contour, not made beside
    try:
        lo, hi = (number_param(state.plot, name, None, "-4") for name in ("lo", "hi"))
    except ChainruleError:
        return None  # the plot's own request says why
    return [{"kind": "plot", "wrt": wrt or None, "lo": lo, "hi": hi, "n": PLOT_SAMPLES}]


def build_view(state: PageState, plot: bool = False) -> dict:
    """Trace and draw the state's function; on a refusal, the error and the source line.
    With `plot` (the page, which draws one), the plot's samples are made in the trace's job."""
    context = {"state": state, "examples": EXAMPLES, "trace": None, "svg": None, "error": None}
    try:
        trace = page_trace(state, also=next_plot(state) if plot else None)
        # Practice: the graph's data, its SVG and the tape carry no asked gradient.
        shown = practice.without_answers(trace) if state.practice else trace
        svg = render.draw(trace, state.view, "svg", legend=False,
                          asked=frozenset(shown.get("practice", {}).get("asked", ())),
                          state=services().drawing, who=evaluator.sender()).decode()
        context.update(trace=trace, shown_trace=shown, svg=svg[svg.index("<svg"):], inputs=trace["inputs"])
        for name in trace["inputs"]:
            state.inputs_text.setdefault(name, str(NEW_INPUT_VALUE))
        state.inputs_text = {n: state.inputs_text[n] for n in trace["inputs"]}
    except ChainruleError as error:
        if error.kind == "busy":
            raise
        if isinstance(error, LayoutTimeout):  # `dot`'s time for this sender: as an evaluation's
            evaluator.penalise_sender()
        context["error"] = _error_context(error, state.source)
        context["error"]["guards"] = guards_for_error(state.source, error)
        context["inputs"], boxes_certain = _inputs_despite(state, error)
        # The same refusal next time (the gate keeps these too), boxes included: keepable.
        context["same_next_time"] = error.kind in evaluator.SAME_EVERY_TIME and boxes_certain
    query = state.query(context["inputs"])
    root = request.host_url.rstrip("/")
    context.update(
        query=query, share_url=f"{root}/?{query}",
        embed_url=f"{root}{url_for('pages.embed')}?{query}",
        image_url=f"{root}{url_for('images.graph_svg')}?{query}",
        plot=_plot_context(state, context), tape=tape_view(context.get("shown_trace")),
        practice_url=f"{root}/?{query}&practice=1", practice=state.practice,
        practice_api=f"{url_for('practice.answer')}?{query}",
        folded=folding.notice(context["trace"]), fold_urls=fold_links(state, context["inputs"], context["trace"]),
    )
    size = image_size(context["trace"], state.view, context["svg"], lambda t, v: render.draw(  # issue 29
        t, v, "svg", state=services().drawing, who=evaluator.sender()))
    context["image_tag"] = image_tag(context["image_url"], "autograd graph", size)
    context["embed_code"] = snippet(context["embed_url"], context["image_url"], state.source, size)
    if context["trace"] and any(n.get("derivative") for n in context["trace"]["nodes"]):
        # A gradient drawn as the graph PyTorch recorded for it: f's graph can be shown beside.
        context["function_graph_url"] = f"{url_for('images.graph_svg')}?{query}&graph_of=function"
    frames = len(export_steps(context["trace"])) if context["trace"] else 0
    context["animation_refused"] = (f"{frames:,} steps, more than the {MAX_ANIMATION_STEPS} an "
                                    "animation holds") if frames > MAX_ANIMATION_STEPS else None
    return context


def _inputs_despite(state: PageState, error: ChainruleError) -> tuple[list[str], bool]:
    """The input boxes a refused program still gets: the names typed, and, when it ran and
    failed (`rosenbrock(x)` with x = 1.0 indexed as a vector), its free names too, so the
    student can give x the value it needs ([-1, 1]) on the page. And whether they are the
    same next time (False when finding the names was itself refused for a passing reason)."""
    names, certain = list(state.inputs_text), True
    if error.kind == "runtime":
        try:
            names += evaluator.evaluate("inputs", source=state.source)["inputs"]
        except ChainruleError as refusal:
            certain = refusal.kind in evaluator.SAME_EVERY_TIME
            # the error already on the page is the one to read
    for name in dict.fromkeys(names):
        state.inputs_text.setdefault(name, str(NEW_INPUT_VALUE))
    return list(dict.fromkeys(names)), certain


def _plot_context(state: PageState, context: dict) -> dict | None:
    """Which plot the page shows: against the chosen (or first) scalar input."""
    trace = context["trace"]
    if not trace or not trace["inputs"]:
        return None
    scalars = [n for n in trace["inputs"] if trace["leaves"].get(n, {}).get("shape") == []]
    if not scalars or trace["output"]["shape"] != []:
        return {"scalars": scalars, "wrt": None, "reason": "Plots need scalar inputs and a "
                "single-number output." if trace["output"]["shape"] != [] else
                "Plots need an input that is a single number."}
    wrt = state.plot.get("wrt")
    if not wrt or any(w not in scalars for w in wrt.split(",")):
        wrt = scalars[0]
    first = wrt.split(",")[0]
    plot_query = state.query(trace["inputs"]) + ("" if "wrt" in state.plot else f"&wrt={first}")
    value = trace["leaves"][first]["value"]
    try:
        lo, hi = plot_range(state.plot, *default_span([value]))
    except ChainruleError:
        lo, hi = default_span([value])  # the plot's own request says why
    return {"scalars": scalars, "wrt": wrt, "first": first, "value": value, "lo": lo, "hi": hi,
            "step": (hi - lo) / 200, "src": f"{url_for('images.plot_svg')}?{plot_query}",
            "api": f"{url_for('api.plot')}?{plot_query}"}


@bp.get("/partials/check")
def check_partial():
    """Finite differences beside autograd, and the Jacobian for a non-scalar output."""
    source = request.args.get("f", "")
    state = PageState(request.args)
    context = {"state": state, "check": None, "jacobian": None, "gradcheck": None, "error": None}
    try:
        inputs = state.parsed_inputs()
        step = number_param(request.args, "step", 1e-3)
        grad_output = grad_output_from_query(request.args)
        context["check"] = evaluator.evaluate("check", source=source, inputs=inputs, step=step,
                                              grad_output=grad_output)
        if grad_output is not None:
            context["jacobian"] = evaluator.evaluate("jacobian", source=source, inputs=inputs)
        if "Function" in source:  # a custom autograd Function: check the user's backward
            context["gradcheck"] = evaluator.evaluate("gradcheck", source=source, inputs=inputs)
    except ChainruleError as error:
        context["error"] = error.message
    context["steps"] = ["0.1", "0.01", "0.001", "0.0001", "1e-05", "1e-06"]
    context["step"] = request.args.get("step") or "0.001"
    return render_template("_check.html", **context)


def _error_context(error: ChainruleError, source: str) -> dict:
    line_text = None
    if error.line:
        lines = source.split("\n")
        if 0 < error.line <= len(lines):
            line_text = lines[error.line - 1]
    return {"kind": error.kind, "message": error.message, "line": error.line, "col": error.col,
            "input": error.input_name,
            "line_text": line_text, "caret": " " * max((error.col or 1) - 1, 0) + "^"}


def _cached_page(template: str, options=None):
    """A whole page by its URL: the class opening one link renders it once.

    `options(context)` adds what only this page reads from the query (its checks may refuse).
    Kept as the UTF-8 bytes sent, so a hit encodes nothing (a 300 KB page with the graph's
    subscripts took 0.1-0.5 ms to encode per request). A refusal is kept only when it is the
    same every time (a typo, the gallery's retain-graph lesson: rendered once per student
    before); a busy server, a limit or a layout's timeout may not happen next time.
    """
    key = (template, request.host_url, request.full_path)
    pages = services().pages
    page = pages.get(key)
    note(page is not None)
    if page is None:
        theme = page_theme(request.args)  # a bad theme is refused before any work
        context = build_view(PageState(request.args), plot=template == "index.html")
        context["theme"] = theme
        if options:
            context.update(options(context))
        page = render_template(template, **context).encode()
        if not context["error"] or context.get("same_next_time"):
            pages.put(key, page, len(page))
    # Flask's own answer for a returned str: the same headers, without encoding again.
    return current_app.response_class(page)


@bp.get("/")
def index():
    return _cached_page("index.html")


@bp.get("/embed")
def embed():
    return _cached_page("embed.html", _embed_options)


def _embed_options(context: dict) -> dict:
    """step (up to this graph's step count), autoplay, controls, code, fit and theme of /embed.
    Unfold and Fold again stay in the embed (the full page may not be framed)."""
    steps = len(animation_steps(context["trace"])) if context["trace"] else MAX_ANIMATION_STEPS
    options = embed_options(request.args, steps)
    kept = urlencode({k: v for k, v in request.args.items()
                      if k in ("autoplay", "controls", "code", "fit")})
    links = {name: f"{url_for('pages.embed')}?{url.split('?', 1)[1]}" + (f"&{kept}" if kept else "")
             if isinstance(url, str) and url.startswith("/?") else url
             for name, url in context["fold_urls"].items()}
    return {"options": options, "theme": options["theme"], "fold_urls": links}


@bp.post("/partials/graph")
def graph_partial():
    """The editor changed: new graph (and new input boxes when the source changed).

    Kept by its form as a page by its URL (bytes and headers, the same rule for refusals):
    a class typing the same exercise draws and renders it once (1-2 ms of this process's
    CPU each time before; bench/cache_hit_cpu.py)."""
    key = ("_update.html", request.host_url, tuple(request.form.items(multi=True)))
    pages = services().pages
    kept = pages.get(key)
    if kept is not None:
        note(True)  # a miss says nothing: the gate's own cache may still answer
        body, headers = kept
    else:
        state = PageState(request.form)
        boxes_shown = list(state.inputs_text)
        context = build_view(state, plot=True)
        # Replace the input boxes only when the names changed, so typing in one keeps its focus.
        names_changed = context["inputs"] != boxes_shown
        context["hints"] = _misspelled(context["inputs"], boxes_shown)
        body = render_template("_update.html", with_inputs=names_changed, **context).encode()
        headers = (("HX-Replace-Url", f"/?{context['query']}" + ("&practice=1" if state.practice else "")),)
        if context["error"]:
            headers += (("HX-Reswap", "none"),)  # keep the last good graph; show the error beside it
        if not context["error"] or context.get("same_next_time"):
            pages.put(key, (body, headers), len(body) + 2 * len(repr(key)))
    response = current_app.response_class(body)
    for name, value in headers:
        response.headers[name] = value
    return response


def _misspelled(names: list[str], shown: list[str]) -> list[tuple[str, str]]:
    """New input names that look like a slip of one already there (`xx` for `x1`).

    Siblings that differ only in their digits (x1, x2) are meant, not misspelled.
    """
    import difflib
    hints = []
    for name in names:
        if name in shown:
            continue
        others = [n for n in shown if n != name and n.rstrip("0123456789") != name.rstrip("0123456789")]
        close = difflib.get_close_matches(name, others, n=1, cutoff=0.5)
        if close:
            hints.append((name, close[0]))
    return hints


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"))


@bp.get("/partials/descent")
def descent_partial():
    """Run gradient descent from the page's inputs and show its path, loss and table."""
    state = PageState(request.args)
    context = {"state": state, "result": None, "error": None}
    try:
        lr = number_param(request.args, "lr", 0.01)
        steps = whole_param(request.args, "steps", 100, 1, MAX_DESCENT_STEPS)
        inputs = state.parsed_inputs()
        result = evaluator.evaluate("optimize", source=state.source, inputs=inputs, lr=lr, steps=steps)
        context.update(result=result, lr=lr, steps=steps, **_descent_figures(state, inputs, result))
    except ChainruleError as error:
        context["error"] = error.message
    return render_template("_descent.html", **context)


def _descent_figures(state, inputs: dict, result: dict) -> dict:
    names = list(result["final"])
    path = [s["inputs"] for s in result["steps"]] + [result["final"]]
    scalars = [n for n in names if all(isinstance(p[n], (int, float)) for p in path)]
    landscape = None
    finite = [p for p in path if all(isinstance(p[n], (int, float)) for n in scalars)]
    if len(names) == len(scalars) and len(scalars) in (1, 2) and finite:
        spans = [(min(p[n] for p in finite), max(p[n] for p in finite)) for n in scalars]
        lo = min(s[0] for s in spans)
        hi = max(s[1] for s in spans)
        pad = max(0.5, 0.15 * (hi - lo))
        kind, fields = plot_job({"wrt": scalars, "lo": lo - pad, "hi": hi + pad,
                                 "n": 40 if len(scalars) == 2 else 200})
        try:
            landscape = evaluator.evaluate(kind, source=state.source, inputs=inputs, **fields)
        except ChainruleError:
            landscape = None
    stride = max(1, len(result["steps"]) // 10)
    rows = [s for s in result["steps"] if s["step"] % stride == 0 or s["step"] in (1, len(result["steps"]))]
    # Drawn in a worker: matplotlib's CPU time counts against the student like evaluation.
    figures = evaluator.evaluate("descent_figures", source=state.source, result=result,
                                 landscape=landscape)
    return {**figures, "table": rows, "replay": json.dumps([s["inputs"] for s in result["steps"]])}
