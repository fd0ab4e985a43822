"""The production command: waitress serving the app on a loopback port, slow clients and all."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict | None = None, workers: int = 2):
    """`chainrule serve --production` as the README documents it, on a free loopback port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "webapp", "serve", "--production", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "CHAINRULE_WORKERS": str(workers),
             "CHAINRULE_WARM_GALLERY": "0",  # only the test of the warm-up pays for it
             **(env or {})})
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return server, base, port


def stop_server(server) -> str:
    server.terminate()
    # The output ends when every process holding the server's stdout has exited: its
    # workers too (their stderr is the server's). A worker still importing torch notices
    # only once it is up: seconds alone, past 20 s at load 14, and once (beside the suite
    # and two CPU hogs) past 120 s. Then the holders are named, so the cause can be found.
    try:
        return server.communicate(timeout=120)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        holders = pipe_holders(server.stdout.fileno())
        for pid, _ in holders:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        raise AssertionError(f"the stopped server's output is still held open by {holders}") from None


def pipe_holders(fd: int) -> list[tuple[int, str]]:
    """Other processes with the same pipe open, as (pid, command line)."""
    target = f"pipe:[{os.fstat(fd).st_ino}]"
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{entry}") == target for entry in os.listdir(f"/proc/{pid}/fd")):
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    found.append((int(pid), handle.read().replace(b"\0", b" ").decode(errors="replace")[:200]))
        except OSError:
            continue
    return found


def post_trace(base: str, source: str, inputs: dict, timeout: float = 60):
    request = urllib.request.Request(f"{base}/api/trace", method="POST",
                                     data=json.dumps({"source": source, "inputs": inputs}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def production():
    server, base, port = start_server()
    post_trace(base, "x * x", {"x": 1})  # the workers are booted
    yield base, port
    output = stop_server(server)
    assert "waitress serving" in output  # the production server, not the dev server


def test_production_server_serves_the_page_and_the_api(production):
    base, _ = production
    assert post_trace(base, "x * x", {"x": 3})["leaves"]["x"]["grad"] == 6.0
    with urllib.request.urlopen(f"{base}/", timeout=60) as response:
        assert b"chainrule" in response.read()


def test_half_sent_requests_hold_no_thread(production):
    """64 clients send half a header and then nothing; others are still served in < 3 s.

    Mutation: serve with the former gunicorn gthread (32 threads): /healthz times out.
    """
    base, port = production
    stalled = []
    try:
        for _ in range(64):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ")
            stalled.append(sock)
        started = time.monotonic()
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            assert json.load(response) == {"status": "ok"}
        assert post_trace(base, "x * 5", {"x": 2}, timeout=10)["leaves"]["x"]["grad"] == 5.0
        assert time.monotonic() - started < 3
    finally:
        for sock in stalled:
            sock.close()


def test_server_refusals_are_json(production):
    """waitress's own 431 (headers too large) has the API's JSON shape.

    Mutation: drop `server.channel_class = JsonErrorChannel` and the body is text/plain.
    """
    base, _ = production
    request = urllib.request.Request(f"{base}/healthz", headers={"X-Big": "a" * 40_000})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 431
    assert json.load(refused.value)["error"]["kind"] == "input"


def _workers_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read()
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and b"webapp.sandbox.worker" in command:
            found.append(int(entry))
    return found


def test_the_workers_start_with_the_server(tmp_path):
    """The README's production server starts its evaluators at once, so the first student's
    function does not wait for them to import torch (the review measured 4.9 s). Mutation:
    the _boot_workers thread not started (no worker exists before the first request)."""
    server, base, _ = start_server(workers=2)
    try:
        deadline = time.monotonic() + 60
        while len(_workers_of(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_workers_of(server.pid)) == 2  # before any evaluation was asked
    finally:
        stop_server(server)


def test_the_gallery_is_computed_at_start_up():
    """A class opens the examples at once; the server computed them before anyone asked,
    so opening one costs the first student no worker job (the page itself is cached by its
    URL's host, which the warm-up cannot know). Rosenbrock: R's descent can pass its
    deadline beside the suite, and is then, rightly, not kept.
    Mutation: warm_gallery not called in _boot_workers (no line; the page asks a worker)."""
    from webapp.web.examples import EXAMPLES
    server, base, _ = start_server({"CHAINRULE_WARM_GALLERY": "1", "CHAINRULE_DEBUG_HEADERS": "1"})
    try:
        lines = []
        deadline = time.monotonic() + 300  # 25 answers beside the suite on two busy cores
        while time.monotonic() < deadline:
            line = server.stdout.readline().decode(errors="replace")
            lines.append(line)
            if "gallery" in line or not line:
                break
        assert "the example gallery is computed (25 answers" in lines[-1], lines
        example = next(e for e in EXAMPLES if e.slug == "rosenbrock")
        with urllib.request.urlopen(f"{base}/?{example.query}", timeout=60) as response:
            timing = response.headers.get("Server-Timing") or ""
        assert "evaluate" not in timing and "job" not in timing, timing
    finally:
        stop_server(server)
