"""Shared fixtures: one app (and one worker pool) for the session, a client, a live server."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from webapp import create_app
from webapp.limits import DEFAULT_LIMITS


@pytest.fixture(scope="session")
def app():
    app = create_app({"TESTING": True, "WORKERS": 2, "BUSY_WAIT_SECONDS": 10.0})
    yield app
    pool = app.extensions.get("chainrule_pool")
    if pool is not None:
        pool.close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app on a real loopback port, served by werkzeug in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def limits():
    return DEFAULT_LIMITS
