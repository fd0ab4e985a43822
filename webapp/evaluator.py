"""The app's door to the worker pool: one pool per app, started on first use.

Answers are cached by job (source, inputs and options): every job is deterministic,
so a second request for the same thing never reaches a worker. Each client may have
a few evaluations in flight; one whose function was just stopped for exceeding a
limit waits out a short cool-down, so a loop of bombs cannot hold the workers.
"""
from __future__ import annotations

import atexit
import json
import threading
import time

from flask import Flask, current_app, request

from .cache import BoundedCache, SingleFlight
from .errors import ChainruleError
from .worker_pool import WorkerPool

_lock = threading.Lock()
MAX_IN_FLIGHT = 3


def init_app(app: Flask) -> None:
    app.extensions["chainrule_pool"] = None
    app.extensions["chainrule_answers"] = BoundedCache(max_bytes=app.config["ANSWER_CACHE_BYTES"])
    app.extensions["chainrule_clients"] = Clients(app.config["COOL_DOWN_SECONDS"])
    app.extensions["chainrule_flights"] = SingleFlight()


def pool() -> WorkerPool:
    """The current app's pool, created (and its workers booted) on first use."""
    app = current_app._get_current_object()
    with _lock:
        existing = app.extensions.get("chainrule_pool")
        if existing is None:
            existing = WorkerPool(size=app.config["WORKERS"],
                                  deadline_seconds=app.config["DEADLINE_SECONDS"],
                                  wait_seconds=app.config["BUSY_WAIT_SECONDS"],
                                  worker_env=app.config.get("WORKER_ENV"))
            app.extensions["chainrule_pool"] = existing
            atexit.register(existing.close)
    return existing


def evaluate(kind: str, **job) -> dict:
    """Run one job (see jobs.HANDLERS) in a worker and return its JSON answer."""
    job = {"kind": kind, **job}
    job.setdefault("language", _request_language())
    key = json.dumps(job, sort_keys=True)
    answers: BoundedCache = current_app.extensions["chainrule_answers"]
    cached = answers.get(key)
    if cached is not None:
        return json.loads(cached)
    clients: Clients = current_app.extensions["chainrule_clients"]
    client = request.remote_addr if request else "local"
    workers = pool()

    def compute():
        answer = workers.run(job)
        text = json.dumps(answer)
        answers.put(key, text, len(text) + len(key))
        return answer  # shared with concurrent identical requests: read, never changed

    with clients.slot(client):
        try:
            answer = current_app.extensions["chainrule_flights"].run(key, compute)
            clients.forgive(client)
            return answer
        except ChainruleError as error:
            if error.kind == "limit":
                clients.penalise(client)  # a bomb, or a runaway loop: cool down before the next
            raise


def _request_language():
    """`language` from the JSON body or the query string; None means detect it."""
    if not request:
        return None
    body = request.get_json(silent=True) if request.is_json else None
    value = body.get("language") if isinstance(body, dict) else None
    return value or request.args.get("language") or None


class Clients:
    """Per-client fairness: a cap on evaluations in flight, and a cool-down after a kill."""

    MAX_COOL_DOWN = 300.0

    def __init__(self, cool_down_seconds: float):
        self.cool_down_seconds = cool_down_seconds
        self.in_flight: dict[str, int] = {}
        self.cooling: dict[str, float] = {}
        self.offences: dict[str, int] = {}
        self.lock = threading.Lock()

    def penalise(self, client: str) -> None:
        """Cool down 10 s after a limit, doubling for each further one in a row."""
        with self.lock:
            count = self.offences[client] = self.offences.get(client, 0) + 1
            wait = min(self.MAX_COOL_DOWN, self.cool_down_seconds * 2 ** (count - 1))
            self.cooling[client] = time.monotonic() + wait

    def forgive(self, client: str) -> None:
        """A function that ran normally clears the record."""
        if client in self.offences:
            with self.lock:
                self.offences.pop(client, None)

    def slot(self, client: str):
        clients = self

        class Slot:
            def __enter__(self):
                with clients.lock:
                    until = clients.cooling.get(client, 0)
                    if until > time.monotonic():
                        raise ChainruleError("busy", "Your last function was stopped at one of the "
                                             "limits; try again in a few seconds.")
                    if clients.in_flight.get(client, 0) >= MAX_IN_FLIGHT:
                        raise ChainruleError("busy", "Too many of your functions are running at "
                                             "once; try again in a moment.")
                    clients.in_flight[client] = clients.in_flight.get(client, 0) + 1

            def __exit__(self, *exc):
                with clients.lock:
                    clients.in_flight[client] -= 1
                    if not clients.in_flight[client]:
                        del clients.in_flight[client]

        return Slot()
