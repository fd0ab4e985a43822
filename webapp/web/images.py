"""Embeddable images: the graph (/graph.svg, .png, .dot) and the plots (/plot.svg, .png)."""
from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, Response, request

from ..sandbox import gate as evaluator
from ..drawing import render, themes
from ..drawing.layout import LayoutTimeout
from ..drawing.refusal_image import error_image
from ..cache import note
from ..errors import ChainruleError
from ..services import services
from .query import (fold_from_query, function_from_query, graph_of_from_query, grad_output_from_query, plot_job, plot_request,
                    view_from_query)

bp = Blueprint("images", __name__)

MIMETYPES = {"svg": "image/svg+xml", "png": "image/png", "dot": "text/vnd.graphviz; charset=utf-8"}


def _graph_body(fmt: str) -> bytes:
    source, inputs = function_from_query(request.args)
    view = view_from_query(request.args)
    trace = evaluator.evaluate("trace", source=source, inputs=inputs,
                               grad_output=grad_output_from_query(request.args),
                               fold=fold_from_query(request.args), lesson=False,
                               of_pass=graph_of_from_query(request.args))
    if fmt == "dot":
        return render.dot_source(trace, view).encode()
    state, who = services().drawing, evaluator.sender()
    if themes.theme_from(request.args) == "dark":  # the fill-in template is light only
        return render.run_dot(themes.dark(render.dot_source(trace, view)), fmt, state, who)
    return render.draw(trace, view, fmt, state=state, who=who)


def _plot_body(fmt: str) -> bytes:
    """The plot, sampled and drawn by a worker (matplotlib is CPU-heavy)."""
    source, inputs = function_from_query(request.args)
    wanted = plot_request(request.args, inputs)
    _, fields = plot_job(wanted)
    body = evaluator.evaluate("plot_image", source=source, inputs=inputs, format=fmt,
                              show_d2f=request.args.get("d2f") in ("1", "true", "yes"),
                              **fields)["body"]
    return body.encode() if fmt == "svg" else base64.b64decode(body)


def _image_response(make_body, fmt: str) -> Response:
    """An image, or a small image of the refusal; cacheable by ETag when it worked.

    A successful image is kept by its full URL: the same query is the same bytes, so
    a repeated request (thirty students opening one link) costs a dictionary lookup.
    """
    key = request.full_path
    responses = services().images
    cached = responses.get(key)
    note(cached is not None)
    if cached is not None:
        return _finish(Response(cached[0], status=200, mimetype=MIMETYPES[fmt]), cached[1])
    try:
        body, status = make_body(fmt), 200
        etag = hashlib.sha256(body).hexdigest()[:32]
        responses.put(key, (body, etag), len(body) + len(key))
    except ChainruleError as error:
        if isinstance(error, LayoutTimeout):  # `dot`'s time for this sender: as an evaluation's
            evaluator.penalise_sender()
        if fmt == "dot" or error.kind == "busy":
            raise
        body, status = error_image(error.message, fmt, services().drawing), error.status
    return _finish(Response(body, status=status, mimetype=MIMETYPES[fmt]), etag if status == 200 else None)


def _finish(response: Response, etag: str | None) -> Response:
    if etag:
        # The same query always gives the same bytes: let browsers and proxies keep them.
        response.set_etag(etag)
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.make_conditional(request)
    return response


@bp.get("/graph.svg")
def graph_svg():
    return _image_response(_graph_body, "svg")


@bp.get("/graph.png")
def graph_png():
    return _image_response(_graph_body, "png")


@bp.get("/graph.dot")
def graph_dot():
    return _image_response(_graph_body, "dot")


@bp.get("/plot.svg")
def plot_svg():
    return _image_response(_plot_body, "svg")


@bp.get("/plot.png")
def plot_png():
    return _image_response(_plot_body, "png")
