"""A part of a job on its budget (job_state.on_a_budget, the worker's clock handlers): cut
short, it never costs the job the answer it has made. Run in a fresh process, as a forked
child runs a job: the handlers and clocks are process-wide."""
from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r"""
import json, signal, time
from webapp.sandbox.worker import install_clock_handlers, start_clocks, stop_clocks
from webapp.engine.job_state import JOB, on_a_budget
install_clock_handlers()
out = {}

def swallowing():  # a student's bare except around every step: it eats each cut
    started = time.process_time()
    while time.process_time() - started < 0.6:
        try:
            sum(range(2000))
        except BaseException:
            pass
    return "finished, a step skipped"

start_clocks(5.0)
out["swallowed"] = on_a_budget(0.1, 1.0, swallowing)
out["swallowed_expired"] = JOB.expired
stop_clocks()

def blocked():  # a long C call: no signal is handled until it returns, past the deadline
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGPROF})
    time.sleep(1.4)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM, signal.SIGPROF})
    sum(range(10))  # bytecodes: the pending clock is handled here, in the part
    return "made"

def sleeping():  # no CPU: only the wall budget cuts it
    time.sleep(3)
    return "made"

start_clocks(5.0)
began = time.monotonic()
out["slept"] = on_a_budget(1.0, 0.3, sleeping)
out["slept_seconds"] = time.monotonic() - began
stop_clocks()

start_clocks(1.2)
try:
    out["blocked"] = on_a_budget(0.1, 1.0, blocked)
    time.sleep(0.35)  # the deadline's clock fires again: the answer is being returned
    out["answer_kept"] = not JOB.expired
except BaseException as error:
    out["answer_kept"] = False
    out["raised"] = type(error).__name__
stop_clocks()
print(json.dumps(out))
"""


def test_a_swallowed_cut_or_a_deadline_inside_the_part_costs_only_the_part():
    """Mutations: drop `return None if JOB.part_cut else made` (the part that swallowed its
    cuts is kept: "finished, a step skipped"); drop the handler's `if JOB.made:` branch (the
    deadline, handled after the part, expires the job: DeadlineExceeded); drop its
    `if JOB.in_part:` branch (the sleeping part runs its 3 s; the deadline inside the part
    expires the job)."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["swallowed"] is None and out["swallowed_expired"] is False
    assert out["slept"] is None and out["slept_seconds"] < 2.5, out
    assert out["blocked"] is None, out
    assert out["answer_kept"] is True, out


def test_an_answer_too_large_only_with_its_plot_goes_without_it():
    """Mutation: answer_frame returning answer_bytes(answer) alone (the limit's refusal)."""
    from webapp.limits import MAX_ANSWER_BYTES
    from webapp.sandbox.protocol import HEADER
    from webapp.sandbox.worker import answer_frame
    answer = {"ok": "v" * (MAX_ANSWER_BYTES - 4096), "also": [{"job": {}, "ok": "p" * 8192}]}
    sent = json.loads(answer_frame(answer)[HEADER.size:])
    assert sent == {"ok": answer["ok"]}
    small = {"ok": "v", "also": [None]}
    assert json.loads(answer_frame(small)[HEADER.size:]) == small
