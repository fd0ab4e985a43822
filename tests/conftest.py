"""Shared fixtures: one app (and one worker pool) for the session, a client, a live server."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from webapp import create_app
from webapp.limits import DEFAULT_LIMITS


@pytest.fixture(scope="session")
def app():
    # No cool-down here: the hostile table sends one bomb after another from one address.
    # DEBUG_HEADERS: the tests read X-Chainrule-Cache and X-Chainrule-Layouts.
    app = create_app({"TESTING": True, "WORKERS": 2, "BUSY_WAIT_SECONDS": 10.0, "COOL_DOWN_SECONDS": 0.0,
                      "DEBUG_HEADERS": True})
    yield app
    pool = app.extensions["chainrule"].pool
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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`)."""
    import os

    from playwright.sync_api import sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: `make test` installs it with apt (package chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts():
    """Screenshots for people to look at (tests/artifacts, not committed)."""
    import pathlib
    folder = pathlib.Path(__file__).parent / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder
