"""The app's services (webapp/services.py): one object per app, nothing shared between apps,
swapped whole for its Redis form, and the web layer deciding who pays for a slow layout."""
from __future__ import annotations

import dataclasses
import shutil
import urllib.parse

import pytest

from webapp import create_app
from webapp.drawing import render
from webapp.sandbox import gate
from webapp.services import Services, services

CONFIG = {"TESTING": True, "WORKERS": 1, "DEBUG_HEADERS": True, "COOL_DOWN_SECONDS": 0.0}


def _parts(state) -> dict:
    """Every object a Services holds, the drawing state's too, by name."""
    parts = {field.name: getattr(state, field.name) for field in dataclasses.fields(state)}
    drawing = parts.pop("drawing")
    parts.update({f"drawing.{field.name}": getattr(drawing, field.name)
                  for field in dataclasses.fields(drawing)})
    parts["clients.counters"] = state.clients.counters
    return {name: part for name, part in parts.items()
            if part is not None and not isinstance(part, (int, float)) and not callable(part)}


def test_two_apps_in_one_process_share_no_state(app):
    """Each create_app makes its own services, and every route draws with its app's state
    (never this process's own, which is the CLI's). Mutations seen failing: `state=state`
    dropped from images._graph_body's render.draw (B's drawing never runs, the process's
    own does); `answers=` given one module-level BoundedCache in create_app (shared)."""
    first, second = create_app(CONFIG), create_app(CONFIG)
    one, other = services(first), services(second)
    assert isinstance(one, Services) and one is not other
    shared = [name for name, part in _parts(one).items() if _parts(other).get(name) is part]
    assert shared == []
    with app.app_context():
        one.pool = other.pool = gate.pool()  # the session's workers: no new pool to boot
    own_runs = render.own_state().runs
    image = "/graph.svg?" + urllib.parse.urlencode({"f": "x * 11 + 0.9191", "x": "2"})
    page = "/?" + urllib.parse.urlencode({"f": "x * 13 + 0.9191", "x": "2"})
    for flask_app in (first, second):
        runs = services(flask_app).drawing.runs
        for path in (image, page):
            response = flask_app.test_client().get(path)
            assert response.status_code == 200 and response.headers["X-Chainrule-Cache"] == "miss"
        # its own `dot` ran for each (the page's twice: its graph, and the copied image tag's size)
        assert services(flask_app).drawing.runs >= runs + 2
        # its two traces, and the page's plot made in its graph's job (unless cut at its budget)
        assert 2 <= len(services(flask_app).answers) <= 3 and len(services(flask_app).images) == 1
    assert render.own_state().runs == own_runs


def test_a_layout_timeout_on_the_page_counts_against_its_sender(app, client, monkeypatch):
    """The layout service only reports the timeout; the page's route charges the sender.
    Mutation: delete `evaluator.penalise_sender()` in pages.build_view: no offence counted."""
    monkeypatch.setattr(services(app).drawing.layout, "deadline_seconds", 0.001)
    source = "y = x\nfor i in range(150):\n    y = y * 0.98 + 0.02\ny + 0.5454"
    address = {"REMOTE_ADDR": "10.77.0.1"}
    response = client.get("/?" + urllib.parse.urlencode({"f": source, "x": "1", "fold": "0"}),
                          environ_base=address)
    assert response.status_code == 200 and b"too large to lay out in time" in response.data
    assert services(app).clients.counters.get("off:10.77.0.1|newcomer") >= 1


def test_drawing_without_an_app_charges_no_one_and_uses_the_process_state(monkeypatch):
    """The CLI and the Python API draw with this process's own state: a layout timeout is
    only reported (raised), nothing is looked up on an app. Mutation: `state = own_state()`
    in render.run_dot (the given state ignored): the given state's `dot` never runs."""
    from webapp.drawing.layout import LayoutTimeout
    given = render.DrawingState.in_process({"LAYOUT_DEADLINE_SECONDS": 0.001})
    big = "digraph { " + " ".join(f"a{i} -> a{i + 1};" for i in range(3000)) + " }"
    try:
        with pytest.raises(LayoutTimeout):
            render.run_dot(big, "svg", given)
        assert given.runs == 1 and given.layout.starts == 1
    finally:
        given.layout.close()


@pytest.mark.skipif(shutil.which("redis-server") is None,
                    reason="redis-server is not installed (`make test` installs it)")
def test_the_redis_form_is_the_whole_object_with_every_cache_in_redis(monkeypatch):
    """With CACHE_URL every cache and the fairness counters are Redis's; what must stay in
    the process (the layout service, single-flights, export slots) does. Mutation:
    `pages=local.pages` left out of shared_state.in_redis's replace: pages stays in-process."""
    from webapp.sandbox.redis_counters import RedisCounters
    from webapp.sandbox.shared_state import RedisCache

    from .test_redis_failures import stop_redis
    from .test_shared_state import start_redis
    monkeypatch.setenv("CHAINRULE_SECRET", "a-secret-for-the-test")
    server, url = start_redis()
    try:
        local, shared = services(create_app(CONFIG)), services(create_app({**CONFIG, "CACHE_URL": url}))
        assert {name: type(cache).__name__ for name, cache in shared.caches().items()} == \
            dict.fromkeys(("answers", "pages", "images", "templates", "drawings"), "RedisCache")
        assert all(cache.max_bytes == local.caches()[name].max_bytes
                   for name, cache in shared.caches().items())
        assert isinstance(shared.clients.counters, RedisCounters) and shared.redis is not None
        assert isinstance(shared.drawing.layout, type(local.drawing.layout))
        assert not isinstance(local.answers, RedisCache) and local.redis is None
    finally:
        stop_redis(server)
