"""Write a node's real value and gradient texts into an SVG laid out with placeholders."""
from __future__ import annotations

import re
from xml.sax.saxutils import escape

NODE = re.compile(rb'(<g id="(?P<id>[^"]+)" class="node[^"]*">)(?P<body>.*?)(?=<g id="[^"]+" class="(?:node|edge|cluster))',
                  re.S)
TEXT = re.compile(rb'<text text-anchor="start" x="(?P<x>[-\d.]+)"(?P<rest>[^>]*)>(?P<content>[^<]*)</text>')
POINTS = re.compile(rb'points="([^"]+)"')


def fill_values(template: bytes, texts: dict) -> bytes:
    """Replace each node's placeholder rows (all zeros) with its texts, centred in the box."""
    def fill_node(match):
        node_id = match.group("id").decode().replace("&#45;", "-")
        rows = texts.get(node_id)
        body = match.group("body")
        if not rows:
            return match.group(0)
        centre = _centre(body)
        wanted = [t for t in rows if t is not None]

        def fill_text(text_match):
            content = text_match.group("content")
            if not wanted or not re.fullmatch(rb"0+", content):
                return text_match.group(0)
            real = escape(wanted.pop(0)).encode()
            x = f"{centre:.2f}".encode() if centre is not None else text_match.group("x")
            anchor = b"middle" if centre is not None else b"start"
            return b'<text text-anchor="' + anchor + b'" x="' + x + b'"' + text_match.group("rest") + b">" + real + b"</text>"

        return match.group(1) + TEXT.sub(fill_text, body)

    return NODE.sub(fill_node, template + b'<g id="end" class="node">')[:-len(b'<g id="end" class="node">')]


def _centre(body: bytes) -> float | None:
    """The horizontal centre of a node's outline (its first polygon or path)."""
    found = POINTS.search(body)
    if found:
        xs = [float(p.split(b",")[0]) for p in found.group(1).split()]
        return (min(xs) + max(xs)) / 2
    return None
