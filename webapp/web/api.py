"""JSON routes: /api/trace and /healthz."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request

from ..sandbox import gate as evaluator, shared_state
from ..services import services
from ..errors import ChainruleError, bad_input
from ..lesson.error_guards import guards_for_error
from ..limits import MAX_NESTING
from .stored_json import answer_by_url
from .query import function_from_query, grad_output_from_query, number_param, plot_job, plot_request

bp = Blueprint("api", __name__)


def json_body() -> dict:
    """The body as a JSON object; NaN, Infinity and deep nesting are refused here."""
    try:
        body = json.loads(request.get_data(cache=True) or b"null",
                          parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise bad_input("The request body must be a JSON object (numbers finite, lists "
                        f"nested at most {MAX_NESTING} deep).")
    return body


def _refuse_constant(text):
    raise ValueError(text)


def _inputs(body: dict) -> dict:
    inputs = body.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise bad_input("inputs must be an object of names and values.")
    return inputs


@bp.get("/healthz")
def healthz():
    """200 while this process can serve, else 503 (a load balancer takes it out); with
    Redis, its state: "unreachable" still serves, from this process's own caches."""
    app = current_app._get_current_object()
    unready = evaluator.workers_unready(app)
    body = {"status": "ok"} if unready is None else {"status": "unavailable", "reason": unready}
    if services(app).redis is not None:
        body["redis"] = shared_state.redis_state(app)
    response = jsonify(body)
    if unready is not None:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    if app.config["DEBUG_HEADERS"]:
        # How many layouts `dot` has made: the benchmark checks its cold cases were really cold.
        response.headers["X-Chainrule-Layouts"] = str(services(app).drawing.runs)
    return response


@bp.post("/api/trace")
def trace():
    body = json_body()
    source = body.get("source")
    if not isinstance(source, str):
        raise bad_input("source must be the function's text.")
    job = {"source": source, "inputs": _inputs(body), "grad_output": body.get("grad_output")}
    if body.get("fold") is not None:  # folding.py: false, true or "auto"; unfolded when absent
        job["fold"] = body["fold"] if body["fold"] in (True, False, "auto") else \
            _bad_fold()
    if body.get("graph_of") is not None:  # "function": the program's own pass's graph (f's)
        if body["graph_of"] not in ("output", "function"):
            raise bad_input("graph_of must be output or function.")
        job["of_pass"] = body["graph_of"] == "function"
    if body.get("tangent") is not None:
        tangent = body["tangent"]
        if not isinstance(tangent, dict):
            raise bad_input("tangent must be an object of input names and directions.")
        job["tangent"] = tangent
    try:
        result = evaluator.evaluate("trace", **job)
    except ChainruleError as error:
        if error.kind != "busy":
            error.guards = guards_for_error(source, error)
        raise
    return jsonify(result)


def _bad_fold():
    raise bad_input('fold must be true, false or "auto".')


@bp.post("/api/inputs")
def inputs():
    """The inputs a source needs, for the editor's boxes (an addition to API.md)."""
    source = json_body().get("source")
    if not isinstance(source, str):
        raise bad_input("source must be the function's text.")
    return jsonify(evaluator.evaluate("inputs", source=source))


@bp.get("/api/plot")
def plot():
    """f, f', f'' sampled by autograd (API.md); `wrt=x1,x2` gives a contour grid instead."""
    def sampled():
        source, inputs = function_from_query(request.args)
        kind, fields = plot_job(plot_request(request.args, inputs))
        return evaluator.evaluate(kind, source=source, inputs=inputs, **fields)
    return answer_by_url(sampled)  # the class asks each example's plot: bytes made once


@bp.get("/api/check")
def check():
    """Autograd's gradient beside central differences (`step=`), for every input entry."""
    source, inputs = function_from_query(request.args)
    step = number_param(request.args, "step", 1e-3)
    return jsonify(evaluator.evaluate("check", source=source, inputs=inputs, step=step,
                                      grad_output=grad_output_from_query(request.args)))


def _query_job(kind: str):
    source, inputs = function_from_query(request.args)
    return jsonify(evaluator.evaluate(kind, source=source, inputs=inputs))


@bp.get("/api/jacobian")
def jacobian():
    """The Jacobian of a small non-scalar output, one backward pass per row."""
    return _query_job("jacobian")


@bp.post("/api/optimize")
def optimize():
    """Gradient descent, the textbook loop (API.md)."""
    body = json_body()
    source = body.get("source")
    if not isinstance(source, str):
        raise bad_input("source must be the function's text.")
    return jsonify(evaluator.evaluate("optimize", source=source, inputs=_inputs(body),
                                      lr=body.get("lr", 0.01), steps=body.get("steps", 100)))


@bp.get("/api/gradcheck")
def gradcheck():
    """"Check my backward": gradcheck of each custom autograd Function, in float64."""
    return _query_job("gradcheck")


@bp.get("/api/hessian")
def hessian():
    """Second derivatives with create_graph=True."""
    return _query_job("hessian")
