"""Routes for course authors: /graph.gif, /steps.zip, /tape.md, /tape.tex and /oembed."""
from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit, parse_qsl

from flask import Blueprint, Response, jsonify, request

from ..sandbox import gate as evaluator
from ..drawing import handouts
from ..drawing.themes import theme_from
from ..errors import bad_input
from .query import fold_from_query, function_from_query, grad_output_from_query

bp = Blueprint("exports", __name__)

OEMBED_PATHS = ("/embed", "/graph.svg", "/graph.png", "/graph.gif")
DEFAULT_SIZE = (720, 480)


def _trace() -> dict:
    source, inputs = function_from_query(request.args)
    # Folded as the page and the images fold (fold=auto: large graphs; fold=0: every node).
    return evaluator.evaluate("trace", source=source, inputs=inputs,
                              grad_output=grad_output_from_query(request.args),
                              fold=fold_from_query(request.args))


@bp.get("/graph.gif")
def graph_gif():
    body, captions = handouts.animated_gif(_trace(), theme_from(request.args))
    response = Response(body, mimetype="image/gif")
    # The captions also sit in the GIF's comment; the header lets a page read them cheaply.
    response.headers["X-Chainrule-Captions"] = json.dumps(captions, ensure_ascii=True)
    response.headers["Content-Disposition"] = 'inline; filename="chainrule.gif"'
    return response


@bp.get("/steps.zip")
def steps_zip():
    response = Response(handouts.steps_zip(_trace(), theme_from(request.args)), mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="chainrule-steps.zip"'
    return response


@bp.get("/tape.md")
def tape_md():
    return Response(handouts.tape_markdown(_trace()), mimetype="text/markdown")


@bp.get("/tape.tex")
def tape_tex():
    return Response(handouts.tape_latex(_trace()), mimetype="application/x-tex")


def _size(name: str, default: int) -> int:
    text = request.args.get(name)
    if not text:
        return default
    try:
        return max(120, min(default, int(text)))
    except ValueError:
        raise bad_input(f"{name} must be a whole number of pixels.") from None


@bp.get("/oembed")
def oembed():
    """oEmbed `rich` JSON for an /embed or graph image URL of this server."""
    url = request.args.get("url", "")
    parts = urlsplit(url)
    here = urlsplit(request.host_url)
    if parts.scheme not in ("http", "https") or parts.netloc != here.netloc \
            or parts.path not in OEMBED_PATHS:
        raise bad_input("chainrule answers oEmbed only for its own /embed and /graph.svg URLs.")
    if request.args.get("format", "json") != "json":
        raise bad_input("chainrule's oEmbed answers only in JSON (format=json).")
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("view", "format")]
    if not any(k == "f" for k, _ in query):
        raise bad_input("The URL must carry the function in its f parameter.")
    width, height = _size("maxwidth", DEFAULT_SIZE[0]), _size("maxheight", DEFAULT_SIZE[1])
    src = f"{request.host_url.rstrip('/')}/embed?{urlencode(query)}"
    title = "chainrule: the autograd graph of " + dict(query)["f"][:80]
    html = (f'<iframe src="{_attr(src)}" title="{_attr(title)}" width="{width}" '
            f'height="{height}" style="border:0" loading="lazy"></iframe>')
    return jsonify({"type": "rich", "version": "1.0", "provider_name": "chainrule",
                    "provider_url": request.host_url, "title": title, "html": html,
                    "width": width, "height": height})


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))
