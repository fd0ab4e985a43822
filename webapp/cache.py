"""A small thread-safe LRU cache bounded by bytes, for traces and drawings.

The caches live on the app's services (services.py); here are their types, and the mark
on each response that looked in one (`note`, the X-Chainrule-Cache header).

Everything chainrule computes is deterministic for the same source, inputs and
options (random numbers are seeded), so a result can be reused for as long as it
fits. The bound is on the approximate size in bytes, not on the number of entries:
one 1,000-node SVG weighs as much as a thousand small ones.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict

from flask import Flask, copy_current_request_context, current_app, g, has_app_context, has_request_context

HEADER = "X-Chainrule-Cache"


def note(hit: bool) -> None:
    """Record a cache lookup of this request: its answer is a hit only if every lookup hit."""
    if has_request_context():
        g.chainrule_cache = "hit" if hit and g.get("chainrule_cache") != "miss" else "miss"


def in_this_context(function):
    """`function`, to be called once in another thread, seeing this request's app and its
    timing record (a copy of the request context; call again for each task)."""
    if has_request_context():
        return copy_current_request_context(function)
    if has_app_context():
        app = current_app._get_current_object()

        def with_app(*args, **kwargs):
            with app.app_context():
                return function(*args, **kwargs)
        return with_app
    return function


def init_app(app: Flask) -> None:
    # A hit would tell a student that someone else opened exactly this function, so the
    # header (and /healthz's layout count) is for operators who ask: CHAINRULE_DEBUG_HEADERS=1.
    app.config.setdefault("DEBUG_HEADERS", os.environ.get("CHAINRULE_DEBUG_HEADERS") == "1")

    @app.after_request
    def say_where_from(response):
        """`X-Chainrule-Cache: hit|miss` on every response that looked in a cache (debug only)."""
        state = g.get("chainrule_cache")
        if state and app.config["DEBUG_HEADERS"]:
            response.headers[HEADER] = state
        return response


class BoundedCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key][0]
            self.misses += 1
            return None

    def put(self, key, value, size: int) -> None:
        if size > self.max_bytes // 4:
            return  # one huge entry would push out everything else
        with self._lock:
            if key in self._entries:
                self.bytes -= self._entries.pop(key)[1]
            self._entries[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)


class SingleFlight:
    """Concurrent callers asking for the same key share one computation.

    Thirty students opening one link at once start one evaluation, not thirty.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._running: dict = {}

    def run(self, key, compute):
        with self._lock:
            flight = self._running.get(key)
            leader = flight is None
            if leader:
                flight = self._running[key] = {"done": threading.Event()}
        if not leader:
            flight["done"].wait()
            if "error" in flight:
                raise flight["error"]
            return flight["value"]
        try:
            flight["value"] = compute()
            return flight["value"]
        except BaseException as error:
            flight["error"] = error
            raise
        finally:
            with self._lock:
                del self._running[key]
            flight["done"].set()
