"""`X-Chainrule-Cache`: hit when every cache a response looked in had its answer, else miss."""
from __future__ import annotations

import urllib.parse


def test_an_image_is_a_miss_then_a_hit_and_keeps_its_caching_headers(client):
    """Mutation: `note(cached is not None)` -> `note(False)` in images._image_response: never a hit."""
    url = "/graph.svg?" + urllib.parse.urlencode({"f": "x * 3 + 0.777123", "x": "2"})
    first, second = client.get(url), client.get(url)
    assert first.headers["X-Chainrule-Cache"] == "miss" and second.headers["X-Chainrule-Cache"] == "hit"
    assert first.data == second.data
    for response in (first, second):
        assert response.headers["ETag"] and "max-age" in response.headers["Cache-Control"]


def test_the_json_api_says_where_its_answer_came_from(client):
    """Mutation: delete `response.headers[HEADER] = state` in cache.init_app: no header at all."""
    body = {"source": "x ** 2 + 0.555321", "inputs": {"x": 3.0}}
    first, second = client.post("/api/trace", json=body), client.post("/api/trace", json=body)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Chainrule-Cache"] == "miss" and second.headers["X-Chainrule-Cache"] == "hit"


def test_a_page_is_a_miss_then_a_hit(client):
    """Mutation: `note(page is not None)` -> `note(False)` in pages._cached_page: the second is a miss."""
    url = "/?" + urllib.parse.urlencode({"f": "sin(x) + 0.333123", "x": "1"})
    assert client.get(url).headers["X-Chainrule-Cache"] == "miss"
    assert client.get(url).headers["X-Chainrule-Cache"] == "hit"


def test_a_response_that_looks_in_no_cache_has_no_header(client):
    """Mutation: `if state:` -> `if True:` in cache.init_app: /healthz says `None`."""
    assert "X-Chainrule-Cache" not in client.get("/healthz").headers


def test_the_cache_and_layout_headers_are_for_operators_who_ask(monkeypatch):
    """`hit` told a student that someone else had opened exactly this function, and /healthz
    counted everyone's layouts. Mutation: DEBUG_HEADERS on by default in cache.init_app."""
    from webapp import create_app
    from webapp.cache import note

    def app_with_a_cache_lookup():
        app = create_app({"TESTING": True})
        app.add_url_rule("/looked", "looked", lambda: note(True) or "")
        return app.test_client()

    monkeypatch.delenv("CHAINRULE_DEBUG_HEADERS", raising=False)
    student = app_with_a_cache_lookup()
    assert "X-Chainrule-Cache" not in student.get("/looked").headers
    assert "X-Chainrule-Layouts" not in student.get("/healthz").headers
    monkeypatch.setenv("CHAINRULE_DEBUG_HEADERS", "1")
    operator = app_with_a_cache_lookup()
    assert operator.get("/looked").headers["X-Chainrule-Cache"] == "hit"
    assert operator.get("/healthz").headers["X-Chainrule-Layouts"] == "0"


def test_a_refusal_the_program_always_gets_is_cached_and_said_the_same(client):
    """The gallery's retain-graph lesson refuses on purpose; a class opening it ran it once per
    student. Mutation: SAME_EVERY_TIME emptied in sandbox/gate.py: the second is a miss."""
    body = {"source": "y = x * 2\ny.backward()\ny.backward()  # 0.424242", "inputs": {"x": 3.0}}
    first, second = client.post("/api/trace", json=body), client.post("/api/trace", json=body)
    assert first.status_code == second.status_code == 400
    assert first.json["error"]["kind"] == "runtime" and first.json == second.json
    assert first.headers["X-Chainrule-Cache"] == "miss" and second.headers["X-Chainrule-Cache"] == "hit"


def test_a_refusal_at_a_limit_is_not_cached(client):
    """A deadline depends on the machine's load: the next try may finish. Mutation: "limit"
    added to SAME_EVERY_TIME: the second is a hit."""
    body = {"source": "while True:\n    x = x + 1  # 0.4343", "inputs": {"x": 3.0}}
    first, second = client.post("/api/trace", json=body), client.post("/api/trace", json=body)
    assert first.json["error"]["kind"] == second.json["error"]["kind"] == "limit"
    assert second.headers["X-Chainrule-Cache"] == "miss"
