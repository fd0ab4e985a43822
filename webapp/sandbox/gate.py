"""The app's door to the worker pool: one pool per app, started on first use.

Answers are cached by job (source, inputs and options): every job is deterministic,
so a second request for the same thing never reaches a worker. Fairness between
students (caps, cool-downs after a limit) is fairness.py's, per identity.py's browser.
"""
from __future__ import annotations

import atexit
import json
import threading
from contextlib import contextmanager

from flask import Flask, current_app, has_request_context, request

from . import identity
from ..cache import BoundedCache, SingleFlight, note
from ..errors import ChainruleError
from ..timing import record, timed
from .fairness import Clients
from .pool import WorkerPool
from .values import check_value

_lock = threading.Lock()
# A `limit` refused by the worker within this many seconds may have come from reading alone.
READ_AGAIN_SECONDS = 2.0


def init_app(app: Flask) -> None:
    app.extensions["chainrule_pool"] = None
    app.extensions["chainrule_answers"] = BoundedCache(max_bytes=app.config["ANSWER_CACHE_BYTES"])
    app.extensions["chainrule_clients"] = Clients(app.config["COOL_DOWN_SECONDS"])
    identity.init_app(app)
    app.extensions["chainrule_flights"] = SingleFlight()
    app.extensions["chainrule_sender"] = _sender


def _sender():
    """This request's sender for the layout service: its key, and how to cool it down."""
    if not has_request_context():
        return None
    who = identity.current_identity()
    return who.key, lambda: current_app.extensions["chainrule_clients"].penalise(who)


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


def workers_unready(app: Flask) -> str | None:
    """Why this app's pool cannot take a job now (for /healthz), or None when it can.

    Not started (a dev server starts it on first use) or replacing a worker is ready
    enough; booting for the first time (torch imports for seconds) or closed is not."""
    existing = app.extensions.get("chainrule_pool")
    if existing is None:
        return None
    if existing.closed:
        return "the evaluator workers were stopped"
    if existing.replaced == 0 and existing.starting >= existing.size:
        return "the evaluator workers are starting"
    return None


def evaluate(kind: str, **job) -> dict:
    """Run one job (see engine/jobs.py) in a worker and return its JSON answer."""
    job = {"kind": kind, **job}
    job.setdefault("language", _request_language())
    check_job(job)
    key = json.dumps(job, sort_keys=True)
    answers: BoundedCache = current_app.extensions["chainrule_answers"]
    cached = answers.get(key)
    note(cached is not None)
    if cached is not None:
        return json.loads(cached)
    clients: Clients = current_app.extensions["chainrule_clients"]
    client = identity.current_identity()
    workers = pool()

    spent: dict = {}  # "job": the worker's seconds, also when it refused

    def compute():
        with timed("evaluate"):
            answer = workers.run(job, spent)
        record("job", spent.get("job"))
        text = json.dumps(answer)
        answers.put(key, text, len(text) + len(key))
        return answer  # shared with concurrent identical requests: read, never changed

    with clients.slot(client, workers.size):
        try:
            answer = current_app.extensions["chainrule_flights"].run(key, compute)
            clients.forgive(client)
            return answer
        except ChainruleError as error:
            # A refusal on reading (a loop that could never end) cost no one anything, so it
            # costs its sender nothing shared; checked by create_app's reader, which knows
            # the languages (this side of the boundary does not). Only a quick refusal is
            # read again, so reading costs this process no more than it cost the worker.
            read = current_app.extensions.get("chainrule_refused_on_reading")
            quick = (spent.get("job") or READ_AGAIN_SECONDS) < READ_AGAIN_SECONDS
            if error.kind == "limit" and not (read and quick and read(job, error)):
                clients.penalise(client)  # a bomb, or a runaway loop: cool down before the next
            raise


@contextmanager
def charged():
    """Work done for this request outside a worker (an export's frames), under the same
    fairness as an evaluation: a slot in flight, forgiven when it ran, a cool-down after a limit."""
    clients: Clients = current_app.extensions["chainrule_clients"]
    client = identity.current_identity()
    with clients.slot(client, pool().size):
        try:
            yield
        except ChainruleError as error:
            if error.kind == "limit":
                clients.penalise(client)
            raise
        clients.forgive(client)


def check_job(job: dict) -> None:
    """The one door every job passes: only finite numbers, named when refused."""
    for key, value in job.items():
        if key == "inputs" and isinstance(value, dict):
            for name, item in value.items():
                check_value(name, item)
        elif key != "source":
            check_value(key, value)


def _request_language():
    """`language` from the JSON body or the query string; None means detect it."""
    if not request:
        return None
    body = request.get_json(silent=True) if request.is_json else None
    value = body.get("language") if isinstance(body, dict) else None
    return value or request.args.get("language") or None
