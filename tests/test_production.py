"""The production command: gunicorn serving the app on a loopback port."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_the_page_and_the_api():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--production", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        request = urllib.request.Request(f"{base}/api/trace", method="POST",
                                         data=json.dumps({"source": "x * x", "inputs": {"x": 3}}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert json.load(response)["leaves"]["x"]["grad"] == 6.0
        with urllib.request.urlopen(f"{base}/", timeout=60) as response:
            assert b"chainrule" in response.read()
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert "gthread" in output or "Booting worker" in output  # gunicorn, not the dev server
