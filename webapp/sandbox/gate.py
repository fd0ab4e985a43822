"""The app's door to the worker pool: one pool per app, started on first use.

Answers are cached by job (source, inputs and options): every job is deterministic,
so a second request for the same thing never reaches a worker. Fairness between
students (caps, cool-downs after a limit) is fairness.py's, per identity.py's browser.
The pool, the answers and the fairness counters are the app's services (services.py).
"""
from __future__ import annotations

import atexit
import json
import threading
from contextlib import contextmanager

from flask import Flask, current_app, request

from . import identity
from ..cache import note
from ..errors import ChainruleError
from ..model import Trace, TraceError
from ..services import services
from ..timing import record, timed
from .pool import WorkerPool
from .protocol import log_bug
from .values import check_value

_lock = threading.Lock()
# A `limit` refused by the worker within this many seconds may have come from reading alone.
READ_AGAIN_SECONDS = 2.0


def init_app(app: Flask) -> None:
    identity.init_app(app)


def pool() -> WorkerPool:
    """The current app's pool, created (and its workers booted) on first use."""
    state, config = services(), current_app.config
    with _lock:
        if state.pool is None:
            state.pool = WorkerPool(size=config["WORKERS"], deadline_seconds=config["DEADLINE_SECONDS"],
                                    wait_seconds=config["BUSY_WAIT_SECONDS"],
                                    worker_env=config.get("WORKER_ENV"))
            atexit.register(state.pool.close)
    return state.pool


def workers_unready(app: Flask) -> str | None:
    """Why this app's pool cannot take a job now (for /healthz), or None when it can.

    Not started (a dev server starts it on first use) or replacing a worker is ready
    enough; booting for the first time (torch imports for seconds) or closed is not."""
    existing = services(app).pool
    if existing is None:
        return None
    if existing.closed:
        return "the evaluator workers were stopped"
    if existing.replaced == 0 and existing.starting >= existing.size:
        return "the evaluator workers are starting"
    return None


# Refusals the same job always gets (the program's own error, a name it lacks): cached like
# answers, so a class opening a lesson that teaches an error runs it once. Not "limit" (a
# deadline depends on the machine's load), "busy" or "internal".
SAME_EVERY_TIME = frozenset({"syntax", "unsupported", "input", "runtime"})
REFUSED = "chainrule_refused"  # the cached form's one key; no answer has it


def evaluate(kind: str, also: list[dict] | None = None, **job) -> dict:
    """Run one job (see engine/jobs.py) in a worker and return its JSON answer.

    `also`: jobs on the same source its sender will ask for next (the page's plot: what
    pages.next_plot gives), which the worker completes from the trace and makes after it, in
    the same child, each on a small budget of its own. Each one made is cached under the key
    of the job it says it was (its source and language are this job's, never the worker's
    word), so its own request is a lookup. Not part of this job's key."""
    job = {"kind": kind, **job}
    job.setdefault("language", _request_language())
    check_job(job)
    key = json.dumps(job, sort_keys=True)
    state = services()
    answers = state.answers
    cached = answers.get(key)
    note(cached is not None)
    if cached is not None:
        answer = json.loads(cached)
        if REFUSED in answer:
            raise ChainruleError.from_dict({"error": answer[REFUSED]})
        return answer
    clients = state.clients
    client = identity.current_identity()
    workers = pool()

    spent: dict = {}  # "job": the worker's seconds, also when it refused

    def compute():
        with timed("evaluate"):
            try:
                answer = workers.run({**job, "also": also} if also else job, spent)
            except ChainruleError as error:
                if error.kind in SAME_EVERY_TIME:  # the gallery's retain-graph lesson, a typo
                    text = json.dumps({REFUSED: error.to_dict()["error"]})
                    answers.put(key, text, len(text) + len(key))
                raise
        record("job", spent.get("job"))
        record("job-cpu", spent.get("job-cpu"))
        if kind == "trace":
            _read_trace(answer)
        text = json.dumps(answer)
        answers.put(key, text, len(text) + len(key))
        for extra, made in zip(also or (), spent.get("also") or ()):
            _keep_made(job, extra, made, answers)
        return answer  # shared with concurrent identical requests: read, never changed

    with clients.slot(client, workers.size):
        try:
            answer = state.flights.run(key, compute)
            clients.forgive(client)
            return answer
        except ChainruleError as error:
            # A refusal on reading (a loop that could never end) cost no one anything, so it
            # costs its sender nothing shared; checked by create_app's reader, which knows
            # the languages (this side of the boundary does not). Only a quick refusal is
            # read again, so reading costs this process no more than it cost the worker.
            read = state.refused_on_reading
            quick = (spent.get("job") or READ_AGAIN_SECONDS) < READ_AGAIN_SECONDS
            if error.kind == "limit" and not (read and quick and read(job, error)):
                clients.penalise(client)  # a bomb, or a runaway loop: cool down before the next
            raise


def _keep_made(job: dict, extra: dict, made, answers) -> None:
    """Cache one `also` answer under its own job's key: the kind asked, the fields the worker
    made it with, this job's source and language. What is not plain, finite data is dropped."""
    if not (isinstance(made, dict) and "ok" in made and isinstance(made.get("job"), dict)):
        return  # not made: cut at its budget, refused, or not the page's plot
    whole = {**made["job"], "kind": extra["kind"], "source": job["source"], "language": job["language"]}
    try:
        check_job(whole)
        key = json.dumps(whole, sort_keys=True, allow_nan=False)
        text = json.dumps(made["ok"], allow_nan=False)
    except (ChainruleError, ValueError, TypeError):
        return
    answers.put(key, text, len(text) + len(key))


def _read_trace(answer: dict) -> None:
    """The worker's trace, read back once through the model (webapp/model.py): a field it
    does not describe is chainrule's bug, answered in the error shape and never cached."""
    try:
        Trace.from_json(answer)
    except TraceError as error:
        log_bug()
        raise ChainruleError("internal", "chainrule made a trace it cannot read; this is "
                             f"chainrule's bug, not your program's ({error.path}).") from None


@contextmanager
def charged():
    """Work done for this request outside a worker (an export's frames), under the same
    fairness as an evaluation: a slot in flight, forgiven when it ran, a cool-down after a limit."""
    clients = services().clients
    client = identity.current_identity()
    with clients.slot(client, pool().size):
        try:
            yield
        except ChainruleError as error:
            if error.kind == "limit":
                clients.penalise(client)
            raise
        clients.forgive(client)


def sender() -> str:
    """This request's sender as fairness counts it (the layout service shares its `dot`s by it)."""
    return identity.current_identity().key


def penalise_sender() -> None:
    """Cool this request's sender down as after an evaluation stopped at a limit: for work
    done for it outside a worker that ran out of time (a layout past its deadline)."""
    services().clients.penalise(identity.current_identity())


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
