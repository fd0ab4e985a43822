"""fairness.Counters in Redis (shared_state.configure puts them there).

Flight slots are leases: each names its process and ends LEASE_SECONDS after its owner
last renewed it (shared_state's thread renews them every LEASE_SECONDS / 3), so the slots
of a process that died free themselves within seconds (a killed process's held for 598 s).
While Redis is unreachable (`RedisLink`), every counter is this process's own.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from .fairness import Counters
from .shared_state import redis_link

# A counter without expiry still expires after this long without a change.
IDLE_COUNTER_SECONDS = 600
# A flight slot not renewed for this long belongs to a process that died: it frees itself.
LEASE_SECONDS = 9.0

_INCREMENT = """
local value = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
else
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return value
"""


class RedisCounters:
    """fairness.Counters in Redis; while Redis is unreachable, in this process's own Counters.

    `in_flight` is compared with this process's own number of workers, so it is never
    shared: it stays in the process. Flight slots are leases (a sorted set per key, each
    member naming its process, scored by when its lease ends), renewed by `renew`.
    """

    LOCAL = ("in_flight",)

    def __init__(self, link, prefix: str = "chainrule:counter:", clock=time.time):
        self.link, self.prefix, self.clock = redis_link(link), prefix, clock
        self.local = Counters()
        self._increment = self.link.client.register_script(_INCREMENT)
        self.process = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held: dict[str, str] = {}  # lease member -> Redis key, this process's slots
        self.lock = threading.Lock()

    def _key(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str) -> float:
        if key in self.LOCAL:
            return self.local.get(key)

        def read(client):
            value = client.get(self._key(key))
            return float(value) if value is not None else 0.0
        return self.link.call(read, lambda: self.local.get(key))

    def put(self, key: str, value: float, ttl: float | None = None) -> None:
        if key in self.LOCAL:
            return self.local.put(key, value, ttl)
        self.link.call(lambda client: client.set(self._key(key), repr(float(value)),
                                                 px=max(1, int(ttl * 1000)) if ttl else None),
                       lambda: self.local.put(key, value, ttl))

    def increment(self, key: str, amount: float = 1.0, ttl: float | None = None) -> float:
        if key in self.LOCAL:
            return self.local.increment(key, amount, ttl)
        ttl_ms = max(1, int(ttl * 1000)) if ttl else 0
        return self.link.call(
            lambda client: float(self._increment(
                keys=[self._key(key)], args=[repr(float(amount)), ttl_ms, IDLE_COUNTER_SECONDS * 1000],
                client=client)),
            lambda: self.local.increment(key, amount, ttl))

    def expire(self, key: str, ttl: float = 0.0) -> None:
        if key in self.LOCAL:
            return self.local.expire(key, ttl)
        self.local.expire(key, ttl)  # what was counted here while Redis was away goes too
        self.link.call(lambda client: client.delete(self._key(key)) if ttl <= 0 else
                       client.pexpire(self._key(key), max(1, int(ttl * 1000))), lambda: None)

    def seen(self, key: str, window: float) -> int:
        """Mark `key` active now; how many other keys were active within `window` seconds."""
        def mark(client):
            now, name = time.time(), self.prefix + "last_seen"
            pipe = client.pipeline()
            pipe.zadd(name, {key: now})
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.zcard(name)
            pipe.expire(name, int(window) + 1)
            return int(pipe.execute()[2]) - 1
        return self.link.call(mark, lambda: self.local.seen(key, window))

    def slots(self, key: str) -> int:
        """Leases of `key` not yet ended, every process's."""
        def count(client):
            name = self._key(key)
            pipe = client.pipeline()
            pipe.zremrangebyscore(name, "-inf", self.clock())
            pipe.zcard(name)
            return int(pipe.execute()[1])
        return self.link.call(count, lambda: self.local.slots(key))

    def take_slot(self, key: str):
        """A lease on one slot of `key` for this process; the token gives it back."""
        member, name = f"{self.process}:{uuid.uuid4().hex[:12]}", self._key(key)

        def take(client):
            pipe = client.pipeline()
            pipe.zadd(name, {member: self.clock() + LEASE_SECONDS})
            pipe.pexpire(name, int(2 * LEASE_SECONDS * 1000))
            pipe.execute()
            with self.lock:
                self.held[member] = name
            return ("redis", member)
        return self.link.call(take, lambda: ("local", self.local.take_slot(key)))

    def give_slot(self, key: str, token) -> None:
        where, member = token
        if where == "local":
            return self.local.give_slot(key, member)
        with self.lock:
            self.held.pop(member, None)  # unrenewed, the lease ends even if Redis is away now
        self.link.call(lambda client: client.zrem(self._key(key), member), lambda: None)

    def renew(self) -> None:
        """Extend the leases this process holds by LEASE_SECONDS from now."""
        with self.lock:
            held = dict(self.held)
        if not held:
            return
        until = self.clock() + LEASE_SECONDS

        def extend(client):
            pipe = client.pipeline()
            for member, name in held.items():
                pipe.zadd(name, {member: until}, xx=True)
                pipe.pexpire(name, int(2 * LEASE_SECONDS * 1000))
            pipe.execute()
        self.link.call(extend, lambda: None)
