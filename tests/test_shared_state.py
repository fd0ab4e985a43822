"""Two production processes sharing one real Redis: caches and cool-downs hold across them."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .test_production import free_port, start_server, stop_server

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (`make test` installs it)")


def start_redis() -> tuple[subprocess.Popen, str]:
    """A redis-server of the test's own on a free loopback port, answering; and its URL."""
    import redis
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return server, f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="module")
def redis_url():
    server, url = start_redis()
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def two_servers(redis_url):
    env = {"CHAINRULE_CACHE_URL": redis_url, "CHAINRULE_SECRET": "shared-secret-for-the-test",
           "CHAINRULE_COOL_DOWN": "30", "CHAINRULE_DEBUG_HEADERS": "1"}
    first, first_base, _ = start_server(env, workers=1)
    second, second_base, _ = start_server(env, workers=1)
    yield first_base, second_base
    stop_server(first)
    stop_server(second)


def call(base: str, path: str, body: dict | None = None, cookie: str | None = None):
    """(status, headers, body bytes) of one request."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(base + path, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_an_image_drawn_by_one_process_is_a_cache_hit_on_the_other(two_servers):
    """Mutation: `images=local.images` in shared_state.in_redis (the responses stay in the
    process): the second process draws it again (miss)."""
    first, second = two_servers
    path = "/graph.svg?" + urllib.parse.urlencode({"f": "x * 7 + 0.424242", "x": "3"})
    status_a, headers_a, body_a = call(first, path)
    status_b, headers_b, body_b = call(second, path)
    assert status_a == status_b == 200
    assert headers_a["X-Chainrule-Cache"] == "miss" and headers_b["X-Chainrule-Cache"] == "hit"
    assert body_a == body_b and headers_a["ETag"] == headers_b["ETag"]


def test_a_cool_down_earned_on_one_process_holds_on_the_other(two_servers):
    """Mutation: `clients=local.clients` in shared_state.in_redis: the second process knows
    nothing of the offence and serves it.
    Mutation: drop CHAINRULE_SECRET from the servers' env: the second mints a new cookie."""
    first, second = two_servers
    # A classmate with a cookie minted by the first process, accepted by the second
    # (same CHAINRULE_SECRET: no new cookie); it makes the server contended.
    _, headers, _ = call(first, "/api/trace", {"source": "x + 2", "inputs": {"x": 1}})
    cookie = headers["Set-Cookie"].split(";")[0]
    status, headers, _ = call(second, "/api/trace", {"source": "x + 1", "inputs": {"x": 1}}, cookie)
    assert status == 200 and "Set-Cookie" not in headers
    # A newcomer's function stopped at a limit on the first process...
    status, _, body = call(first, "/api/trace", {"source": "torch.zeros(100000000)", "inputs": {}})
    assert status == 400 and json.loads(body)["error"]["kind"] == "limit"
    # ...cools the same newcomer down on the second.
    status, _, body = call(second, "/api/trace", {"source": "x * 2 + 0.1357", "inputs": {"x": 1}})
    assert status == 429 and "stopped at one of the limits" in json.loads(body)["error"]["message"]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_redis_counters_behave_like_the_in_process_ones(kind, redis_url):
    """Mutation: `return int(pipe.execute()[2]) - 1` -> `... [2])` in RedisCounters.seen:
    a lone student counts themself as another, and the server is never idle."""
    import redis

    from webapp.sandbox.fairness import Counters
    from webapp.sandbox.redis_counters import RedisCounters
    counters = Counters() if kind == "memory" else RedisCounters(
        redis.Redis.from_url(redis_url), prefix=f"test:{time.time()}:")
    assert counters.get("a") == 0
    assert counters.increment("a") == 1 and counters.increment("a", 2) == 3
    counters.expire("a")
    assert counters.get("a") == 0
    counters.put("cool", 5.5, ttl=0.05)
    assert counters.get("cool") == 5.5
    assert counters.increment("window", 1, ttl=0.05) == 1
    time.sleep(0.15)
    assert counters.get("cool") == 0 and counters.increment("window", 1, ttl=60) == 1
    assert counters.seen("alice", 10) == 0 and counters.seen("bob", 10) == 1
    assert counters.seen("alice", 10) == 1


def test_an_unreachable_redis_makes_a_local_cache_not_an_error():
    """Mutation: `except self.errors:` -> `except KeyError:` in RedisLink.call: a 500.
    Mutation: RedisCache.put's fallback `lambda: None`: the entry is not kept at all."""
    import redis

    from webapp.sandbox.shared_state import RedisCache
    cache = RedisCache(redis.Redis(port=free_port(), socket_connect_timeout=0.5), "test")
    cache.put("key", b"value", 5)
    assert cache.get("key") == b"value" and cache.get("other") is None  # this process's own


def test_in_flight_is_per_process_and_the_rest_is_shared(redis_url):
    """Mutation: `LOCAL = ("in_flight",)` -> `LOCAL = ()` in RedisCounters: one process's
    evaluations in flight would count against another's workers."""
    import redis

    from webapp.sandbox.redis_counters import RedisCounters
    client, prefix = redis.Redis.from_url(redis_url), f"test:{time.time()}:"
    one, other = RedisCounters(client, prefix), RedisCounters(client, prefix)
    one.increment("in_flight")
    one.take_slot("flight:alice")
    assert one.get("in_flight") == 1 and other.get("in_flight") == 0
    assert other.slots("flight:alice") == 1


def test_answers_cached_by_an_earlier_version_are_not_read_after_a_deploy(redis_url, monkeypatch):
    """A deploy that changes a sentence must not serve last version's answers from Redis.
    Mutation: the code version left out of RedisCache's prefix: the old answer is read."""
    import redis
    from webapp.sandbox import shared_state
    client = redis.Redis.from_url(redis_url)
    monkeypatch.setattr(shared_state, "code_version", lambda: "before")
    shared_state.RedisCache(client, "answers").put("seed 001", "old words", 9)
    assert shared_state.RedisCache(client, "answers").get("seed 001") == "old words"
    monkeypatch.setattr(shared_state, "code_version", lambda: "after")
    assert shared_state.RedisCache(client, "answers").get("seed 001") is None
