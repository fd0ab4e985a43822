"""A school's Redis fails: answers degrade to this process's own caches and fairness, never a 500;
slots of a dead process free themselves; processes without CHAINRULE_SECRET agree on one."""
from __future__ import annotations

import shutil
import subprocess
import time
import types
import urllib.parse

import pytest

from webapp import create_app
from webapp.sandbox import identity
from webapp.services import services

from .test_shared_state import start_redis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (`make test` installs it)")




def stop_redis(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_url():
    server, url = start_redis()
    yield url
    stop_redis(server)


@pytest.fixture()
def no_secret(monkeypatch):
    monkeypatch.delenv("CHAINRULE_SECRET", raising=False)
    monkeypatch.delenv("CHAINRULE_CACHE_URL", raising=False)


def test_every_route_answers_when_redis_goes_away(no_secret):
    """The red team stopped Redis: without a cookie every route (/healthz and static files too)
    was Flask's HTML 500, with one /healthz said 200 while the pages said 500. Now each answers
    from this process's own caches and fairness, and /healthz says Redis is unreachable.
    Mutations seen failing: RedisCounters.get reading the client directly (no link.call), or
    RedisCounters.seen so: 500s; redis_state always "ok": /healthz does not say so."""
    server, url = start_redis()
    app = create_app({"TESTING": True, "WORKERS": 1, "CACHE_URL": url})
    try:
        kwargs = services(app).redis.client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] <= 1 and kwargs["socket_connect_timeout"] <= 1
        client = app.test_client()
        assert client.get("/healthz").get_json() == {"status": "ok", "redis": "ok"}
        stop_redis(server)
        trace = {"source": "x * 3 + 0.4242", "inputs": {"x": 2}}
        image = "/graph.svg?" + urllib.parse.urlencode({"f": "x * 5 + 0.4242", "x": "2"})
        for with_cookie in (False, True):
            browser = app.test_client()
            if with_cookie:
                with app.test_request_context():
                    browser.set_cookie(identity.COOKIE, identity._mint())
            health = browser.get("/healthz")
            assert health.status_code == 200 and health.get_json()["redis"] == "unreachable"
            assert browser.get("/static/css/chainrule.css").status_code == 200
            answer = browser.post("/api/trace", json=trace)
            assert answer.status_code == 200 and answer.get_json()["leaves"]["x"]["grad"] == 3.0
            assert browser.get(image).status_code == 200
            page = browser.get("/?" + urllib.parse.urlencode({"f": "sin(x) + 0.4242", "x": "1"}))
            assert page.status_code == 200
    finally:
        if server.poll() is None:
            stop_redis(server)
        if services(app).pool:
            services(app).pool.close()


class SilentRedis:
    """A Redis that never answers (paused with SIGSTOP or DEBUG SLEEP): every call times out."""

    def __init__(self):
        self.calls = 0

    def _fail(self, *args, **kwargs):
        import redis
        self.calls += 1
        raise redis.TimeoutError("Timeout reading from socket")

    def __getattr__(self, name):
        if name == "register_script":
            return lambda script: self._fail
        return self._fail


def test_a_paused_redis_costs_one_timeout_then_is_left_alone():
    """A paused Redis held /api/trace for 7 s: each of its ~10 Redis calls waited out the
    5 s timeout in turn. Now the first failure sends this process on alone for RETRY_SECONDS,
    then one call tries Redis again. Mutation: RedisLink.call not setting `down_until`: every
    call of the request goes to the silent Redis (10 timeouts, not 1)."""
    from webapp.sandbox.fairness import Clients
    from webapp.sandbox.identity import Identity
    from webapp.sandbox.redis_counters import RedisCounters
    from webapp.sandbox.shared_state import RETRY_SECONDS, RedisCache, RedisLink
    now = [1000.0]
    silent = SilentRedis()
    link = RedisLink(silent, clock=lambda: now[0])
    cache, clients = RedisCache(link, "answers"), Clients(10.0, RedisCounters(link))
    student = Identity("10.0.0.1|a", "10.0.0.1|newcomer", True)

    def one_request(job):  # what gate.evaluate asks of Redis
        assert cache.get(job) is None
        with clients.slot(student, workers=2):
            cache.put(job, "answer", 6)
        clients.forgive(student)
        return cache.get(job)

    assert one_request("first") == "answer"  # kept in this process's own cache
    assert silent.calls == 1
    now[0] += RETRY_SECONDS + 0.1
    one_request("second")
    assert silent.calls == 2


def test_a_dead_process_slots_free_themselves_and_a_live_one_keeps_them(redis_url):
    """A killed process left 3 slots in Redis for 598 s, and its student was refused on the
    other process. Slots are now leases of LEASE_SECONDS that their owner renews.
    Mutations seen failing: the lease scored `+inf` (never ends): the dead process's slots
    stay; `renew` doing nothing: the live process's slot is lost."""
    import redis

    from webapp.sandbox.redis_counters import LEASE_SECONDS, RedisCounters
    now = [time.time()]
    client, prefix = redis.Redis.from_url(redis_url), f"test:{time.time()}:"
    dead, live, other = (RedisCounters(client, prefix, clock=lambda: now[0]) for _ in range(3))
    for _ in range(3):
        dead.take_slot("flight:alice")
    token = live.take_slot("flight:bob")
    assert other.slots("flight:alice") == 3 and other.slots("flight:bob") == 1
    now[0] += LEASE_SECONDS - 1
    live.renew()  # the live process's thread does this every LEASE_SECONDS / 3
    now[0] += LEASE_SECONDS - 1
    assert other.slots("flight:alice") == 0  # the dead process never renewed
    assert other.slots("flight:bob") == 1
    live.give_slot("flight:bob", token)
    assert other.slots("flight:bob") == 0


def test_processes_without_a_secret_agree_on_one_through_redis(redis_url, no_secret, monkeypatch):
    """Each process used to invent its own secret, so a cookie from one was refused (and re-minted)
    by the other. Mutation: `secret = None` instead of agree_on_secret(client) in configure:
    the second process refuses the first one's cookie."""
    first = create_app({"TESTING": True, "CACHE_URL": redis_url})
    second = create_app({"TESTING": True, "CACHE_URL": redis_url})
    with first.test_request_context():
        cookie = identity._mint()
    with second.test_request_context():
        assert identity._verify(cookie) is not None
    # A secret the operator gives is used as it is, never replaced by the shared one.
    monkeypatch.setenv("CHAINRULE_SECRET", "the-operator's-own")
    given = create_app({"TESTING": True, "CACHE_URL": redis_url})
    assert given.config["IDENTITY_SECRET"] == "the-operator's-own"


def test_healthz_is_503_while_this_process_cannot_serve():
    """A load balancer takes a process out while its workers boot for the first time or after
    they were stopped; replacing a worker is not a reason. Mutation: workers_unready returning
    None: /healthz stays 200 with no worker to answer."""
    app = create_app({"TESTING": True})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # a dev server starts its pool on first use
    for pool, status in ((dict(closed=False, replaced=0, starting=2, size=2), 503),
                         (dict(closed=False, replaced=3, starting=2, size=2), 200),
                         (dict(closed=False, replaced=0, starting=1, size=2), 200),
                         (dict(closed=True, replaced=0, starting=0, size=2), 503)):
        services(app).pool = types.SimpleNamespace(**pool)
        response = client.get("/healthz")
        assert response.status_code == status, pool
        if status == 503:
            assert response.get_json()["status"] == "unavailable" and response.headers["Retry-After"]
