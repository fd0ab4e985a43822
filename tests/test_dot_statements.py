"""DOT statements written by drawing/dot_statements.py are graphviz's own, byte for byte.

The oracle is the graphviz package itself: the same drawing built with `Digraph.node` and
`Digraph.edge` (mutations seen failing: `sorted(attrs.items())` → `attrs.items()`;
`quote(name)` → `name`; the legend cached without its subgraph line).
"""
from __future__ import annotations

import warnings

import graphviz
import pytest
from hypothesis import given, settings, strategies as st

from webapp.drawing import dot_statements, render
from webapp.engine.jobs import handle

from . import truth_corpus

LOOP = "y = x\nfor i in range(40):\n    y = y * 0.99 + 0.01\ny"


def _graphviz_own(monkeypatch):
    monkeypatch.setattr(dot_statements, "node", lambda graph, name, label=None, **attrs:
                        graph.node(name, label, **attrs))
    monkeypatch.setattr(dot_statements, "edge", lambda graph, tail, head, **attrs:
                        graph.edge(tail, head, **attrs))

    def legend_drawn_each_time():
        graph = graphviz.Digraph()
        render._legend(graph)
        return tuple(graph.body)
    monkeypatch.setattr(render, "_legend_lines", legend_drawn_each_time)


@pytest.fixture(scope="module")
def traces():
    found = []
    for name, source, inputs, grad_output in truth_corpus.ROWS:
        answer = handle({"kind": "trace", "source": source, "inputs": inputs,
                         "grad_output": grad_output, "lesson": False})
        if "ok" in answer:
            found.append((name, answer["ok"]))
    for fold in (True, False):  # folded boxes carry a count and a double border
        found.append((f"loop fold={fold}", handle({"kind": "trace", "source": LOOP, "inputs": {"x": 1.0},
                                                   "fold": fold, "lesson": False})["ok"]))
    assert len(found) > 40
    return found


def test_every_corpus_drawing_is_graphvizs_own_dot(traces, monkeypatch):
    def drawings(trace):
        return [render.values_dot(trace), render.values_dot(trace, legend=False, filled={}),
                render.dot_source(trace, "autograd")]
    ours = {name: drawings(trace) for name, trace in traces}
    _graphviz_own(monkeypatch)
    for name, trace in traces:
        assert ours[name] == drawings(trace), name


NAMES = st.one_of(st.text(max_size=12), st.sampled_from(["node", "edge", "Graph", "-4.2", ".5", "a b",
                                                          'say "hi"', "back\\slash", "<<b>x</b>>", ""]))
KEYS = st.sampled_from(["id", "class", "tooltip", "color", "style", "width", "shape", "URL"])


@settings(max_examples=300, deadline=None)
@given(name=NAMES, tail=NAMES, label=st.one_of(st.none(), NAMES),
       attrs=st.dictionaries(KEYS, st.one_of(st.none(), NAMES), max_size=5))
def test_any_statement_is_quoted_as_graphviz_quotes_it(name, tail, label, attrs):
    ours, theirs = graphviz.Digraph(), graphviz.Digraph()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # graphviz warns about a trailing odd backslash, for both
        dot_statements.node(ours, name, label, **attrs)
        theirs.node(name, label, **attrs)
        dot_statements.edge(ours, tail, name, **attrs)
        theirs.edge(tail, name, **attrs)
    assert ours.body == theirs.body
