"""A cached answer costs the web process a lookup, not a re-serialisation (issue 25's
opening burst: 200 students opening the same examples and their plots)."""
from __future__ import annotations

import json
import urllib.parse

from webapp.services import services


def test_a_plot_asked_again_is_the_same_bytes_without_asking_the_gate(app, client):
    """Mutation: `body = None` after `stored.get(key)` in stored_json.answer_by_url (never
    served from the stored bytes): the gate's cache is asked again."""
    url = "/api/plot?" + urllib.parse.urlencode({"f": "sin(x) * 0.271828", "x": "1", "wrt": "x"})
    first = client.get(url)
    answers = services(app).answers
    hits = answers.hits
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert second.headers["X-Chainrule-Cache"] == "hit" and answers.hits == hits
    assert second.data == first.data == app.json.response(json.loads(first.data)).get_data()
    assert second.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"


def test_a_page_refused_the_same_every_time_is_rendered_once(client):
    """The gallery's retain-graph lesson refuses on purpose; its page was rendered again for
    each student. Mutation: drop `or context.get("same_next_time")` in pages._cached_page:
    the second is a miss."""
    url = "/?" + urllib.parse.urlencode(
        {"f": "y = x * 2\ny.backward()\ny.backward()  # 0.616161", "x": "3.0"})
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200 and b"backward" in first.data
    assert first.headers["X-Chainrule-Cache"] == "miss" and second.headers["X-Chainrule-Cache"] == "hit"
    assert first.data == second.data


def test_a_page_refused_at_a_limit_is_rendered_again(client):
    """A limit may not be met next time. Mutation: `or True` after `not context["error"]` in
    pages._cached_page: the second is a hit."""
    url = "/?" + urllib.parse.urlencode({"f": "while True:\n    x = x + 1  # 0.5151", "x": "3.0"})
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert second.headers["X-Chainrule-Cache"] == "miss"


def test_the_editor_sending_the_same_form_again_gets_the_same_bytes_and_headers(app, client):
    """A class typing the same exercise: the partial is drawn and rendered once. Mutation:
    `pass` for the `pages.put(key, (body, headers), ...)` in pages.graph_partial: the gate
    is asked again (its answer was kept, the partial was not)."""
    answers = services(app).answers
    form = {"f": "sin(x) * 0.424242 + x", "x": "1.5", "view": "values"}
    refused = {"f": "y = x * 2\ny.backward()\ny.backward()  # 0.4242", "x": "3.0"}
    for body in (form, refused):
        first = client.post("/partials/graph", data=body)
        hits = answers.hits
        second = client.post("/partials/graph", data=body)
        assert first.status_code == second.status_code == 200 and answers.hits == hits
        assert second.headers["X-Chainrule-Cache"] == "hit" and second.data == first.data
        assert [(k, v) for k, v in second.headers if k.startswith("HX-")] == \
            [(k, v) for k, v in first.headers if k.startswith("HX-")]
    assert b"<svg" in client.post("/partials/graph", data=form).data
    assert client.post("/partials/graph", data=refused).headers["HX-Reswap"] == "none"
