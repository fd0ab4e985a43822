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
