"""The embed code the page offers: an <iframe> with a title, the static image for hosts
without scripts, and the ~30-line listener that sizes the iframe (static/js/embed-listener.js).

Both the image tag and the iframe carry a width and a height with
`style="max-width:100%;height:auto"`: a 1,668 px drawing shrinks to a 900 px course column,
keeping its proportions (issue 29).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from flask import current_app
from markupsafe import escape

from ..errors import ChainruleError

HEIGHT = 480  # before the embed reports its own height
FRAME_WIDTH = 720  # the iframe's width before max-width:100% narrows it to the column
FLUID = "max-width:100%;height:auto"
ESTIMATE_ABOVE = 300  # nodes: a larger graph's image size is estimated (no second layout)
_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


@functools.lru_cache(maxsize=1)
def _listener(folder: str) -> str:
    return (Path(folder) / "js" / "embed-listener.js").read_text().strip()


def svg_size(svg: str | bytes | None) -> tuple[int, int] | None:
    """An SVG's size in CSS pixels (graphviz writes points: 1 pt = 4/3 px)."""
    if not svg:
        return None
    found = _SIZE.search(svg.decode() if isinstance(svg, bytes) else svg[:2000])
    return (round(float(found.group(1)) * 4 / 3), round(float(found.group(2)) * 4 / 3)) if found else None


def image_size(trace: dict | None, view: str, page_svg: str | None, draw) -> tuple[int, int] | None:
    """The size of /graph.svg (the drawing with its legend): `draw(trace, view)` lays it out
    (once per structure: the image's later request fills the same template); a graph above
    ESTIMATE_ABOVE nodes takes the page's own drawing's size instead."""
    if not trace:
        return None
    if len(trace["nodes"]) > ESTIMATE_ABOVE:
        return svg_size(page_svg)
    try:
        return svg_size(draw(trace, view))
    except ChainruleError:  # past the layout's deadline, say: the page's drawing's size
        return svg_size(page_svg)


def image_tag(image_url: str, alt: str, size: tuple[int, int] | None) -> str:
    """<img> with its width and height, shrinking to its column."""
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    return f'<img src="{escape(image_url)}" alt="{escape(alt)}"{dims} style="{FLUID}">'


def frame_height(size: tuple[int, int] | None) -> int:
    """The iframe's height before the embed reports its own: controls, the graph drawn at
    FRAME_WIDTH (at most 640 px, embed.css), the legend and the explanation."""
    if not size:
        return HEIGHT
    return 230 + min(640, round(FRAME_WIDTH * size[1] / max(size[0], 1)))


def snippet(embed_url: str, image_url: str, source: str, size: tuple[int, int] | None = None) -> str:
    """HTML a course author pastes into any host page."""
    title = "chainrule: the autograd graph of " + " ".join(source.split())[:80]
    height = frame_height(size)
    return (f'<iframe src="{escape(embed_url)}" title="{escape(title)}" width="{FRAME_WIDTH}" height="{height}" '
            f'style="{FLUID};border:0;aspect-ratio:{FRAME_WIDTH}/{height}" loading="lazy"></iframe>\n'
            f'<noscript>{image_tag(image_url, title, size)}</noscript>\n'
            f'<script>\n{_listener(current_app.static_folder)}\n</script>')
