"""Everything an app keeps between requests, in one object made by `create_app`.

create_app (webapp/__init__.py) builds one `Services` and keeps it on
app.extensions["chainrule"]; code finds it with `services()`. Two apps in one process
share nothing. With CHAINRULE_CACHE_URL the whole object is swapped for its Redis form
(sandbox/shared_state.py `in_redis`): the same fields, the caches and fairness counters in
Redis, each falling back to this process's own while Redis does not answer.

Outside any app (the CLI, the Python API) there is no `Services`: drawing uses
drawing/render.py's state for this process alone.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app

from .cache import SingleFlight


@dataclass
class Services:
    """One app's state; each field names the module that uses it."""

    answers: Any       # job JSON -> answer JSON, a BoundedCache or RedisCache (sandbox/gate.py)
    pages: Any         # whole pages by URL (web/pages.py)
    images: Any        # images and exports by URL (web/images.py, web/exports.py)
    drawing: Any       # the layout service, its templates and drawings (drawing/render.py DrawingState)
    clients: Any       # fairness: slots and cool-downs per sender (sandbox/fairness.py Clients)
    export_slots: threading.BoundedSemaphore  # export processes running at once (sandbox/exporter.py)
    # Whether a worker's `limit` came from reading alone, so nobody is charged (create_app's:
    # it knows the languages, which the sandbox may not import).
    refused_on_reading: Callable[[dict, Exception], bool] | None = None
    flights: SingleFlight = field(default_factory=SingleFlight)  # identical jobs share one run
    pool: Any = None   # the WorkerPool, started on first use (sandbox/gate.py pool())
    redis: Any = None  # the RedisLink of the Redis form (for /healthz), else None

    def caches(self) -> dict:
        """The byte-bounded caches by name (memo.cache_sizes reports them)."""
        return {"answers": self.answers, "pages": self.pages, "images": self.images,
                "templates": self.drawing.templates, "drawings": self.drawing.drawings}


def services(app=None) -> Services:
    """The services of `app`, else of the current app (a RuntimeError outside any app)."""
    return (app if app is not None else current_app).extensions["chainrule"]
