"""Node and edge statements for a graphviz.Digraph, quoted by graphviz, each string once.

`Digraph.node` and `.edge` quote every key and value on every call through the package's
argument-checking wrappers: about 700 calls for seed 001, 0.9 ms of a cold drawing
(profiled). The same ids, shapes and colours recur in every graph, so each string's
quoted form is remembered. The lines are byte for byte what `node` and `edge` append
(tests/test_dot_statements.py compares them over the truth corpus).
"""
from __future__ import annotations

from graphviz import quoting

from ..memo import MiB, bytes_bounded


def _text_bytes(key, quoted: str) -> int:
    return 2 * (49 + len(quoted)) + 120  # the text, its quoted copy, the key tuple


@bytes_bounded(4 * MiB, size=_text_bytes)
def quote(text: str) -> str:
    return quoting.quote(text)


def attributes(label: str | None, attrs: dict) -> str:
    """` [label=… key=value …]` as graphviz.quoting.attr_list writes it (keys sorted)."""
    items = [f"label={quote(label)}"] if label is not None else []
    items += [f"{quote(key)}={quote(value)}" for key, value in sorted(attrs.items()) if value is not None]
    return f" [{' '.join(items)}]" if items else ""


def node(graph, name: str, label: str | None = None, **attrs) -> None:
    graph.body.append(f"\t{quote(name)}{attributes(label, attrs)}\n")


@bytes_bounded(4 * MiB, size=_text_bytes)
def quote_edge(text: str) -> str:
    return quoting.quote_edge(text)


def edge(graph, tail: str, head: str, **attrs) -> None:
    graph.body.append(f"\t{quote_edge(tail)} -> {quote_edge(head)}{attributes(None, attrs)}\n")
