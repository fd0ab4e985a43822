"""The caches: bounded by bytes, least recently used first out; one computation per key."""
from __future__ import annotations

import threading
import time

from webapp.cache import BoundedCache, SingleFlight


def test_bounded_cache_evicts_the_least_recently_used():
    cache = BoundedCache(max_bytes=100)
    cache.put("a", 1, 20)
    cache.put("b", 2, 20)
    assert cache.get("a") == 1  # a is now the most recently used
    for key in "cdef":
        cache.put(key, key, 20)
    assert cache.bytes <= 100
    assert cache.get("b") is None and cache.get("a") == 1


def test_one_huge_entry_is_not_kept():
    cache = BoundedCache(max_bytes=100)
    cache.put("small", 1, 10)
    cache.put("huge", 2, 60)
    assert cache.get("huge") is None and cache.get("small") == 1


def test_single_flight_computes_once_for_concurrent_callers():
    flights = SingleFlight()
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.2)
        return "answer"

    results = []
    threads = [threading.Thread(target=lambda: results.append(flights.run("k", compute))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["answer"] * 5 and len(calls) == 1
    assert flights.run("k", lambda: "again") == "again"  # finished flights are not cached


def test_single_flight_shares_the_error():
    """Mutation that once passed: a single-flight that shares nothing (each caller computes
    and raises its own error). Counting the computations catches it."""
    flights = SingleFlight()
    barrier = threading.Event()
    calls = []

    def compute():
        calls.append(1)
        barrier.wait(1)
        raise ValueError("bomb")

    errors = []

    def call():
        try:
            flights.run("k", compute)
        except ValueError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    barrier.set()
    for thread in threads:
        thread.join()
    assert errors == ["bomb"] * 3 and len(calls) == 1
