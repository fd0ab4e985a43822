"""Memoised functions bounded by bytes, and the size of every cache a process keeps.

An lru_cache of 256 entries counts entries, and one entry can weigh megabytes (a
large graph's SVG template held ~3.8 MB: 100 large graphs took the server from 76 to
892 MiB). Each cache here states its bound in bytes instead, weighs each entry once when
it is stored, and drops the least recently used entries past the bound.

The bounds, per process (the web process holds the drawing and guard caches; a worker's
job child, the parse caches, and exits after its answer):

    drawing.svg_fill.compile_template   64 MiB  cut SVG templates
    drawing.dot_statements.quote(_edge)  2 × 4 MiB  DOT-quoted labels
    lesson.guards._syntax               16 MiB  walked trees, for the margin notes
    language parse caches (5)          5 × 16 MiB  Python and R programs, parsed and checked
    engine.jobs._signature               1 MiB  the handlers' signatures
    web.assets digest                   64 KiB  static files' hashes

The app's own caches (answers, pages, images, templates, drawings: its services'
BoundedCaches, services.py) are bounded by their config keys; `cache_sizes(app)` reports
them too.
"""
from __future__ import annotations

import functools
import sys
import threading
from collections import OrderedDict

MiB = 2**20
_registry: dict[str, "BytesBoundedMemo"] = {}
_WALK_LIMIT = 500_000  # objects weighed per entry at most: the estimate's own cost is bounded


def approximate_bytes(value, limit: int = _WALK_LIMIT) -> int:
    """What `value` and everything it holds weigh (sys.getsizeof, each object once):
    containers, objects' attributes (dataclasses, ast nodes); functions, classes and
    modules are shared, not counted."""
    seen: set[int] = set()
    stack, total = [value], 0
    while stack and len(seen) < limit:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (type, type(sys), type(approximate_bytes),
                                                 type(len))):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item, 64)
        if isinstance(item, (str, bytes, bytearray, int, float, bool, type(None))):
            continue
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        else:
            attributes = getattr(item, "__dict__", None)
            if attributes is not None:
                stack.append(attributes)
            for slot in getattr(type(item), "__slots__", ()):
                stack.append(getattr(item, slot, None))
    return total


class BytesBoundedMemo:
    """A function's results kept while they fit in `max_bytes` (least recently used out).
    An entry over a quarter of the bound is computed and not kept, so one huge entry
    never pushes out everything else (cache.BoundedCache's rule)."""

    def __init__(self, function, max_bytes: int, size=None):
        self.function, self.max_bytes = function, max_bytes
        self.size = size or (lambda key, value: approximate_bytes((key, value)))
        self.bytes = self.hits = self.misses = 0
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        functools.update_wrapper(self, function)

    def __call__(self, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[0]
            self.misses += 1
        value = self.function(*args, **kwargs)  # an exception is not kept (as lru_cache)
        weight = self.size(key, value)
        if weight <= self.max_bytes // 4:
            with self._lock:
                if key in self._entries:
                    self.bytes -= self._entries.pop(key)[1]
                self._entries[key] = (value, weight)
                self.bytes += weight
                while self.bytes > self.max_bytes:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self.bytes -= dropped
        return value

    def __get__(self, instance, owner):  # usable on methods too
        return self if instance is None else functools.partial(self, instance)

    def cache_clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def bytes_bounded(max_bytes: int, size=None, name: str | None = None):
    """Decorator: memoise the function within `max_bytes`; `size(key, value)` weighs an
    entry (default: approximate_bytes of both). Registered for cache_sizes()."""
    def decorate(function):
        memo = BytesBoundedMemo(function, max_bytes, size)
        _registry[name or f"{function.__module__}.{function.__qualname__}"] = memo
        return memo
    return decorate


def cache_sizes(app=None) -> dict:
    """Every cache's size: {name: {"bytes", "max_bytes", "entries"}}; this process's
    memoised functions, and with `app`, the app's own caches kept in this process
    (app.<name>; a Redis cache's size is Redis's)."""
    sizes = {name: {"bytes": memo.bytes, "max_bytes": memo.max_bytes, "entries": len(memo)}
             for name, memo in sorted(_registry.items())}
    if app is not None:
        from .services import services  # flask's: the worker imports this module, not flask
        for name, cache in sorted(services(app).caches().items()):
            if hasattr(cache, "bytes"):
                sizes["app." + name] = {"bytes": cache.bytes, "max_bytes": cache.max_bytes,
                                        "entries": len(cache)}
    return sizes
