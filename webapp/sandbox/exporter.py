"""Exports (the GIF, steps.zip) drawn in a bounded process of their own, never in the web process.

Each export runs `python -m webapp.drawing.export_process` (its child side): an address
space of EXPORT_MEMORY_BYTES and CPU seconds, both also binding each `dot` it starts, a
wall-clock deadline (EXPORT_DEADLINE_SECONDS) after which its whole process group is
killed, and an environment without the server's secrets. It is charged to its sender like
an evaluation (gate.charged: a slot in flight, a cool-down after a limit).

The web process's own memory for exports is bounded: at most EXPORT_PROCESSES run at once
(others wait up to EXPORT_WAIT_SECONDS, then are told the server is busy), and of each it
holds the job's JSON and the finished file, refused past MAX_EXPORT_BYTES. So exports add
at most EXPORT_PROCESSES × (trace JSON + MAX_EXPORT_BYTES) to the web process, whatever
a student asks for; decoded frames live and die in the export process.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from flask import current_app

from ..errors import ChainruleError, busy, limit
from ..limits import EXPORT_MEMORY_BYTES, MAX_EXPORT_BYTES
from ..services import services
from . import gate

DEFAULTS = {"EXPORT_PROCESSES": ("CHAINRULE_EXPORT_PROCESSES", 2),
            "EXPORT_DEADLINE_SECONDS": ("CHAINRULE_EXPORT_DEADLINE", 120.0),
            "EXPORT_WAIT_SECONDS": ("CHAINRULE_EXPORT_WAIT", 60.0),
            "EXPORT_MEMORY_BYTES": ("CHAINRULE_EXPORT_MEMORY", EXPORT_MEMORY_BYTES)}
# What the export process may see of the server's environment: where programs and fonts
# are, never CHAINRULE_SECRET or the Redis URL.
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "FONTCONFIG_FILE",
             "FONTCONFIG_PATH", "XDG_CACHE_HOME", "GVBINDIR", "LD_LIBRARY_PATH")
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)
ERROR_BYTES = 64 * 1024  # of the export process's stderr: one refusal's JSON


def setting(name: str):
    """The app's EXPORT_* setting, else its environment variable, else the default."""
    variable, default = DEFAULTS[name]
    value = current_app.config.get(name)
    return type(default)(value if value is not None else os.environ.get(variable, default))


def slots(config) -> threading.BoundedSemaphore:
    """An app's export slots (its services' `export_slots`): EXPORT_PROCESSES at once."""
    variable, default = DEFAULTS["EXPORT_PROCESSES"]
    return threading.BoundedSemaphore(int(config.get("EXPORT_PROCESSES") or os.environ.get(variable, default)))


def export(kind: str, trace: dict, theme: str) -> bytes:
    """The GIF (`kind` "gif") or steps.zip ("zip") of `trace`, drawn in an export process."""
    job = json.dumps({"kind": kind, "trace": trace, "theme": theme}).encode()
    with gate.charged():
        taken = services().export_slots
        if not taken.acquire(timeout=setting("EXPORT_WAIT_SECONDS")):
            raise busy("The server is drawing other animations; try again in a moment.")
        try:
            return run_export_process(job, setting("EXPORT_DEADLINE_SECONDS"), setting("EXPORT_MEMORY_BYTES"))
        finally:
            taken.release()


def run_export_process(job: bytes, seconds: float, memory: int = EXPORT_MEMORY_BYTES) -> bytes:
    """Run one export process on `job` (JSON) and return its file; every way it can fail
    is a sentence."""
    environment = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    environment.update(PYTHONPATH=PACKAGE_ROOT, MALLOC_ARENA_MAX="2")  # arenas count against RLIMIT_AS
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp.drawing.export_process", str(memory), str(int(seconds) + 1)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=environment, cwd=PACKAGE_ROOT, start_new_session=True)
    try:
        out, errors = _exchange(process, job, seconds)
    finally:
        _end(process)
    if process.returncode == 0:
        return bytes(out)
    if process.returncode == 2 and errors.startswith(b"{"):
        raise ChainruleError.from_dict(json.loads(errors))
    if process.returncode in (3, -signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        raise limit(f"Drawing this export needs more than an export's share of memory "
                    f"({memory // 2**20:,} MiB); /graph.svg still draws the whole graph.")
    if process.returncode == -signal.SIGXCPU:
        raise _too_long(seconds)
    raise ChainruleError("internal", "The export process stopped without an answer.", status=500)


def _exchange(process: subprocess.Popen, job: bytes, seconds: float) -> tuple[bytearray, bytes]:
    """Write the job, read stdout (at most MAX_EXPORT_BYTES) and stderr until both close,
    within `seconds`."""
    deadline = time.monotonic() + seconds
    stdin, stdout, stderr = process.stdin.fileno(), process.stdout.fileno(), process.stderr.fileno()
    for pipe in (stdin, stdout, stderr):
        os.set_blocking(pipe, False)
    pending, out, errors = memoryview(job), bytearray(), bytearray()
    open_pipes = {stdout, stderr}
    while open_pipes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _too_long(seconds)
        readable, writable, _ = select.select(list(open_pipes), [stdin] if pending else [], [], remaining)
        if writable:
            try:
                pending = pending[os.write(stdin, pending[:65536]):]
            except BlockingIOError:
                pass
            except BrokenPipeError:  # it ended before reading everything: its status says why
                pending = pending[:0]
            if not pending:
                process.stdin.close()
        for pipe in readable:
            chunk = os.read(pipe, 1 << 20)
            if not chunk:
                open_pipes.discard(pipe)
            elif pipe == stdout:
                out += chunk
                if len(out) > MAX_EXPORT_BYTES:
                    raise limit(f"This export would be larger than {MAX_EXPORT_BYTES / 2**20:.3g} MiB; "
                                "fold the graph (fold=1) or export fewer steps.")
            elif len(errors) < ERROR_BYTES:
                errors += chunk
    try:
        process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise _too_long(seconds) from None
    return out, bytes(errors)


def _too_long(seconds: float) -> ChainruleError:
    return limit(f"Drawing this export took longer than {seconds:g} seconds, so it was stopped; "
                 "fold the graph (fold=1) or export fewer steps.")


def _end(process: subprocess.Popen) -> None:
    """Kill the process group (the export process and its `dot`s) unless it ended, and reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if not pipe.closed:
            pipe.close()
