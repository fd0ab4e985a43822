"""Server-Timing: where a request's time went, for browsers' developer tools and bench/.

    Server-Timing: evaluate;dur=2.91, job;dur=1.62, fill;dur=0.31

evaluate: the round trip to a worker (pipe both ways and the job); job: the worker's own
time for the job; layout: `dot`; fill: numbers written into a layout made earlier.
A response served from a cache has none of them.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

from flask import Flask, g, has_request_context

HEADER = "Server-Timing"


def record(name: str, seconds: float | None) -> None:
    """Add `seconds` to this request's stage `name` (outside a request: nothing)."""
    if seconds is not None and has_request_context():
        spent = g.setdefault("chainrule_timing", {})
        spent[name] = spent.get(name, 0.0) + seconds


@contextmanager
def timed(name: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        record(name, time.perf_counter() - started)


def init_app(app: Flask) -> None:
    @app.after_request
    def say_where_time_went(response):
        spent = g.get("chainrule_timing")
        if spent:
            response.headers[HEADER] = ", ".join(f"{name};dur={seconds * 1000:.2f}"
                                                 for name, seconds in spent.items())
        return response
