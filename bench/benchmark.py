"""chainrule against the torchviz baseline, in one run: prints a markdown table.

    .venv/bin/python bench/benchmark.py [--repeat 7]

It starts chainrule's production server (gunicorn) on a loopback port and, in this
process, the baseline a user would otherwise run: build the function in PyTorch, then
`torchviz.make_dot(y).pipe(format="svg")`. Each repetition times the baseline and the
chainrule request back to back, so each ratio compares two runs made under the same
machine load; the table gives medians of the times and of the per-pair ratios.

- cold: a function the server has never seen (a unique constant is appended), to SVG;
- warm: the same request again;
- point: the same function at a new input value (same graph structure, new numbers);
- plot cold / warm: /api/plot of a new function, then the same again.
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import torch
import torchviz

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def seed001(x1, x2):
    return 0.2 * x1 ** 2 + 0.2 * x2 ** 2 - 5


def thirty_nodes(x):
    y = x
    for _ in range(10):
        y = torch.sin(y) * 0.9 + x
    return y


def loop(iterations):
    def run(x):
        y = x
        for _ in range(iterations):
            y = y * 0.99 + 0.01
        return y
    return run


def network():
    torch.manual_seed(0)
    x, y = torch.randn(64, 1000), torch.randn(64, 10)
    w1 = torch.randn(1000, 100, requires_grad=True)
    w2 = torch.randn(100, 10, requires_grad=True)
    return (MyReLU.apply(x.mm(w1)).mm(w2) - y).pow(2).sum()


sys.path.insert(0, ROOT)
from tests.graph_table import MyReLU  # noqa: E402  (seed 002's Function, in plain PyTorch)
from tests.seeds import SEED002_NETWORK as NETWORK_SOURCE  # noqa: E402

CASES = [
    # name, source (last line is the output), inputs, baseline builder
    ("seed 001 quadratic", "0.2*x1**2 + 0.2*x2**2 - 5", {"x1": 2.0, "x2": 2.0},
     lambda: seed001(torch.tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True))),
    ("30-node function", "y = x\nfor i in range(10):\n    y = sin(y) * 0.9 + x\ny", {"x": 0.5},
     lambda: thirty_nodes(torch.tensor(0.5, requires_grad=True))),
    ("200-iteration loop", "y = x\nfor i in range(200):\n    y = y * 0.99 + 0.01\ny", {"x": 1.0},
     lambda: loop(200)(torch.tensor(1.0, requires_grad=True))),
    ("seed 002 network", NETWORK_SOURCE, {}, network),
    ("1,000-node graph", "y = x\nfor i in range(250):\n    y = y * 0.99 + 0.01\ny", {"x": 1.0},
     lambda: loop(250)(torch.tensor(1.0, requires_grad=True))),
]


def with_unique_constant(source: str, k: int) -> str:
    """The same function plus 0 · torch.tensor(k): a constant node labelled k, so a graph
    (and a layout) the server has never drawn."""
    lines = source.split("\n")
    lines[-1] = f"({lines[-1]}) + 0 * torch.tensor({k}.0)"
    return "\n".join(lines)


def baseline(build) -> float:
    started = time.perf_counter()
    output = build()
    torchviz.make_dot(output).pipe(format="svg")
    return time.perf_counter() - started


class Client:
    """One keep-alive HTTP connection, as a browser would hold."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def fetch(self, path: str) -> float:
        started = time.perf_counter()
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200 or len(body) < 100:
            raise RuntimeError(f"{path[:80]}: {response.status}")
        return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--production", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            # The first evaluation waits for the workers to import torch.
            urllib.request.urlopen(f"http://127.0.0.1:{port}/graph.svg?f=x%2B1&x=1", timeout=60)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def worker_memory(server_pid: int) -> list[float]:
    """Resident memory (MiB) of each evaluator process under the server."""
    sizes = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read()
            with open(f"/proc/{pid}/status") as handle:
                status = handle.read()
        except OSError:
            continue
        if b"webapp.worker" in command:
            rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
            sizes.append(rss / 1024)
    return sizes


def median_ms(values) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def ratio(pairs) -> str:
    return f"{statistics.median(a / b for a, b in pairs):.2f}×"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    port = free_port()
    server = start_server(port)
    client = Client(port)
    fetch = client.fetch
    base = ""
    k = 0  # a new server: every k is new to it
    rows = []
    try:
        for name, source, inputs, build in CASES:
            cold, warm, point, base_times = [], [], [], []
            for _ in range(args.repeat):
                k += 1
                query = {"f": with_unique_constant(source, k), **{n: str(v) for n, v in inputs.items()}}
                url = f"{base}/graph.svg?{urllib.parse.urlencode(query)}"
                base_times.append(baseline(build))
                cold.append(fetch(url))
                warm.append(fetch(url))
                if inputs:
                    moved = dict(query, **{n: str(v + 0.25 * (k % 7 + 1)) for n, v in inputs.items()})
                    point.append(fetch(f"{base}/graph.svg?{urllib.parse.urlencode(moved)}"))
            rows.append((name, median_ms(base_times), median_ms(cold), ratio(zip(cold, base_times)),
                         median_ms(warm), ratio(zip(warm, base_times)),
                         median_ms(point) if point else "–",
                         ratio(zip(point, base_times)) if point else "–"))
        plot_cold, plot_warm = [], []
        for _ in range(args.repeat):
            k += 1
            url = f"{base}/api/plot?" + urllib.parse.urlencode(
                {"f": f"log(x**2)*sin(x) + 1/x + 0 * torch.tensor({k}.0)", "x": "2", "wrt": "x",
                 "lo": "-4", "hi": "4", "n": "200"})
            plot_cold.append(fetch(url))
            plot_warm.append(fetch(url))
        memory = worker_memory(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"torch {torch.__version__}, {os.cpu_count()} cores, {args.repeat} repetitions; "
          "times are medians in ms, ratios are medians of per-pair ratios to the baseline.\n")
    print("| function | torchviz + dot | cold | cold ratio | warm | warm ratio | point change | point ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n/api/plot (200 samples of log(x²)·sin(x) + 1/x): cold {median_ms(plot_cold)} ms, "
          f"warm {median_ms(plot_warm)} ms")
    print(f"evaluator processes: {len(memory)}, resident memory "
          + ", ".join(f"{m:.0f} MiB" for m in memory))


if __name__ == "__main__":
    main()
