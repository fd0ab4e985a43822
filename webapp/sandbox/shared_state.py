"""Caches and fairness state in Redis, shared by several processes or machines.

With CHAINRULE_CACHE_URL=redis://host:port/db, the answer cache, the drawings (layouts
and finished drawings), the image and page responses and the fairness `Counters`
(slots, offences, cool-downs, fresh cookies per address) live in Redis, so an image
drawn by one process is a cache hit on the next, and a cool-down earned on one holds on
all. Without the variable, everything stays in-process and Redis is never imported.

Redis is a dependency that can fail. Every call waits at most REDIS_TIMEOUT_SECONDS, and
after a failure this process leaves Redis alone for RETRY_SECONDS (`RedisLink`): caches
and counters then answer from this process's own, so a student gets an answer (maybe
computed again, with this process's fairness), never a 500, and a paused Redis costs one
request one timeout, not every call of every request.

Flight slots are leases: each names its process and expires LEASE_SECONDS after the
owner last renewed it (a thread renews them every LEASE_SECONDS / 3), so the slots of a
process that died free themselves within seconds.

Values are stored as JSON (bytes as base64), never pickled: a value read from Redis is
data, whoever wrote it. Entries expire after a day; bound Redis's memory with its own
`maxmemory` and `maxmemory-policy allkeys-lru`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import socket
import threading
import time
import uuid

from flask import Flask, jsonify

from ..cache import BoundedCache
from .fairness import Counters

ENTRY_SECONDS = 86_400
# A counter without expiry still expires after this long without a change.
IDLE_COUNTER_SECONDS = 600
# The longest one Redis call may take (connect or answer): Redis on a school's network
# answers in a millisecond; past this it is down or paused, and this process goes on alone.
REDIS_TIMEOUT_SECONDS = 0.5
# After a failed call, Redis is left alone this long (then one call tries it again).
RETRY_SECONDS = 5.0
# A flight slot not renewed for this long belongs to a process that died: it frees itself.
LEASE_SECONDS = 9.0
# Where processes without CHAINRULE_SECRET agree on one (SET NX: the first one wins).
SECRET_KEY = "chainrule:secret"

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


class RedisUnavailable(RuntimeError):
    """Redis does not answer at start-up: a sentence for the operator."""


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


class RedisLink:
    """A Redis client and whether it answers: `call(action, fallback)` runs `action(client)`,
    or `fallback()` when Redis failed within the last RETRY_SECONDS or fails now."""

    def __init__(self, client, clock=time.monotonic):
        import redis
        self.client, self.clock = client, clock
        self.errors = (redis.RedisError, OSError)
        self.down_until = 0.0
        self.failures = 0

    def call(self, action, fallback):
        if self.clock() < self.down_until:
            return fallback()
        try:
            return action(self.client)
        except self.errors:
            self.failures += 1
            self.down_until = self.clock() + RETRY_SECONDS
            return fallback()

    def answers(self) -> bool:
        """Whether Redis answers a PING now (not asked again while it is known to be down)."""
        return bool(self.call(lambda client: client.ping(), lambda: False))


def _link(client_or_link) -> RedisLink:
    return client_or_link if isinstance(client_or_link, RedisLink) else RedisLink(client_or_link)


class RedisCache:
    """BoundedCache's get / put in Redis, under `chainrule:<name>:<hash of the key>`;
    while Redis is unreachable, in this process's own BoundedCache."""

    def __init__(self, link, name: str, max_bytes: int = 64 * 2**20):
        self.link, self.prefix, self.max_bytes = _link(link), f"chainrule:{name}:", max_bytes
        self.local = BoundedCache(max_bytes)
        self.hits = self.misses = 0

    def _key(self, key) -> str:
        return self.prefix + hashlib.sha256(repr(key).encode()).hexdigest()

    def _read(self, client, key):
        data = client.get(self._key(key))
        return None if data is None else _decode(data)

    def get(self, key):
        value = self.link.call(lambda client: self._read(client, key), lambda: self.local.get(key))
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key, value, size: int) -> None:
        if size > self.max_bytes // 4:
            return  # as in-process: one huge entry is not worth keeping
        self.link.call(lambda client: client.set(self._key(key), _encode(value), ex=ENTRY_SECONDS),
                       lambda: self.local.put(key, value, size))

    def __len__(self) -> int:
        return self.link.call(
            lambda client: sum(1 for _ in client.scan_iter(match=self.prefix + "*", count=1000)),
            lambda: len(self.local))


class RedisCounters:
    """fairness.Counters in Redis; while Redis is unreachable, in this process's own Counters.

    `in_flight` is compared with this process's own number of workers, so it is never
    shared: it stays in the process. Flight slots are leases (a sorted set per key, each
    member naming its process, scored by when its lease ends), renewed by `renew`.
    """

    LOCAL = ("in_flight",)

    def __init__(self, link, prefix: str = "chainrule:counter:", clock=time.time):
        self.link, self.prefix, self.clock = _link(link), prefix, clock
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


def agree_on_secret(client) -> str:
    """The school's cookie secret: the one in Redis, or a new one put there (SET NX)."""
    client.set(SECRET_KEY, secrets.token_hex(32), nx=True)
    return client.get(SECRET_KEY).decode()


def _keep_alive(link: RedisLink, counters: RedisCounters, secret: str | None) -> None:
    """Renew this process's leases; put the agreed secret back if Redis lost it (a flush, an
    eviction), so a process started later agrees with the running ones."""
    while True:
        time.sleep(LEASE_SECONDS / 3)
        counters.renew()
        if secret:
            link.call(lambda client: client.set(SECRET_KEY, secret, nx=True), lambda: None)


def redis_state(app: Flask) -> str:
    """For /healthz: "ok", "unreachable" (this process serves alone), or "not used"."""
    link = app.extensions.get("chainrule_redis_link")
    if link is None:
        return "not used"
    return "ok" if link.answers() else "unreachable"


def _unavailable(_error):
    """A Redis error that escaped the fallbacks: a 503 to retry, in the API's shape (not a 500)."""
    from ..errors import ChainruleError
    response = jsonify(ChainruleError("busy", "The server's shared store did not answer; try "
                                      "again in a few seconds.", status=503).to_dict())
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


def configure(app: Flask) -> None:
    """Move the caches and counters to Redis when CACHE_URL (CHAINRULE_CACHE_URL) is set.

    Each cache on app.extensions (cache.SIZED_BY, and the answers) is swapped for its
    Redis twin; the single-flight and the layout counter stay in the process. Without
    CHAINRULE_SECRET, the processes sharing this Redis agree on one secret through it.
    """
    url = app.config.get("CACHE_URL") or os.environ.get("CHAINRULE_CACHE_URL")
    if not url:
        return
    import redis  # only a deployment that asks for Redis needs it

    from ..cache import SIZED_BY
    from .fairness import Clients

    client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                  retry_on_timeout=False)
    try:
        client.ping()  # a wrong address fails at start-up, not at the first student
        secret = agree_on_secret(client) if app.extensions.get("chainrule_secret_invented") else None
    except (redis.RedisError, OSError) as error:
        raise RedisUnavailable(f"Redis at {url} (CHAINRULE_CACHE_URL) does not answer ({error}); "
                               "start it, or unset CHAINRULE_CACHE_URL to serve alone.") from None
    if secret:
        app.config["IDENTITY_SECRET"] = secret
    link = RedisLink(client)
    counters = RedisCounters(link)
    app.extensions["chainrule_redis"] = client
    app.extensions["chainrule_redis_link"] = link
    app.extensions["chainrule_answers"] = RedisCache(link, "answers")
    app.extensions["chainrule_clients"] = Clients(app.config["COOL_DOWN_SECONDS"], counters)
    for name in SIZED_BY:
        app.extensions[f"chainrule_{name}"] = RedisCache(link, name)
    app.register_error_handler(redis.RedisError, _unavailable)
    threading.Thread(target=_keep_alive, args=(link, counters, secret), daemon=True,
                     name="chainrule-redis-leases").start()
