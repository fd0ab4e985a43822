"""JSON routes: /api/trace and /healthz."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import evaluator
from .errors import bad_input

bp = Blueprint("api", __name__)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_input("The request body must be a JSON object.")
    return body


def _inputs(body: dict) -> dict:
    inputs = body.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise bad_input("inputs must be an object of names and values.")
    return inputs


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.post("/api/trace")
def trace():
    body = _json_body()
    source = body.get("source")
    if not isinstance(source, str):
        raise bad_input("source must be the function's text.")
    result = evaluator.evaluate("trace", source=source, inputs=_inputs(body),
                                grad_output=body.get("grad_output"))
    return jsonify(result)


@bp.post("/api/inputs")
def inputs():
    """The inputs a source needs, for the editor's boxes (an addition to API.md)."""
    source = _json_body().get("source")
    if not isinstance(source, str):
        raise bad_input("source must be the function's text.")
    return jsonify(evaluator.evaluate("inputs", source=source))
