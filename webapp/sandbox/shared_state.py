"""Caches and fairness state in Redis, shared by several processes or machines.

With CHAINRULE_CACHE_URL=redis://host:port/db, create_app swaps its services (services.py)
whole for their Redis form (`in_redis`): the answer cache, the drawings (layouts and
finished drawings), the image and page responses and the fairness `Counters` (slots,
offences, cool-downs, fresh cookies per address) live in Redis, so an image drawn by one
process is a cache hit on the next, and a cool-down earned on one holds on all. Without
the variable, everything stays in-process and Redis is never imported.

Redis is a dependency that can fail. Every call waits at most REDIS_TIMEOUT_SECONDS, and
after a failure this process leaves Redis alone for RETRY_SECONDS (`RedisLink`): caches
and counters then answer from this process's own, so a student gets an answer (maybe
computed again, with this process's fairness), never a 500, and a paused Redis costs one
request one timeout, not every call of every request.

The fairness counters are redis_counters.py's; a thread here renews this process's
flight slots (leases) and keeps the school's agreed secret in Redis.

Values are stored as JSON (bytes as base64), never pickled: a value read from Redis is
data, whoever wrote it. Entries expire after a day; bound Redis's memory with its own
`maxmemory` and `maxmemory-policy allkeys-lru`.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import os
import secrets
import threading
import time
from pathlib import Path

from flask import Flask, jsonify

from ..cache import BoundedCache
from ..services import Services, services

ENTRY_SECONDS = 86_400
# The longest one Redis call may take (connect or answer): Redis on a school's network
# answers in a millisecond; past this it is down or paused, and this process goes on alone.
REDIS_TIMEOUT_SECONDS = 0.5
# After a failed call, Redis is left alone this long (then one call tries it again).
RETRY_SECONDS = 5.0
# Where processes without CHAINRULE_SECRET agree on one (SET NX: the first one wins).
SECRET_KEY = "chainrule:secret"


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


def redis_link(client_or_link) -> RedisLink:
    return client_or_link if isinstance(client_or_link, RedisLink) else RedisLink(client_or_link)


@functools.lru_cache(maxsize=1)  # made once per process
def code_version() -> str:
    """A hash of chainrule's code and templates: part of every cached entry's Redis key, so
    answers and pages made by an earlier version are never served after a deploy (they
    expire unread). Processes of one deploy agree; a mixed fleet keeps two sets apart."""
    root = Path(__file__).resolve().parent.parent
    templates = root / "templates" if (root / "templates").is_dir() else root.parent / "templates"
    digest = hashlib.sha256()
    for folder, pattern in ((root, "*.py"), (templates, "*.html")):
        for path in sorted(folder.rglob(pattern)):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


class RedisCache:
    """BoundedCache's get / put in Redis, under `chainrule:<code version>:<name>:<hash of
    the key>`; while Redis is unreachable, in this process's own BoundedCache."""

    def __init__(self, link, name: str, max_bytes: int = 64 * 2**20):
        self.link, self.max_bytes = redis_link(link), max_bytes
        self.prefix = f"chainrule:{code_version()}:{name}:"
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


def agree_on_secret(client) -> str:
    """The school's cookie secret: the one in Redis, or a new one put there (SET NX)."""
    client.set(SECRET_KEY, secrets.token_hex(32), nx=True)
    return client.get(SECRET_KEY).decode()


def _keep_alive(link: RedisLink, counters, secret: str | None) -> None:
    """Renew this process's leases; put the agreed secret back if Redis lost it (a flush, an
    eviction), so a process started later agrees with the running ones."""
    from .redis_counters import LEASE_SECONDS
    while True:
        time.sleep(LEASE_SECONDS / 3)
        counters.renew()
        if secret:
            link.call(lambda client: client.set(SECRET_KEY, secret, nx=True), lambda: None)


def redis_state(app: Flask) -> str:
    """For /healthz: "ok", "unreachable" (this process serves alone), or "not used"."""
    link = services(app).redis
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


def in_redis(app: Flask, local: Services) -> Services:
    """`local`'s Redis form when CACHE_URL (CHAINRULE_CACHE_URL) is set, else `local` itself.

    Each cache (answers, pages, images, templates, drawings) is its Redis twin of the same
    bound, and fairness counts in Redis; the single-flights, the layout service, the export
    slots and the pool stay in the process. Without CHAINRULE_SECRET, the processes sharing
    this Redis agree on one secret through it.
    """
    url = app.config.get("CACHE_URL") or os.environ.get("CHAINRULE_CACHE_URL")
    if not url:
        return local
    import redis  # only a deployment that asks for Redis needs it

    from .fairness import Clients
    from .redis_counters import RedisCounters

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

    def twin(name: str, cache) -> RedisCache:
        return RedisCache(link, name, cache.max_bytes)
    shared = dataclasses.replace(
        local, redis=link, clients=Clients(local.clients.cool_down_seconds, counters),
        answers=twin("answers", local.answers), pages=twin("pages", local.pages),
        images=twin("images", local.images),
        drawing=dataclasses.replace(local.drawing, templates=twin("templates", local.drawing.templates),
                                    drawings=twin("drawings", local.drawing.drawings)))
    app.register_error_handler(redis.RedisError, _unavailable)
    threading.Thread(target=_keep_alive, args=(link, counters, secret), daemon=True,
                     name="chainrule-redis-leases").start()
    return shared
