"""The app's door to the worker pool: one pool per app, started on first use."""
from __future__ import annotations

import atexit
import threading

from flask import Flask, current_app

from .worker_pool import WorkerPool

_lock = threading.Lock()


def init_app(app: Flask) -> None:
    app.extensions["chainrule_pool"] = None


def pool() -> WorkerPool:
    """The current app's pool, created (and its workers booted) on first use."""
    app = current_app._get_current_object()
    with _lock:
        existing = app.extensions.get("chainrule_pool")
        if existing is None:
            existing = WorkerPool(size=app.config["WORKERS"],
                                  deadline_seconds=app.config["DEADLINE_SECONDS"],
                                  wait_seconds=app.config["BUSY_WAIT_SECONDS"],
                                  worker_env=app.config.get("WORKER_ENV"))
            app.extensions["chainrule_pool"] = existing
            atexit.register(existing.close)
    return existing


def evaluate(kind: str, **job) -> dict:
    """Run one job (see jobs.HANDLERS) in a worker and return its JSON answer."""
    return pool().run({"kind": kind, **job})
