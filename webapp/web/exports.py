"""Routes for course authors: /graph.gif, /steps.zip, /steps.json, /tape.md, /tape.tex and /oembed."""
from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit, parse_qsl

from flask import Blueprint, Response, jsonify, request

from ..cache import note
from ..services import services
from ..sandbox import exporter, gate as evaluator
from ..drawing import handouts
from ..drawing.themes import theme_from
from ..errors import bad_input
from .query import fold_from_query, function_from_query, grad_output_from_query

bp = Blueprint("exports", __name__)

OEMBED_PATHS = ("/embed", "/graph.svg", "/graph.png", "/graph.gif")
DEFAULT_SIZE = (720, 480)
HEADER_BYTES = 2048  # the captions header, at most (beside ~0.8 KB of others: under 4 KB in all)
LINK_BYTES = 1024


def _trace() -> dict:
    source, inputs = function_from_query(request.args)
    # Folded as the page and the images fold (fold=auto: large graphs; fold=0: every node).
    return evaluator.evaluate("trace", source=source, inputs=inputs,
                              grad_output=grad_output_from_query(request.args),
                              fold=fold_from_query(request.args))


@bp.get("/graph.gif")
def graph_gif():
    """The animation; drawn in an export process (sandbox/exporter.py), kept by its URL."""
    trace = _trace()
    captions = [step["caption"] for step in handouts.frame_captions(trace)]  # too many: refused here
    body = _exported("gif", trace)
    response = Response(body, mimetype="image/gif")
    response.headers["Content-Disposition"] = 'inline; filename="chainrule.gif"'
    # The captions sit in the GIF's comment and in /steps.json; a header only while short,
    # since a proxy refuses a response whose headers pass its buffer (nginx: 4 KB).
    header = json.dumps(captions, ensure_ascii=True)
    if len(header) <= HEADER_BYTES:
        response.headers["X-Chainrule-Captions"] = header
    link = f'</steps.json?{request.query_string.decode("latin-1")}>; rel="describedby"; type="application/json"'
    if len(link) <= LINK_BYTES:
        response.headers["Link"] = link
    return response


@bp.get("/steps.json")
def steps_json():
    """What each frame of the GIF and each file of steps.zip shows: caption, phase, node."""
    return jsonify(handouts.frame_captions(_trace()))


@bp.get("/steps.zip")
def steps_zip():
    trace = _trace()
    handouts.frame_captions(trace)  # too many steps: refused before any drawing
    response = Response(_exported("zip", trace), mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="chainrule-steps.zip"'
    return response


def _exported(kind: str, trace: dict) -> bytes:
    """The export's bytes, from the image cache (by URL) or an export process."""
    key, responses = f"{kind}:{request.full_path}", services().images
    cached = responses.get(key)
    note(cached is not None)
    if cached is None:
        cached = exporter.export(kind, trace, theme_from(request.args))
        responses.put(key, cached, len(cached) + len(key))
    return cached


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
