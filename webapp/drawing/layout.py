"""A layout service that stays warm: `dot` processes kept running, one graph after another.

Starting `dot` costs about 16 ms; a `dot -Tsvg` (or `-Tpng`) that keeps running reads
each graph from its stdin and writes the drawing as soon as the graph is read, in well
under a millisecond for a small graph. Each answer is read up to its end marker
(`</svg>` or PNG's IEND chunk) under a deadline, with select on the pipes.

Layout is a bounded, fair resource:
- a layout past the deadline kills and replaces its process and is refused
  (`LayoutTimeout`, a `limit`); its DOT is remembered by hash and refused at once next time;
- under contention one asker (a key the caller gives) holds at most one process at a time.

Who pays for a timeout is the caller's decision: the web routes cool their sender down
like an evaluation stopped at a limit (web/images.py, web/pages.py); the CLI charges no one.
Layout runs in the web process's threads: it never waits for, nor holds, an evaluator.
"""
from __future__ import annotations

import hashlib
import os
import select
import shutil
import subprocess
import threading
import time
from collections import OrderedDict

from ..errors import ChainruleError

END_MARKERS = {"svg": b"</svg>\n", "png": b"IEND\xaeB`\x82"}
DEFAULT_PROCESSES = 2
DEFAULT_DEADLINE_SECONDS = 20.0
DEFAULT_WAIT_SECONDS = 10.0
from ..limits import REMEMBERED_TIMEOUTS


class LayoutTimeout(ChainruleError):
    """A layout past the deadline, now or remembered: a `limit` whose caller decides who pays."""

    def __init__(self, deadline_seconds: float):
        super().__init__("limit", f"This graph is too large to lay out in time ({deadline_seconds:g} s); "
                         "the JSON trace still has every node.")


class DotProcess:
    """One running `dot -T<fmt>`: write a graph, read its drawing up to the end marker."""

    def __init__(self, fmt: str):
        executable = shutil.which("dot")
        if executable is None:
            raise ChainruleError("internal", "graphviz's `dot` is not installed on the server.", status=500)
        self.fmt = fmt
        self.process = subprocess.Popen([executable, f"-T{fmt}"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            os.set_blocking(pipe.fileno(), False)

    def draw(self, source: bytes, deadline: float) -> bytes | None:
        """The drawing, or None when the deadline passed first. Raises on a broken `dot`."""
        stdin, stdout, stderr = (p.fileno() for p in (self.process.stdin, self.process.stdout,
                                                      self.process.stderr))
        pending, out, errors = memoryview(source + b"\n"), bytearray(), bytearray()
        marker = END_MARKERS[self.fmt]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, writable, _ = select.select([stdout, stderr], [stdin] if pending else [], [],
                                                  remaining)
            if writable:  # written in pieces: a big DOT never blocks past the deadline
                try:
                    pending = pending[os.write(stdin, pending[:65536]):]
                except BlockingIOError:
                    pass
            if stderr in readable:
                errors += os.read(stderr, 65536)
                if b"Error" in errors:  # a graph dot refuses: this process's state is unknown
                    raise ChainruleError("internal", "graphviz could not draw this graph.", status=500)
            if stdout in readable:
                chunk = os.read(stdout, 1 << 20)
                if not chunk:
                    raise ChainruleError("internal", "graphviz stopped while drawing.", status=500)
                out += chunk
                if out.endswith(marker):  # dot flushes after each graph: the end is the end
                    return bytes(out)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            pipe.close()


class LayoutService:
    """Up to `size` running `dot` processes per format, shared fairly between askers."""

    def __init__(self, size: int = DEFAULT_PROCESSES, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
                 wait_seconds: float = DEFAULT_WAIT_SECONDS):
        self.size, self.deadline_seconds, self.wait_seconds = size, deadline_seconds, wait_seconds
        self.starts = 0  # how many `dot` processes were started (tests count them)
        self._idle: dict[str, list[DotProcess]] = {"svg": [], "png": []}
        self._running: dict[str, int] = {"svg": 0, "png": 0}  # started and not killed
        self._active: dict[str, int] = {}   # asker -> layouts in progress
        self._waiting: dict[str, int] = {}  # asker -> layouts waiting for a process
        self._timed_out: OrderedDict = OrderedDict()
        self._cond = threading.Condition()

    def layout(self, source: str, fmt: str, who: str = "local") -> bytes:
        """Draw DOT `source` as `fmt` (svg or png) for `who`; LayoutTimeout past the deadline."""
        digest = hashlib.sha256(f"{fmt}\n{source}".encode()).hexdigest()
        if digest in self._timed_out:
            raise self._refusal()
        dot = self._acquire(fmt, who)
        answer = None
        try:
            answer = dot.draw(source.encode(), time.monotonic() + self.deadline_seconds)
        finally:
            self._release(fmt, who, dot, healthy=answer is not None)
        if answer is None:
            with self._cond:
                self._timed_out[digest] = True
                while len(self._timed_out) > REMEMBERED_TIMEOUTS:
                    self._timed_out.popitem(last=False)
            raise self._refusal()
        return answer

    def _refusal(self) -> LayoutTimeout:
        return LayoutTimeout(self.deadline_seconds)

    def _acquire(self, fmt: str, who: str) -> DotProcess:
        give_up = time.monotonic() + self.wait_seconds
        with self._cond:
            self._waiting[who] = self._waiting.get(who, 0) + 1
            try:
                while not self._may_start(fmt, who):
                    remaining = give_up - time.monotonic()
                    if remaining <= 0:
                        raise ChainruleError("busy", "The server is drawing many graphs; try again "
                                             "in a moment.")
                    self._cond.wait(remaining)
                self._active[who] = self._active.get(who, 0) + 1
                if self._idle[fmt]:
                    return self._idle[fmt].pop()
                self._running[fmt] += 1
                self.starts += 1
            finally:
                self._waiting[who] -= 1
                if not self._waiting[who]:
                    del self._waiting[who]
        try:
            return DotProcess(fmt)
        except BaseException:
            self._release(fmt, who, None, healthy=False)
            raise

    def _may_start(self, fmt: str, who: str) -> bool:
        free = bool(self._idle[fmt]) or self._running[fmt] < self.size
        others_waiting = any(key != who for key in self._waiting)
        return may_start(free, bool(self._active.get(who)), others_waiting)

    def _release(self, fmt: str, who: str, dot: DotProcess | None, healthy: bool) -> None:
        if dot is not None and not healthy:
            dot.close()  # past the deadline or broken: kill it, the next layout starts a new one
        with self._cond:
            self._active[who] -= 1
            if not self._active[who]:
                del self._active[who]
            if dot is not None and healthy:
                self._idle[fmt].append(dot)
            else:
                self._running[fmt] -= 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            idle = [dot for dots in self._idle.values() for dot in dots]
            for dots in self._idle.values():
                dots.clear()
        for dot in idle:
            dot.close()


def may_start(free: bool, asker_holds_one: bool, others_waiting: bool) -> bool:
    """Whether an asker may start a layout: under contention one asker holds at most one
    process; alone, it may use them all."""
    return free and (not asker_holds_one or not others_waiting)
