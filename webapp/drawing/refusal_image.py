"""A small picture of a refusal, for <img> tags (slides, course pages) that cannot show JSON."""
from __future__ import annotations

import graphviz

from .render import run_dot


def error_image(message: str, fmt: str, state=None) -> bytes:
    """The refusal's sentence in a box, as SVG or PNG (drawn with `state`, as run_dot)."""
    graph = graphviz.Digraph(graph_attr={"bgcolor": "white"})
    graph.node("error", label=_wrap(message), shape="box", style="filled,rounded",
               fillcolor="#fde2e1", color="#D55E00", fontname="Helvetica", fontsize="12")
    return run_dot(graph.source, fmt, state)


def _wrap(text: str, width: int = 60) -> str:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)
