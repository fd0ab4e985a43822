"""Run a job from the CLI or the Python API under the server's limits, or trusted in-process.

By default user text runs in a worker process like the server's (a deadline, a memory
cap, no files, no child processes), started on first use and kept for the session.
`trusted=True`, or CHAINRULE_TRUSTED=1 in the environment, runs it in this process
instead: quicker for a notebook whose author trusts the text, and bounded only by the
language's own budget.
"""
from __future__ import annotations

import atexit
import os
import threading

from .errors import ChainruleError
from .limits import DEFAULT_LIMITS

_lock = threading.Lock()
_pool = None


def is_trusted(trusted: bool | None) -> bool:
    return os.environ.get("CHAINRULE_TRUSTED", "") == "1" if trusted is None else bool(trusted)


def run_job(job: dict, trusted: bool | None = None) -> dict:
    """The job's answer in the API's shape: {"ok": ...} or {"error": {...}}."""
    if "language" not in job:
        from .language.frontend import current_language
        # The chosen language lives in a context variable here; the worker needs it in the job.
        job = {**job, "language": current_language()}
    if is_trusted(trusted):
        from .engine.jobs import handle
        return handle(job)
    try:
        return {"ok": _worker().run(job)}
    except ChainruleError as error:
        return error.to_dict()


def _worker():
    """One worker process for this Python session, started on first use."""
    global _pool
    from .sandbox.pool import WorkerPool
    with _lock:
        if _pool is None:
            _pool = WorkerPool(size=1, deadline_seconds=DEFAULT_LIMITS.deadline_seconds,
                               wait_seconds=DEFAULT_LIMITS.deadline_seconds + 5)
            atexit.register(_pool.close)
    return _pool
