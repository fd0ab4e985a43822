"""Whether this process may execute user text as CPython (no torch import: the worker's
child sets it before it reads a job)."""
from __future__ import annotations

import contextlib
import os

# Set by the worker's child once confine.py has walled it in (or the server allowed one
# person on loopback to run unconfined: isolation.py).
CONFINED = False


def allowed_here() -> bool:
    """User text runs in a confined child, or where its owner said they trust it."""
    return CONFINED or os.environ.get("CHAINRULE_TRUSTED", "") == "1"


@contextlib.contextmanager
def own_text():
    """chainrule's own warm-up programs (worker.warm_up) run as CPython in the zygote."""
    global CONFINED
    before, CONFINED = CONFINED, True
    try:
        yield
    finally:
        CONFINED = before
