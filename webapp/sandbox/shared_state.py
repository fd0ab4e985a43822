"""Caches and fairness state in Redis, shared by several processes or machines.

With CHAINRULE_CACHE_URL=redis://host:port/db, the answer cache, the drawings (layouts
and finished drawings), the image and page responses and the fairness `Counters`
(slots, offences, cool-downs, fresh cookies per address) live in Redis, so an image
drawn by one process is a cache hit on the next, and a cool-down earned on one holds on
all. Without the variable, everything stays in-process and Redis is never imported.

Values are stored as JSON (bytes as base64), never pickled: a value read from Redis is
data, whoever wrote it. Entries expire after a day; bound Redis's memory with its own
`maxmemory` and `maxmemory-policy allkeys-lru`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid

from flask import Flask

ENTRY_SECONDS = 86_400
# A counter without expiry (slots in flight) still expires after this long without a
# change, so a process that died holding a slot does not hold it forever.
IDLE_COUNTER_SECONDS = 600

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


def _encode(value) -> bytes:
    def plain(item):
        if isinstance(item, bytes):
            return {"b": base64.b64encode(item).decode()}
        if isinstance(item, tuple):
            return {"t": [plain(part) for part in item]}
        return item
    return json.dumps(plain(value)).encode()


def _decode(data: bytes):
    def rich(item):
        if isinstance(item, dict) and "b" in item:
            return base64.b64decode(item["b"])
        if isinstance(item, dict) and "t" in item:
            return tuple(rich(part) for part in item["t"])
        return item
    return rich(json.loads(data))


class RedisCache:
    """BoundedCache's get / put in Redis, under `chainrule:<name>:<hash of the key>`."""

    def __init__(self, client, name: str, max_bytes: int = 64 * 2**20):
        import redis
        self.client, self.prefix, self.max_bytes = client, f"chainrule:{name}:", max_bytes
        self.hits = self.misses = 0
        self._errors = (redis.RedisError, OSError)

    def _key(self, key) -> str:
        return self.prefix + hashlib.sha256(repr(key).encode()).hexdigest()

    def get(self, key):
        try:
            data = self.client.get(self._key(key))
        except self._errors:  # Redis unreachable: compute the answer again
            data = None
        if data is None:
            self.misses += 1
            return None
        self.hits += 1
        return _decode(data)

    def put(self, key, value, size: int) -> None:
        if size > self.max_bytes // 4:
            return  # as in-process: one huge entry is not worth keeping
        try:
            self.client.set(self._key(key), _encode(value), ex=ENTRY_SECONDS)
        except self._errors:
            pass  # a cache that cannot keep an entry only costs time

    def __len__(self) -> int:
        return sum(1 for _ in self.client.scan_iter(match=self.prefix + "*", count=1000))


class RedisCounters:
    """fairness.Counters (get / put / increment / expire / seen) in Redis.

    Everything is shared except `in_flight`, which fairness compares with this process's
    own number of workers: it stays per process (still in Redis, under this process's id).
    """

    PER_PROCESS = ("in_flight",)

    def __init__(self, client, prefix: str = "chainrule:counter:"):
        self.client, self.prefix = client, prefix
        self._increment = client.register_script(_INCREMENT)
        self._process = uuid.uuid4().hex

    def _key(self, key: str) -> str:
        return self.prefix + (f"{key}:{self._process}" if key in self.PER_PROCESS else key)

    def get(self, key: str) -> float:
        value = self.client.get(self._key(key))
        return float(value) if value is not None else 0.0

    def put(self, key: str, value: float, ttl: float | None = None) -> None:
        self.client.set(self._key(key), repr(float(value)),
                        px=max(1, int(ttl * 1000)) if ttl else None)

    def increment(self, key: str, amount: float = 1.0, ttl: float | None = None) -> float:
        ttl_ms = max(1, int(ttl * 1000)) if ttl else 0
        return float(self._increment(keys=[self._key(key)],
                                     args=[repr(float(amount)), ttl_ms, IDLE_COUNTER_SECONDS * 1000]))

    def expire(self, key: str, ttl: float = 0.0) -> None:
        if ttl <= 0:
            self.client.delete(self._key(key))
        else:
            self.client.pexpire(self._key(key), max(1, int(ttl * 1000)))

    def seen(self, key: str, window: float) -> int:
        """Mark `key` active now; how many other keys were active within `window` seconds."""
        now, name = time.time(), self.prefix + "last_seen"
        pipe = self.client.pipeline()
        pipe.zadd(name, {key: now})
        pipe.zremrangebyscore(name, "-inf", now - window)
        pipe.zcard(name)
        pipe.expire(name, int(window) + 1)
        return int(pipe.execute()[2]) - 1


def configure(app: Flask) -> None:
    """Move the caches and counters to Redis when CACHE_URL (CHAINRULE_CACHE_URL) is set.

    Each cache on app.extensions (cache.SIZED_BY, and the answers) is swapped for its
    Redis twin; the single-flight and the layout counter stay in the process.
    """
    url = app.config.get("CACHE_URL") or os.environ.get("CHAINRULE_CACHE_URL")
    if not url:
        return
    import redis  # only a deployment that asks for Redis needs it

    from ..cache import SIZED_BY
    from .fairness import Clients

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    client.ping()  # a wrong address fails at start-up, not at the first student
    app.extensions["chainrule_redis"] = client
    app.extensions["chainrule_answers"] = RedisCache(client, "answers")
    app.extensions["chainrule_clients"] = Clients(app.config["COOL_DOWN_SECONDS"], RedisCounters(client))
    for name in SIZED_BY:
        app.extensions[f"chainrule_{name}"] = RedisCache(client, name)
