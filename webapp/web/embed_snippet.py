"""The embed code the page offers: an <iframe> with a title, the static image for hosts
without scripts, and the ~30-line listener that sizes the iframe (static/js/embed-listener.js).
"""
from __future__ import annotations

import functools
from pathlib import Path

from flask import current_app
from markupsafe import escape

HEIGHT = 480  # before the embed reports its own height


@functools.lru_cache(maxsize=1)
def _listener(folder: str) -> str:
    return (Path(folder) / "js" / "embed-listener.js").read_text().strip()


def snippet(embed_url: str, image_url: str, source: str) -> str:
    """HTML a course author pastes into any host page."""
    title = "chainrule: the autograd graph of " + " ".join(source.split())[:80]
    return (f'<iframe src="{escape(embed_url)}" title="{escape(title)}" width="100%" height="{HEIGHT}" '
            f'style="border:0" loading="lazy"></iframe>\n'
            f'<noscript><img src="{escape(image_url)}" alt="{escape(title)}"></noscript>\n'
            f'<script>\n{_listener(current_app.static_folder)}\n</script>')
