"""The worker pool: deadlines, memory, saturation, and recovery afterwards."""
from __future__ import annotations

import threading
import time

import pytest

from webapp import create_app

SLOW = "v = torch.ones(1000000)\nfor i in range(100000):\n    y = torch.dot(v, v)\ny"
HUNGRY = "a = torch.ones(2000000)\n" + "".join(f"b{i} = a + {i}\n" for i in range(40)) + "a.sum()"


def _one_worker_app(**config):
    app = create_app({"TESTING": True, "WORKERS": 1, "DEADLINE_SECONDS": 1.0,
                      "BUSY_WAIT_SECONDS": 0.3, **config})
    yield app
    if app.extensions["chainrule"].pool is not None:
        app.extensions["chainrule"].pool.close()


@pytest.fixture()
def small_app():
    """One worker and a 1-second deadline, so the deadline is quick to hit."""
    yield from _one_worker_app()


@pytest.fixture()
def hungry_app():
    """One worker with only 64 MB of address space to spare after it starts."""
    yield from _one_worker_app(WORKER_ENV={"CHAINRULE_WORKER_HEADROOM_MB": "64"})


def test_deadline_stops_the_job_and_keeps_the_worker(small_app):
    client = small_app.test_client()
    started = time.monotonic()
    error = client.post("/api/trace", json={"source": SLOW}).get_json()["error"]
    assert error["kind"] == "limit" and "took longer than 1 seconds" in error["message"]
    assert time.monotonic() - started < 30  # includes the first worker's boot
    pool = small_app.extensions["chainrule"].pool
    assert pool.replaced == 0  # stopped inside the worker: no new process to boot
    other_student = {"REMOTE_ADDR": "127.0.0.9"}
    answer = client.post("/api/trace", json={"source": "x * 2", "inputs": {"x": 1}},
                         environ_base=other_student)
    assert answer.status_code == 200 and answer.get_json()["leaves"]["x"]["grad"] == 2.0
    # The student whose function was stopped waits out a short cool-down.
    again = client.post("/api/trace", json={"source": "x * 3", "inputs": {"x": 1}})
    assert again.status_code == 429 and "limits" in again.get_json()["error"]["message"]


def test_memory_limit_is_a_clear_refusal_and_the_next_request_works(hungry_app):
    client = hungry_app.test_client()
    response = client.post("/api/trace", json={"source": HUNGRY})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["kind"] == "limit" and "memory" in error["message"]
    answer = client.post("/api/trace", json={"source": "x * 2", "inputs": {"x": 1}},
                         environ_base={"REMOTE_ADDR": "127.0.0.7"})
    assert answer.status_code == 200


def test_saturated_pool_answers_429_with_retry_after(small_app):
    client = small_app.test_client()
    client.post("/api/trace", json={"source": "x", "inputs": {"x": 1}})  # worker booted
    slow = threading.Thread(target=lambda: small_app.test_client().post(
        "/api/trace", json={"source": SLOW}))
    slow.start()
    time.sleep(0.2)
    response = client.post("/api/trace", json={"source": "x", "inputs": {"x": 2}},
                           environ_base={"REMOTE_ADDR": "127.0.0.8"})
    slow.join()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.get_json()["error"]["kind"] == "busy"


def test_worker_cannot_write_files(tmp_path):
    """The worker's file-size limit is 0: even a bug reaching `open` could not write."""
    import subprocess
    import sys
    code = ("import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
            "from webapp.sandbox.confine import apply_limits; from webapp.limits import DEFAULT_LIMITS;"
            f"apply_limits(DEFAULT_LIMITS); f = open({str(tmp_path / 'f')!r}, 'w');"
            "f.write('x' * 10); f.flush()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0 and "File too large" in result.stderr


def test_a_killed_worker_is_replaced_and_the_next_request_served(small_app):
    """The hard path: the process dies mid-job (the OOM killer, a crash)."""
    import os
    import signal
    client = small_app.test_client()
    client.post("/api/trace", json={"source": "x", "inputs": {"x": 1}})  # booted
    pool = small_app.extensions["chainrule"].pool
    worker_pid = pool.idle_pids()[0]
    answers = []
    slow = threading.Thread(target=lambda: answers.append(
        small_app.test_client().post("/api/trace", json={"source": SLOW}).get_json()))
    slow.start()
    time.sleep(0.3)
    os.kill(worker_pid, signal.SIGKILL)
    slow.join()
    assert answers[0]["error"]["kind"] == "limit" and "memory or CPU" in answers[0]["error"]["message"]
    assert pool.replaced == 1
    answer = client.post("/api/trace", json={"source": "x * 5", "inputs": {"x": 1}},
                         environ_base={"REMOTE_ADDR": "127.0.0.6"})
    assert answer.status_code == 200 and answer.get_json()["leaves"]["x"]["grad"] == 5.0
