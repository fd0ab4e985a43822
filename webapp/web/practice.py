"""POST /api/practice/answer: practice mode checks an answer here, not in the page.

The query string is the page's own (the function, its inputs, fold, grad_output), so the
trace comes from the evaluator's cache like the page's; the body says which node and what
the student typed. Only a right answer, or a reveal, returns that node's gradient.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..drawing.render import value_texts
from ..errors import bad_input
from ..lesson.practice import check_answer
from .api import json_body
from .pages import PageState, page_trace

bp = Blueprint("practice", __name__)


@bp.post("/api/practice/answer")
def answer():
    """{"node": "n1", "answer": 1.18} or {"node": "n1", "reveal": true}; "hint": 1 with a
    wrong answer leaves out the local derivatives (the first hint names only the rule)."""
    body = json_body()
    node = body.get("node")
    if not isinstance(node, str):
        raise bad_input("node must be the id of a node of this graph, like n1.")
    reveal = body.get("reveal", False)
    if not isinstance(reveal, bool):
        raise bad_input("reveal must be true or false.")
    answer = body.get("answer")  # a JSON number (finite: json_body refuses NaN)
    if not reveal and (not isinstance(answer, (int, float)) or isinstance(answer, bool)):
        raise bad_input("answer must be the number typed, or reveal must be true.")
    hint = body.get("hint", 2)
    if hint not in (1, 2) or isinstance(hint, bool):
        raise bad_input("hint must be 1 (the rule) or 2 (its factors).")
    trace = page_trace(PageState(_page_query()))
    return jsonify(check_answer(trace, node, answer, reveal, grad_text=lambda n: value_texts(n)[1],
                                factors=hint == 2))


def _page_query():
    """The page's query; without `f` PageState would trace the default example instead."""
    if request.args.get("f") is None:
        raise bad_input("The query must be the page's own, with f= (the function).")
    return request.args
