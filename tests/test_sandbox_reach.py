"""From inside a job, a program reaches for the worker that forked it: none of it holds.

The zygote outlives every job and forks the next ones, so what a job can write into it,
or send through its pipes, reaches other students. Each hole below was open (a job
reaches `os` as `torch.os`):

- the zygote's /proc/1/mem opened read-write (write into every later job, read the
  frames of other students' jobs it relayed);
- fake frames written to the job's inherited stdout, the pool's own pipe: the pool read
  them as the next student's answer;
- `kill(1, SIGINT)`: KeyboardInterrupt in the zygote, which died (a worker start: seconds
  of CPU, on demand).

Mutations seen failing (one at a time):
- drop the PR_SET_DUMPABLE prctl from confine.shield_the_zygote: the memory test;
- drop `os.dup2(sys.stderr.fileno(), 1)` from worker.main: the forged-answer test;
- drop `signal.signal(SIGINT, SIG_DFL)` from confine.shield_the_zygote: the SIGINT case;
- call install_clock_handlers() in worker.main again: the SIGALRM and SIGVTALRM cases;
- drop `os.close(0)` from forked.keep_only: the job-channel test.
"""
from __future__ import annotations

import json
import signal
import struct

import pytest

from webapp.sandbox import isolation
from webapp.sandbox.pool import WorkerPool

pytestmark = pytest.mark.skipif(isolation.problem() is not None,
                                reason=f"no sandbox here: {isolation.problem()}")


@pytest.fixture()
def pool():
    started = WorkerPool(size=1, deadline_seconds=5, wait_seconds=60)
    started.idle_pids(wait_seconds=60)
    yield started
    started.close()


def attempt(pool, body: str) -> str:
    """Run `body` (which sets `result`, with `o` the os module) in a job; `result`'s text."""
    source = f"o = torch.os\nresult = 'not run'\n{body}\nresult"
    return pool.run({"kind": "trace", "source": source, "inputs": {}})["result"]["text"]


@pytest.mark.parametrize("flags", ["o.O_RDONLY", "o.O_RDWR"])
def test_the_zygote_memory_cannot_be_opened(pool, flags):
    text = attempt(pool, f"try:\n    o.open('/proc/1/mem', {flags})\n    result = 'opened'\n"
                         "except OSError as e:\n    result = e.strerror")
    assert text == "'Permission denied'"


def test_frames_written_to_stdout_never_reach_the_pool(pool):
    """A job writes an answer and a "ready" into its stdout; the next student gets their own."""
    forged, ready = json.dumps({"ok": {"forged": True}}).encode(), json.dumps({"ready": True}).encode()
    frames = b"".join(struct.pack(">I", len(m)) + m for m in (forged, ready, forged))
    attempt(pool, f"try:\n    o.write(1, {frames!r})\n    result = 'written'\n"
                  "except OSError as e:\n    result = e.strerror")
    answer = pool.run({"kind": "trace", "source": "x * 5", "inputs": {"x": 2.0}})
    assert answer["output"]["value"] == 10.0
    assert pool.replaced == 0


def test_the_job_channel_is_closed_in_the_child(pool):
    """The zygote reads every student's job from its stdin; a child holds no copy of it."""
    text = attempt(pool, "try:\n    o.fstat(0)\n    result = 'open'\nexcept OSError as e:\n"
                         "    result = e.strerror")
    assert text == "'Bad file descriptor'"


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGALRM, signal.SIGVTALRM,
                                    signal.SIGTERM, signal.SIGKILL])
def test_a_signal_to_the_zygote_changes_nothing(pool, number):
    """Sent from inside, a signal the zygote does not handle never reaches it (process 1)."""
    before = pool.idle_pids()
    attempt(pool, f"o.kill(1, {int(number)})\nresult = 'sent'")
    answer = pool.run({"kind": "trace", "source": "x * 3", "inputs": {"x": 1.5}})
    assert answer["output"]["value"] == 4.5
    assert pool.idle_pids() == before and pool.replaced == 0
