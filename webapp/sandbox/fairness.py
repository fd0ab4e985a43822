"""Fair shares of the workers: caps and cool-downs, applied only where there is contention.

An idle server serves anyone. When other students are active (seen in the last
CONTENTION_SECONDS) or every worker is busy, each identity (see identity.py) may have a
few evaluations in flight, and one whose function was just stopped at a limit waits out
a cool-down (10 s, doubling per offence in a row, at most 300 s).

An address's newcomers share one record (identity.py), so its cool-down is cut short at
NEWCOMER_MAX_COOL_DOWN: one offender behind a school's address costs the students arriving
there seconds, not minutes, and each further stop costs the offender a function that ran.

All state sits behind `Counters` (get / put / increment / expire / seen, and flight slots:
slots / take_slot / give_slot), kept in this process; a shared store such as Redis
(shared_state.py) stands in for it with the same methods.
"""
from __future__ import annotations

import threading
import time

from ..errors import ChainruleError
from .identity import Identity

from ..limits import MAX_IN_FLIGHT
from ..limits import NEWCOMER_IN_FLIGHT
CONTENTION_SECONDS = 10.0
from ..limits import MAX_COOL_DOWN
from ..limits import NEWCOMER_MAX_COOL_DOWN


class Counters:
    """Numbers by key with optional expiry, and "who was seen lately" (in-process)."""

    def __init__(self):
        self.values: dict[str, tuple[float, float]] = {}  # key -> (value, expires at)
        self.last_seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def get(self, key: str) -> float:
        value, expires = self.values.get(key, (0.0, 0.0))
        return value if not expires or expires > time.time() else 0.0

    def put(self, key: str, value: float, ttl: float | None = None) -> None:
        with self.lock:
            self.values[key] = (value, time.time() + ttl if ttl else 0.0)

    def increment(self, key: str, amount: float = 1.0, ttl: float | None = None) -> float:
        with self.lock:
            value = self.get(key) + amount
            _, expires = self.values.get(key, (0.0, 0.0))
            if ttl and (not expires or expires <= time.time()):
                expires = time.time() + ttl  # the window starts at the first increment
            self.values[key] = (value, expires)
            if len(self.values) > 100_000:
                self._drop_expired()
            return value

    def expire(self, key: str, ttl: float = 0.0) -> None:
        with self.lock:
            if ttl <= 0:
                self.values.pop(key, None)
            elif key in self.values:
                self.values[key] = (self.values[key][0], time.time() + ttl)

    def seen(self, key: str, window: float) -> int:
        """Mark `key` active now; how many other keys were active within `window` seconds."""
        now = time.time()
        with self.lock:
            self.last_seen[key] = now
            if len(self.last_seen) > 10_000:
                self.last_seen = {k: t for k, t in self.last_seen.items() if now - t < window}
            return sum(1 for k, t in self.last_seen.items() if k != key and now - t < window)

    def slots(self, key: str) -> int:
        """Slots of `key` taken and not given back."""
        return int(self.get(key))

    def take_slot(self, key: str):
        """Take one slot of `key`; the token returned gives it back."""
        self.increment(key)
        return key

    def give_slot(self, key: str, token) -> None:
        self.increment(key, -1)

    def _drop_expired(self) -> None:
        now = time.time()
        self.values = {k: v for k, v in self.values.items() if not v[1] or v[1] > now}


class Clients:
    """The fairness policy over `Counters`: slots, penalties and forgiveness per identity."""

    def __init__(self, cool_down_seconds: float, counters: Counters | None = None):
        self.cool_down_seconds = cool_down_seconds
        self.counters = counters or Counters()

    @staticmethod
    def _buckets(who: Identity) -> list[str]:
        """A settled cookie stands alone; a newcomer or fresh cookie shares the address's bucket."""
        return [who.key] if who.settled or who.key == who.newcomer_key else [who.key, who.newcomer_key]

    def penalise(self, who: Identity) -> None:
        """Cool down after a limit, doubling for each further one in a row."""
        for bucket in self._buckets(who):
            count = self.counters.increment(f"off:{bucket}", 1, ttl=2 * MAX_COOL_DOWN)
            longest = NEWCOMER_MAX_COOL_DOWN if bucket == who.newcomer_key else MAX_COOL_DOWN
            wait = min(longest, self.cool_down_seconds * 2 ** (count - 1))
            if wait > 0:
                self.counters.put(f"cool:{bucket}", time.time() + wait, ttl=wait)

    def forgive(self, who: Identity) -> None:
        """A function that ran normally clears its sender's record."""
        self.counters.expire(f"off:{who.key}")

    def slot(self, who: Identity, workers: int):
        """A context for one evaluation; raises `busy` when over a share under contention."""
        return _Slot(self.counters, who, workers, self._buckets(who))


class _Slot:
    def __init__(self, counters: Counters, who: Identity, workers: int, buckets: list[str]):
        self.counters, self.who, self.workers, self.buckets = counters, who, workers, buckets

    def __enter__(self):
        counters, key = self.counters, self.who.key
        others = counters.seen(key, CONTENTION_SECONDS)
        if others or counters.get("in_flight") >= self.workers:
            now = time.time()
            cooling = [bucket for bucket in self.buckets if counters.get(f"cool:{bucket}") > now]
            if key in cooling and key != self.who.newcomer_key:
                raise ChainruleError("busy", "Your last function was stopped at one of the "
                                     "limits; try again in a few seconds.")
            if cooling:  # the address's newcomers share one record: say so, blame no one
                raise ChainruleError("busy", "A function sent from your network (maybe yours) was "
                                     "just stopped at one of the limits, so new visitors from it "
                                     "wait a few seconds; try again in a moment.")
            cap = NEWCOMER_IN_FLIGHT if key == self.who.newcomer_key else MAX_IN_FLIGHT
            if counters.slots(f"flight:{key}") >= cap:
                raise ChainruleError("busy", "Too many of your functions are running at "
                                     "once; try again in a moment.")
        self.token = counters.take_slot(f"flight:{key}")
        counters.increment("in_flight")
        return self

    def __exit__(self, *exc):
        self.counters.give_slot(f"flight:{self.who.key}", self.token)
        self.counters.increment("in_flight", -1)
