"""What a worker can be asked to do, each returning plain JSON data."""
from __future__ import annotations

from .errors import ChainruleError, bad_input, limit
from .evaluation import trace_values
from .language.validator import parse_program
from .limits import DEFAULT_LIMITS


def job_inputs(job: dict) -> dict:
    """The free names of a source, for the editor's input boxes."""
    return {"inputs": parse_program(job["source"], DEFAULT_LIMITS).inputs}


def job_trace(job: dict) -> dict:
    inputs = dict(job.get("inputs") or {})
    if job.get("fill_missing") is not None:
        # The page gives new names a starting value instead of refusing them.
        for name in parse_program(job["source"], DEFAULT_LIMITS).inputs:
            inputs.setdefault(name, job["fill_missing"])
    return trace_values(job["source"], inputs, job.get("grad_output"), DEFAULT_LIMITS)


HANDLERS = {"inputs": job_inputs, "trace": job_trace}


def handle(job: dict) -> dict:
    """Run one job; every refusal comes back as the error shape of API.md."""
    handler = HANDLERS.get(job.get("kind"))
    try:
        if handler is None:
            raise bad_input(f"Unknown job {job.get('kind')!r}.")
        if not isinstance(job.get("source"), str):
            raise bad_input("The request needs the function's source as a string.")
        return {"ok": handler(job)}
    except ChainruleError as error:
        return error.to_dict()
    except MemoryError:
        return limit("This function needs more memory than a student's share.").to_dict()
    except RecursionError:
        return limit("This function is nested too deeply.").to_dict()
