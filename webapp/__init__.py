"""chainrule: see automatic differentiation happen, on real PyTorch."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify, make_response, render_template, request

from .errors import ChainruleError
from .services import Services

__version__ = "0.1.0"


def _asset_folder(name: str) -> str:
    """Templates and static files: inside the package when installed, else at the top level."""
    installed = Path(__file__).parent / name
    return str(installed if installed.is_dir() else Path(__file__).parent.parent / name)


def create_app(test_config: dict | None = None) -> Flask:
    """Create the chainrule web app."""
    app = Flask(__name__, template_folder=_asset_folder("templates"),
                static_folder=_asset_folder("static"))
    app.config.from_mapping(
        # Twice the cores: a runaway function then slows the others instead of blocking them.
        WORKERS=int(os.environ.get("CHAINRULE_WORKERS", 2 * (os.cpu_count() or 1))),
        ANSWER_CACHE_BYTES=64 * 2**20,
        PAGE_CACHE_BYTES=64 * 2**20,
        IMAGE_CACHE_BYTES=64 * 2**20,
        TEMPLATE_CACHE_BYTES=64 * 2**20,  # laid-out SVGs waiting for their numbers
        DRAWING_CACHE_BYTES=64 * 2**20,
        # After a function hits a limit, its sender waits this long before the next one.
        COOL_DOWN_SECONDS=float(os.environ.get("CHAINRULE_COOL_DOWN", 10.0)),
        DEADLINE_SECONDS=float(os.environ.get("CHAINRULE_DEADLINE", 5.0)),
        BUSY_WAIT_SECONDS=float(os.environ.get("CHAINRULE_BUSY_WAIT", 6.0)),
        MAX_CONTENT_LENGTH=64 * 1024,
        # Running `dot` processes per format (drawing/layout.py) and how long one layout may take.
        LAYOUT_PROCESSES=int(os.environ.get("CHAINRULE_LAYOUT_PROCESSES", 2)),
        LAYOUT_DEADLINE_SECONDS=float(os.environ.get("CHAINRULE_LAYOUT_DEADLINE", 20.0)),
    )
    from .web.query import RequestJSON
    app.json = RequestJSON(app)  # a body nested too deeply is malformed JSON, not a 500
    app.json.sort_keys = False  # keep the order of API.md (output, leaves, nodes, ...)
    if test_config:
        app.config.from_mapping(test_config)

    from .web import api, assets, exports, images, pages, points, practice, security
    from . import cache, timing
    from .sandbox import gate as evaluator, shared_state
    cache.init_app(app)
    timing.init_app(app)
    evaluator.init_app(app)  # before the services: Redis may replace the invented secret
    # All the app keeps between requests; in Redis when CHAINRULE_CACHE_URL asks.
    app.extensions["chainrule"] = shared_state.in_redis(app, _services(app.config))
    assets.init_app(app)
    security.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(images.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(practice.bp)
    from .web import classroom  # a live class (issue 30): its store, streams and routes
    classroom.init_app(app)
    app.register_blueprint(points.bp)  # GET /api/point: dragging x (drag_x.js)
    _register_error_handlers(app)
    return app


def _services(config) -> Services:
    """The app's services in this process (services.py), sized by its config."""
    from .cache import BoundedCache
    from .drawing.render import DrawingState
    from .sandbox import exporter
    from .sandbox.fairness import Clients
    return Services(answers=BoundedCache(config["ANSWER_CACHE_BYTES"]),
                    pages=BoundedCache(config["PAGE_CACHE_BYTES"]),
                    images=BoundedCache(config["IMAGE_CACHE_BYTES"]),
                    drawing=DrawingState.in_process(config),
                    clients=Clients(config["COOL_DOWN_SECONDS"]),
                    export_slots=exporter.slots(config),
                    refused_on_reading=_refused_on_reading)


def _refused_on_reading(job: dict, error: ChainruleError) -> bool:
    """Whether a worker's `limit` came from reading the source alone (a loop that could never
    end, a number too large), before anything ran; fairness then charges no one (gate.py).
    Reading again takes milliseconds and no torch, and happens only after such a refusal."""
    from .language.frontend import as_cpython, choose_language, current_language, parse_source, \
        source_language
    source = job.get("source")
    if not isinstance(source, str):
        return False
    try:
        with source_language(choose_language(job.get("language") or current_language(), source)):
            try:
                parse_source(source)
            except ChainruleError as refusal:  # as engine/jobs.py: CPython reads it instead
                if not (refusal.kind == "unsupported" and not getattr(refusal, "final", False)
                        or getattr(refusal, "interpreter_only", False)):
                    raise
                with as_cpython():
                    parse_source(source)
    except ChainruleError as refusal:
        return refusal.kind == "limit" and refusal.message == error.message
    except Exception:  # noqa: BLE001 - whatever reading again did, the worker's refusal stands
        return False
    return False


# Whole pages a browser shows (also in an iframe): busy is a page that reloads itself.
PAGES = frozenset({"pages.index", "pages.embed"})


def _register_error_handlers(app: Flask) -> None:
    """Map every refusal to the one JSON shape of API.md, in one place."""

    @app.errorhandler(ChainruleError)
    def refusal(error: ChainruleError):
        if error.kind == "busy" and request.endpoint in PAGES:  # a browser window or an embed
            response = make_response(render_template("busy.html", message=error.message, retry=2))
        else:
            response = jsonify(error.to_dict())
        response.status_code = error.status
        if error.kind == "busy":
            response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(413)
    def too_large(_):
        return refusal(ChainruleError("limit", "The request is larger than 64 KiB.", status=413))

    @app.errorhandler(404)
    def not_found(_):
        return refusal(ChainruleError("input", "There is no page at this address.", status=404))

    @app.errorhandler(405)
    def wrong_method(_):
        return refusal(ChainruleError("input", "This address does not take that method.", status=405))


def __getattr__(name: str):
    """`webapp.trace`, `webapp.graph`, `webapp.graph_of`, `webapp.recording`, loaded lazily.

    The web process never needs torch, so the Python API is imported only when used.
    """
    if name in ("trace", "graph", "graph_of", "recording", "Graph"):
        from . import python_api
        return getattr(python_api, name)
    raise AttributeError(f"module 'webapp' has no attribute {name!r}")
