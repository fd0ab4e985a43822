"""Embeddable images of a function's graph: /graph.svg, /graph.png and /graph.dot."""
from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from . import evaluator, render
from .errors import ChainruleError
from .query import function_from_query, grad_output_from_query, view_from_query

bp = Blueprint("images", __name__)

MIMETYPES = {"svg": "image/svg+xml", "png": "image/png", "dot": "text/vnd.graphviz; charset=utf-8"}


def _graph_response(fmt: str) -> Response:
    try:
        source, inputs = function_from_query(request.args)
        view = view_from_query(request.args)
        trace = evaluator.evaluate("trace", source=source, inputs=inputs,
                                   grad_output=grad_output_from_query(request.args))
        dot = render.dot_source(trace, view)
        body = dot.encode() if fmt == "dot" else render.run_dot(dot, fmt)
        status = 200
    except ChainruleError as error:
        if fmt == "dot" or error.kind == "busy":
            raise
        body, status = render.error_image(error.message, fmt), error.status
    response = Response(body, status=status, mimetype=MIMETYPES[fmt])
    if status == 200:
        # The same query always gives the same bytes: let browsers and proxies keep them.
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.make_conditional(request)
    return response


@bp.get("/graph.svg")
def graph_svg():
    return _graph_response("svg")


@bp.get("/graph.png")
def graph_png():
    return _graph_response("png")


@bp.get("/graph.dot")
def graph_dot():
    return _graph_response("dot")
