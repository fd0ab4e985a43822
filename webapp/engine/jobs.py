"""What a worker can be asked to do, each returning plain JSON data."""
from __future__ import annotations

from ..errors import ChainruleError, bad_input, limit
from .checks import check_backward, finite_differences, jacobian
from .descent import hessian, optimize
from .evaluation import trace_values
from .sampling import sample_1d, sample_2d
from ..language.allocation import AllocationGuard
from ..language.frontend import (choose_language, current_language, in_language, parse_source,
                                 source_language)
from ..limits import DEFAULT_LIMITS


def job_inputs(job: dict) -> dict:
    """The free names of a source, for the editor's input boxes."""
    return {"inputs": parse_source(job["source"], DEFAULT_LIMITS).inputs}


def job_trace(job: dict) -> dict:
    inputs = dict(job.get("inputs") or {})
    if job.get("fill_missing") is not None:
        # The page gives new names a starting value instead of refusing them.
        for name in parse_source(job["source"], DEFAULT_LIMITS).inputs:
            inputs.setdefault(name, job["fill_missing"])
    result = trace_values(job["source"], inputs, job.get("grad_output"), DEFAULT_LIMITS,
                          tangent=job.get("tangent"))
    program = parse_source(job["source"], DEFAULT_LIMITS)
    if getattr(program, "language", "python") == "r":  # the Python it became, for the page
        result.update(language="r", python=program.python)
    return result


def job_plot(job: dict) -> dict:
    return sample_1d(job["source"], job.get("inputs") or {}, job["wrt"], float(job["lo"]),
                     float(job["hi"]), int(job["n"]), DEFAULT_LIMITS, order=int(job.get("order", 2)))


def job_plot_image(job: dict) -> dict:
    """Sample and draw in the worker: matplotlib's CPU time stays off the web process."""
    import base64
    from ..drawing import plots
    if job.get("wy"):
        data = job_contour(job)
        figure = plots.figure_2d(data)
    else:
        data = job_plot(job)
        figure = plots.figure_1d(dict(data, show_d2f=job.get("show_d2f", False)))
    body = plots.to_bytes(figure, job["format"])
    return {"body": body.decode() if job["format"] == "svg" else base64.b64encode(body).decode()}


def job_descent_figures(job: dict) -> dict:
    """The descent panel's loss curve, path and fit, drawn here rather than in the web process."""
    from ..drawing import plots
    result, landscape = job["result"], job.get("landscape")
    return {"loss_uri": plots.data_uri(plots.figure_loss(result["steps"])),
            "path_uri": plots.data_uri(plots.figure_path(result, landscape)) if landscape else None,
            "fit_uri": plots.data_uri(plots.figure_fit(result)) if "points" in result else None}


def job_contour(job: dict) -> dict:
    return sample_2d(job["source"], job.get("inputs") or {}, job["wx"], job["wy"],
                     job["ranges"], int(job.get("n", 40)), DEFAULT_LIMITS)


def job_check(job: dict) -> dict:
    return finite_differences(job["source"], job.get("inputs") or {}, job.get("grad_output"),
                              float(job.get("step", 1e-3)), DEFAULT_LIMITS)


def job_jacobian(job: dict) -> dict:
    return jacobian(job["source"], job.get("inputs") or {}, DEFAULT_LIMITS)


def job_optimize(job: dict) -> dict:
    return optimize(job["source"], job.get("inputs") or {}, job.get("lr"), job.get("steps"),
                    DEFAULT_LIMITS)


def job_gradcheck(job: dict) -> dict:
    return check_backward(job["source"], job.get("inputs") or {}, DEFAULT_LIMITS)


def job_hessian(job: dict) -> dict:
    return hessian(job["source"], job.get("inputs") or {}, DEFAULT_LIMITS)


HANDLERS = {"inputs": job_inputs, "trace": job_trace, "plot": job_plot, "contour": job_contour,
            "check": job_check, "jacobian": job_jacobian, "optimize": job_optimize,
            "gradcheck": job_gradcheck, "hessian": job_hessian, "plot_image": job_plot_image,
            "descent_figures": job_descent_figures}


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
        # every torch call sized before it runs, in the source's own language
        with source_language(language), AllocationGuard(DEFAULT_LIMITS):
            return {"ok": handler(job)}
    except ChainruleError as error:
        return in_language(error, language).to_dict()
    except MemoryError:
        return limit("This function needs more memory than a student's share.").to_dict()
    except RecursionError:
        return limit("This function is nested too deeply.").to_dict()
