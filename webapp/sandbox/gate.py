"""The app's door to the worker pool: one pool per app, started on first use.

Answers are cached by job (source, inputs and options): every job is deterministic,
so a second request for the same thing never reaches a worker. Fairness between
students (caps, cool-downs after a limit) is fairness.py's, per identity.py's browser.
"""
from __future__ import annotations

import atexit
import json
import threading

from flask import Flask, current_app, has_request_context, request

from . import identity
from ..cache import BoundedCache, SingleFlight, note
from ..errors import ChainruleError
from ..timing import record, timed
from .fairness import Clients
from .pool import WorkerPool
from .values import check_value

_lock = threading.Lock()


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

    def compute():
        spent: dict = {}
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
            if error.kind == "limit" and not refused_before_running(job, error):
                clients.penalise(client)  # a bomb, or a runaway loop: cool down before the next
            raise


def refused_before_running(job: dict, error: ChainruleError) -> bool:
    """Whether a worker's `limit` came from reading the source alone (a loop that could never
    end, a number too large): it cost no one anything, so it costs its sender nothing shared.
    Reading it again here takes milliseconds and no torch, and is done only after a refusal."""
    from ..language.frontend import as_cpython, choose_language, current_language, parse_source, \
        source_language
    source = job.get("source")
    if not isinstance(source, str):
        return False
    try:
        language = choose_language(job.get("language") or current_language(), source)
        with source_language(language):
            try:
                parse_source(source)
            except ChainruleError as refusal:
                outside = refusal.kind == "unsupported" and not getattr(refusal, "final", False) \
                    or getattr(refusal, "interpreter_only", False)
                if not outside:
                    raise
                with as_cpython():  # as the worker runs it (engine/jobs.py)
                    parse_source(source)
    except ChainruleError as refusal:
        return refusal.kind == "limit" and refusal.message == error.message
    except Exception:  # noqa: BLE001 - whatever reading it again did, the worker's refusal stands
        return False
    return False


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
