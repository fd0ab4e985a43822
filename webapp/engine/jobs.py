"""What a worker can be asked to do: plain functions with explicit signatures, returning JSON data.

A job crosses the pipe as {"kind", ...fields}; `handle` binds the fields to the function
`HANDLERS[kind]` names, so a field no function takes is refused, never ignored.

A job may carry `also`: jobs on the same source whose answers its sender will want next
(the page's plot beside its graph). Each runs after the job's own answer is made, in the
same child, on a budget of its own (job_state.on_a_budget); its answer comes back in
`also`, or null when it was refused, failed or ran past the budget (its sender then asks
for it on its own). Only for a program chainrule's interpreter ran: one run as CPython may
change the process for what runs after it in the same child.
"""
from __future__ import annotations

import inspect

from ..errors import OUT_OF_MEMORY, ChainruleError, bad_input, limit
from .checks import check_backward, finite_differences, jacobian
from .descent import hessian, optimize
from .evaluation import trace_program
from .job_state import on_a_budget
from .sampling import sample_1d, sample_2d
from ..language.allocation import AllocationGuard
from ..language.frontend import (as_cpython, choose_language, current_language, in_language,
                                 parse_source, source_language)
from ..sandbox.cpython import allowed_here
from ..limits import ALSO_SECONDS, ALSO_WALL_SECONDS, DEFAULT_LIMITS, default_span
from ..memo import MiB, bytes_bounded


def job_inputs(source: str) -> dict:
    """The free names of a source, for the editor's input boxes."""
    return {"inputs": parse_source(source, DEFAULT_LIMITS).inputs}


def job_trace(source: str, inputs: dict | None = None, grad_output=None, tangent=None,
              fill_missing=None, fold=None, lesson: bool = True, of_pass: bool = False) -> dict:
    """The trace of API.md; `fill_missing` gives new names a starting value (the page);
    `fold` (lesson/folding.py: True, False or "auto") folds repeated structure; without
    `lesson`, no tape, explanations or guards (an image: a quarter of a small trace's time);
    `of_pass`: the graph the program's own backward pass ran on, not the output's."""
    inputs = dict(inputs or {})
    if fill_missing is not None:
        for name in parse_source(source, DEFAULT_LIMITS).inputs:
            inputs.setdefault(name, fill_missing)
    _, trace = trace_program(source, inputs, grad_output, DEFAULT_LIMITS, tangent=tangent, fold=fold,
                             lesson=bool(lesson), of_pass=bool(of_pass))
    program = parse_source(source, DEFAULT_LIMITS)
    if getattr(program, "language", "python") == "r":  # the Python it became, for the page
        trace.language, trace.python = "r", program.python
    return trace.to_json()  # the one JSON of the trace: the worker writes it down the pipe


def job_plot(source: str, wrt: str, lo: float, hi: float, n: int, inputs: dict | None = None,
             order: int = 2) -> dict:
    return sample_1d(source, inputs or {}, wrt, float(lo), float(hi), int(n), DEFAULT_LIMITS,
                     order=int(order))


def job_contour(source: str, wx: str, wy: str, ranges: list, inputs: dict | None = None,
                n: int = 40) -> dict:
    return sample_2d(source, inputs or {}, wx, wy, ranges, int(n), DEFAULT_LIMITS)


def job_plot_image(source: str, format: str, wrt: str | None = None, lo: float = -3.0,
                   hi: float = 3.0, n: int = 200, inputs: dict | None = None, wx: str | None = None,
                   wy: str | None = None, ranges: list | None = None, show_d2f: bool = False) -> dict:
    """Sample and draw in the worker: matplotlib's CPU time stays off the web process."""
    import base64
    from ..drawing import plots
    if wy:
        figure = plots.figure_2d(job_contour(source, wx, wy, ranges, inputs, n))
    else:
        data = job_plot(source, wrt, lo, hi, n, inputs)
        figure = plots.figure_1d(dict(data, show_d2f=show_d2f))
    body = plots.to_bytes(figure, format)
    return {"body": body.decode() if format == "svg" else base64.b64encode(body).decode()}


def job_descent_figures(source: str, result: dict, landscape: dict | None = None) -> dict:
    """The descent panel's loss curve, path and fit, drawn here rather than in the web process."""
    from ..drawing import plots
    return {"loss_uri": plots.data_uri(plots.figure_loss(result["steps"])),
            "path_uri": plots.data_uri(plots.figure_path(result, landscape)) if landscape else None,
            "fit_uri": plots.data_uri(plots.figure_fit(result)) if "points" in result else None}


def job_check(source: str, inputs: dict | None = None, grad_output=None, step: float = 1e-3) -> dict:
    return finite_differences(source, inputs or {}, grad_output, float(step), DEFAULT_LIMITS)


def job_jacobian(source: str, inputs: dict | None = None) -> dict:
    return jacobian(source, inputs or {}, DEFAULT_LIMITS)


def job_optimize(source: str, inputs: dict | None = None, lr=None, steps=None) -> dict:
    return optimize(source, inputs or {}, lr, steps, DEFAULT_LIMITS)


def job_gradcheck(source: str, inputs: dict | None = None) -> dict:
    return check_backward(source, inputs or {}, DEFAULT_LIMITS)


def job_hessian(source: str, inputs: dict | None = None) -> dict:
    return hessian(source, inputs or {}, DEFAULT_LIMITS)


HANDLERS = {"inputs": job_inputs, "trace": job_trace, "plot": job_plot, "contour": job_contour,
            "check": job_check, "jacobian": job_jacobian, "optimize": job_optimize,
            "gradcheck": job_gradcheck, "hessian": job_hessian, "plot_image": job_plot_image,
            "descent_figures": job_descent_figures}
# What the pool adds to every job, and the answers wanted next; not the handler's business.
ENVELOPE = ("kind", "language", "deadline", "also")
# What an `also` job may be, with the fields it shares with the job that carries it.
ALSO_KINDS = {"plot"}
SHARED = ("source", "language")


@bytes_bounded(1 * MiB)  # the handlers are fixed; reading one took ~20 µs a job
def _signature(handler) -> inspect.Signature:
    return inspect.signature(handler)


def _arguments(handler, job: dict):
    """The job's fields bound to the handler's signature; a field it does not take is a 400."""
    fields = {key: value for key, value in job.items() if key not in ENVELOPE}
    try:
        return _signature(handler).bind(**fields)
    except TypeError:
        raise bad_input(f"The job {job.get('kind')!r} does not take the fields "
                        f"{', '.join(sorted(fields))}.") from None


def _run(handler, job: dict, language) -> dict:
    # every torch call sized before it runs, in the source's own language
    with source_language(language), AllocationGuard(DEFAULT_LIMITS):
        arguments = _arguments(handler, job)
        return {"ok": handler(*arguments.args, **arguments.kwargs)}


def handle(job: dict) -> dict:
    """Run one job; every refusal comes back as the error shape of API.md."""
    handler = HANDLERS.get(job.get("kind"))
    language = None
    try:
        if handler is None:
            raise bad_input(f"Unknown job {job.get('kind')!r}.")
        if not isinstance(job.get("source"), str):
            raise bad_input("The request needs the function's source as a string.")
        language = choose_language(job.get("language") or current_language(), job["source"])
        try:
            return _with_also(_run(handler, job, language), job, language)
        except ChainruleError as error:
            # A construct chainrule's interpreter does not speak: the program runs as real
            # CPython instead, where that is allowed (a confined worker, a trusted owner).
            if not (_beyond_the_interpreter(error) and language in ("python", "r") and allowed_here()):
                raise
        with as_cpython():
            # No `also` here: a program run as CPython may change the process (a default
            # dtype, a counter on torch), and a plot made after it would not be its own job's.
            return _run(handler, job, language)
    except ChainruleError as error:
        return in_language(error, language).to_dict()
    except MemoryError:
        return limit(OUT_OF_MEMORY).to_dict()
    except RecursionError:
        return limit("This function is nested too deeply.").to_dict()


def _with_also(answer: dict, job: dict, language) -> dict:
    """The job's answer, with the jobs it carries in `also` made after it (each on its budget,
    in the mode the job ran in): each {"job": the fields it was made with, "ok": its answer},
    or null when it was not made."""
    wanted = job.get("also")
    if not isinstance(wanted, list) or not wanted or "ok" not in answer:
        return answer
    made = []
    for extra in wanted:
        fields = page_plot(answer["ok"], job, extra) if isinstance(extra, dict) and \
            extra.get("kind") in ALSO_KINDS else None
        if fields is None:
            made.append(None)
            continue
        whole = {"kind": extra["kind"], **fields, **{key: job[key] for key in SHARED if key in job}}
        made.append(on_a_budget(ALSO_SECONDS, ALSO_WALL_SECONDS,
                                lambda: {"job": fields, **_run(HANDLERS["plot"], whole, language)}))
    return {**answer, "also": made}


def page_plot(trace: dict, job: dict, wanted: dict) -> dict | None:
    """The fields of the plot job the page will ask for beside this trace (web/pages.py's
    _plot_context and query.plot_request, read from the same trace): its inputs, as the
    job gave or filled them; against `wanted["wrt"]`, else the first that is a number; over
    `wanted`'s lo and hi, else the default span. None when the page draws no such plot."""
    if not isinstance(trace, dict) or (trace.get("output") or {}).get("shape") != []:
        return None
    typed, fill = job.get("inputs") or {}, job.get("fill_missing")
    if any(name not in typed and fill is None for name in trace.get("inputs", ())):
        return None
    inputs = {name: typed.get(name, fill) for name in trace.get("inputs", ())}
    numbers = [name for name, value in inputs.items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    wrt = wanted.get("wrt") or (numbers[0] if numbers else None)
    if wrt not in numbers:
        return None
    lo, hi = default_span([inputs[wrt]])
    lo = lo if wanted.get("lo") is None else wanted["lo"]
    hi = hi if wanted.get("hi") is None else wanted["hi"]
    return {"inputs": inputs, "wrt": wrt, "lo": lo, "hi": hi, "n": wanted.get("n")}


def _beyond_the_interpreter(error: ChainruleError) -> bool:
    """A refusal of what chainrule's interpreter speaks, not of the program: CPython may run
    it. A refusal that names the student's slip (`x^2`, `tourch`) is final (errors.slip)."""
    if getattr(error, "interpreter_only", False):
        return True
    return error.kind == "unsupported" and not getattr(error, "final", False)
