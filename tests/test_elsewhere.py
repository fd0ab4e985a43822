"""Issue 19: chainrule where a library reserves gigabytes at start-up, or a GPU is visible.

A `sitecustomize.py` on PYTHONPATH maps 12 GiB PROT_NONE in every Python process, as a
CUDA build does after its first backward(): address space reserved, no memory used.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .seeds import SEED002_NETWORK
from .test_production import start_server, stop_server

pytestmark = pytest.mark.slow

SITECUSTOMIZE = """
import ctypes
_libc = ctypes.CDLL(None)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
# PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE: address space, no memory.
_RESERVED = _libc.mmap(None, 12 * 2**30, 0, 0x02 | 0x20 | 0x4000, -1, 0)
"""
SLOW = "v = torch.ones(1000000)\nfor i in range(100000):\n    y = torch.dot(v, v)\ny"


def workers_of(server_pid: int) -> list[int]:
    """The server's evaluator processes (not its running `dot` processes, see layout.py)."""
    children = []
    for task in os.listdir(f"/proc/{server_pid}/task"):
        with open(f"/proc/{server_pid}/task/{task}/children") as handle:
            children += [int(pid) for pid in handle.read().split()]
    return [zygote(pid) for pid in children if b"webapp.sandbox.worker" in _cmdline(pid)]


def zygote(pid: int) -> int:
    """The worker's own Python process: bwrap's child where bwrap walls it in."""
    if not _cmdline(pid).startswith(b"bwrap"):
        return pid
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            for child in handle.read().split():
                return int(child)
    return pid


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def environ_of(pid: int) -> dict:
    with open(f"/proc/{pid}/environ", "rb") as handle:
        pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item]
    return {key.decode(): value.decode() for key, value in pairs}


def vm_size_gb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmSize:")) / 2**20


def ask(base: str, path: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def reserving_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reserve")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join([str(folder), os.getcwd(), os.environ.get("PYTHONPATH", "")])
    server, base, _ = start_server({"PYTHONPATH": path, "CUDA_VISIBLE_DEVICES": "0",
                                    "CHAINRULE_DEADLINE": "3", "CHAINRULE_COOL_DOWN": "0"})
    assert ask(base, "/api/trace", {"source": "x * 2", "inputs": {"x": 1}})[0] == 200
    yield server, base
    stop_server(server)


def test_workers_reserving_12_gib_still_get_their_share(reserving_server):
    """Mutation: cap the address space at the absolute 6 GiB again (`share` alone in
    worker.address_space_limit): every allocation fails, the network is refused as memory."""
    server, base = reserving_server
    workers = workers_of(server.pid)
    assert workers and all(vm_size_gb(pid) > 12 for pid in workers)  # the reservation holds
    status, body = ask(base, "/graph.svg?" + urllib.parse.urlencode({"f": SEED002_NETWORK}))
    assert status == 200 and body.startswith(b"<?xml") or b"<svg" in body[:400]
    status, body = ask(base, "/plot.svg?" + urllib.parse.urlencode(
        {"f": "0.2*x1**2 + 0.2*x2**2 - 5", "x1": 2, "x2": 2, "wrt": "x1,x2", "n": 10}))
    # n=10: well inside the 3 s deadline (1 s was passed on a machine at load 14)
    assert status == 200 and b"<svg" in body, body[:300]
    runaway = "k = 0\nwhile k >= 0:\n    y = torch.ones(3)\n"  # its text does not show it
    status, body = ask(base, "/api/trace", {"source": runaway})
    assert status == 400 and "took longer than 3 seconds" in json.loads(body)["error"]["message"]
    status, body = ask(base, "/api/trace", {"source": "torch.zeros(100000, 100000)"})
    assert status == 400 and "larger than" in json.loads(body)["error"]["message"]


def test_workers_see_no_gpu(reserving_server):
    """The server was started with CUDA_VISIBLE_DEVICES=0; its workers see none.

    Mutation: drop **HIDDEN_ACCELERATORS from the worker's environment in Worker.__init__.
    """
    server, _ = reserving_server
    for pid in workers_of(server.pid):
        assert environ_of(pid)["CUDA_VISIBLE_DEVICES"] == ""
        assert environ_of(pid)["HIP_VISIBLE_DEVICES"] == ""


def test_a_killed_worker_is_a_crash_of_memory_or_cpu(reserving_server):
    server, base = reserving_server
    answers = []
    thread = threading.Thread(target=lambda: answers.append(
        ask(base, "/api/trace", {"source": SLOW, "inputs": {}})))
    thread.start()
    time.sleep(0.5)
    for pid in workers_of(server.pid):
        os.kill(pid, signal.SIGKILL)
    thread.join(timeout=60)
    status, body = answers[0]
    assert status == 400 and "memory or CPU" in json.loads(body)["error"]["message"]
