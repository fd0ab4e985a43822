"""chainrule against the torchviz baseline, in one run: prints a markdown table.

    .venv/bin/python bench/benchmark.py [--repeat 7]

It starts chainrule's production server (`chainrule serve --production`, waitress) on a loopback port and, in this
process, the baseline a user would otherwise run: build the function in PyTorch, then
`torchviz.make_dot(y).pipe(format="svg")`. Each repetition times the baseline and the
chainrule request back to back, so each ratio compares two runs made under the same
machine load; the table gives medians of the times and of the per-pair ratios.

- cold: a function the server has never seen (a constant with its own label is
  appended, so its layout is new too: the server's count of layouts proves it);
- warm: the same request again;
- point change: the same function at a new input value (same structure, new numbers);
- layout alone: seed 001's DOT through a fresh `dot -Tsvg` vs a persistent one.
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

# torchviz's make_dot recurses once per grad_fn: the 8,000-operation loop needs more than
# Python's default 1,000 frames (a user would have to raise it too).
sys.setrecursionlimit(100_000)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # webapp.drawing.layout, for the layout-alone figure


def seed001(x1, x2):
    return 0.2 * x1 ** 2 + 0.2 * x2 ** 2 - 5


def loop(iterations):
    def run(x):
        y = x
        for _ in range(iterations):
            y = y * 0.99 + 0.01
        return y
    return run


def sine_loop(iterations):
    """4 operations per iteration (sin, ×, ×, +): 2,000 iterations are 8,000 operations."""
    def run(x):
        y = x
        for _ in range(iterations):
            y = torch.sin(y) * 0.999 + x * 0.001
        return y
    return run


LOOP_1000 = "y = x\nfor i in range(250):\n    y = y * 0.99 + 0.01\ny"
LOOP_8000 = "y = x\nfor i in range(2000):\n    y = torch.sin(y) * 0.999 + x * 0.001\ny"

CASES = [
    # name, source (last line is the output), inputs, baseline builder, extra query, repetitions
    ("seed 001", "0.2*x1**2 + 0.2*x2**2 - 5", {"x1": 2.0, "x2": 2.0},
     lambda k: seed001(torch.tensor(2.0, requires_grad=True), torch.tensor(2.0, requires_grad=True))
     + float(f"0.{k:04d}1"), {}, None),
    # The page and images fold large graphs (webapp/folding.py): the 1,000-node loop draws
    # as a few boxes by default, and every box with fold=0.
    ("1,000-node graph, folded", LOOP_1000, {"x": 1.0},
     lambda k: loop(250)(torch.tensor(1.0, requires_grad=True)) + float(f"0.{k:04d}1"), {}, None),
    ("1,000-node graph, fold=0", LOOP_1000, {"x": 1.0},
     lambda k: loop(250)(torch.tensor(1.0, requires_grad=True)) + float(f"0.{k:04d}1"),
     {"fold": "0"}, None),
    # torchviz's `dot` takes minutes on its 8,000 boxes: timed once, apart (torchviz_8000).
    ("2,000-iteration loop (8,000 ops), folded", LOOP_8000, {"x": 1.0}, None, {}, 3),
]
TORCHVIZ_8000_DEADLINE = 60.0


def torchviz_8000() -> str:
    """torchviz on the 8,000-operation loop once: make_dot, then `dot -Tsvg` under a deadline."""
    started = time.perf_counter()
    source = torchviz.make_dot(sine_loop(2000)(torch.tensor(1.0, requires_grad=True))).source
    try:
        subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                       timeout=TORCHVIZ_8000_DEADLINE, check=True)
    except subprocess.TimeoutExpired:
        return f"did not finish in {TORCHVIZ_8000_DEADLINE:.0f} s"
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"


def with_unique_constant(source: str, k: int) -> str:
    """The same function plus a constant 0.{k:04d}1: a node whose label differs per k, so a
    graph (and a layout) the server has never drawn. (`0 * torch.tensor(k)` was not: its
    constant is labelled `0` for every k, so "cold" requests reused one layout.)"""
    lines = source.split("\n")
    lines[-1] = f"({lines[-1]}) + 0.{k:04d}1"
    return "\n".join(lines)


def baseline(build) -> float:
    started = time.perf_counter()
    output = build()
    torchviz.make_dot(output).pipe(format="svg")
    return time.perf_counter() - started


class Client:
    """One keep-alive HTTP connection and the cookie the server gave, as a browser holds them."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.stages: dict = {}  # figure -> stage -> [ms], from the server's Server-Timing
        self.headers: dict = {}

    def fetch(self, path: str, figure: str | None = None, body: bytes | None = None) -> float:
        started = time.perf_counter()
        if body is not None:
            self.connection.request("POST", path, body=body,
                                    headers={"Content-Type": "application/json", **self.headers})
        else:
            self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        cookie = response.headers.get("Set-Cookie")
        if cookie:  # the browser's identity (sandbox/identity.py), sent back from now on
            self.headers = {"Cookie": cookie.split(";", 1)[0]}
        if response.status != 200 or not body:
            raise RuntimeError(f"{path[:80]}: {response.status}")
        if figure:
            stages = self.stages.setdefault(figure, {"total": []})
            stages["total"].append(elapsed * 1000)
            for part in filter(None, (response.headers.get("Server-Timing") or "").split(",")):
                name, _, duration = part.strip().partition(";dur=")
                stages.setdefault(name, []).append(float(duration))
        return elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, env: dict | None = None) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--production", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "CHAINRULE_DEBUG_HEADERS": "1",
                                   "CHAINRULE_WARM_GALLERY": "0",  # cold must be cold
                                   **(env or {})})
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
        if b"webapp.sandbox.worker" in command:
            rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
            sizes.append(rss / 1024)
    return sizes


def median_ms(values) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def ratio(pairs) -> str:
    return f"{statistics.median(a / b for a, b in pairs):.2f}×"


def layouts_made(port: int) -> int:
    """How many layouts the server's `dot` has made so far (a header of /healthz)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        return int(response.headers["X-Chainrule-Layouts"])


def layout_alone(port: int, repeat: int) -> tuple[list[float], list[float]]:
    """Laying out seed 001's DOT alone: a fresh `dot -Tsvg` each time vs one that stays running."""
    query = urllib.parse.urlencode({"f": CASES[0][1], "x1": "2", "x2": "2"})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/graph.dot?{query}", timeout=30) as response:
        source = response.read().decode()
    fresh, persistent = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=True)
        fresh.append(time.perf_counter() - started)
    from webapp.drawing.layout import LayoutService
    service = LayoutService(size=1, deadline_seconds=20)
    try:
        service.layout(source, "svg")  # the process starts once
        for k in range(repeat):
            changed = source.replace('label=""', f'label="{k}"', 1)  # a graph it has not seen
            started = time.perf_counter()
            service.layout(changed, "svg")
            persistent.append(time.perf_counter() - started)
    finally:
        service.close()
    return fresh, persistent


def floor(client: Client, repeat: int) -> dict:
    """The round trips of a request with next to no work, each after the baseline's pause:
    HTTP alone (/healthz), and HTTP plus a worker that only parses a new text (/api/inputs)."""
    times: dict = {"HTTP alone": [], "HTTP + worker (parse only)": []}
    build = CASES[0][3]
    for k in range(repeat):
        baseline(lambda: build(k))
        times["HTTP alone"].append(client.fetch("/healthz"))
        baseline(lambda: build(k))
        body = f'{{"source": "x * 0.{k:04d}7"}}'.encode()
        times["HTTP + worker (parse only)"].append(client.fetch("/api/inputs", body=body))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    port = free_port()
    server = start_server(port)
    client = Client(port)
    fetch = client.fetch
    k = 0  # a new server, and a new constant per request: every cold graph is new to it
    rows = []
    try:
        for name, source, inputs, build, extra, repeat in CASES:
            repeat = min(args.repeat, repeat or args.repeat)
            cold, warm, point, base_times = [], [], [], []
            before = layouts_made(port)
            for _ in range(repeat):
                k += 1
                query = {"f": with_unique_constant(source, k), **{n: str(v) for n, v in inputs.items()},
                         **extra}
                url = f"/graph.svg?{urllib.parse.urlencode(query)}"
                if build is not None:
                    base_times.append(baseline(lambda: build(k)))
                cold.append(fetch(url, f"cold {name}"))
                warm.append(fetch(url))
                moved = dict(query, **{n: str(v + 0.25 * (k % 7 + 1)) for n, v in inputs.items()})
                point.append(fetch(f"/graph.svg?{urllib.parse.urlencode(moved)}", f"point change {name}"))
            made = layouts_made(port) - before
            if made < repeat:
                raise SystemExit(f"{name}: only {made} layouts for {repeat} cold requests")
            rows.append((name, base_times, cold, warm, point, made))
        floors = floor(client, args.repeat)
        fresh, persistent = layout_alone(port, args.repeat)
        torchviz_loop = torchviz_8000()
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"torch {torch.__version__}, {os.cpu_count()} cores, {args.repeat} repetitions; "
          "times are medians in ms, ratios are medians of per-pair ratios to the baseline "
          "(torchviz.make_dot(y).pipe('svg') in-process, timed right before each request). "
          "On a shared machine, compare ratios, not single times.\n")
    print("| figure | torchviz + dot | chainrule (HTTP, production server) | ratio | target |")
    print("|---|---|---|---|---|")
    targets = {"cold seed 001": "≤ 0.5×", "cold 1,000-node graph, folded": "≤ 1.0×",
               "cold 2,000-iteration loop (8,000 ops), folded": "< 2 s",
               "warm seed 001": "≤ 0.05×", "point change seed 001": "≤ 0.2×"}
    for name, base_times, cold, warm, point, made in rows:
        for figure, times in (("cold", cold), ("warm", warm), ("point change", point)):
            label = f"{figure} {name}"
            if not base_times:  # the 8,000-operation loop: torchviz timed once, below
                print(f"| {label} | see below | {median_ms(times)} | – | {targets.get(label, '–')} |")
                continue
            print(f"| {label} | {median_ms(base_times)} | {median_ms(times)} | "
                  f"{ratio(zip(times, base_times))} | {targets.get(label, '–')} |")
    print("\nlayouts made by the server during the cold cases (one per cold request expected): "
          + ", ".join(f"{name}: {made} for {len(cold)}" for name, _, cold, *_, made in rows))
    print(f"layout alone (seed 001's DOT to SVG): fresh `dot -Tsvg` {median_ms(fresh)} ms, "
          f"persistent `dot` {median_ms(persistent)} ms")
    print(f"torchviz + dot on the 2,000-iteration loop (8,000 grad_fn boxes), once: {torchviz_loop}")
    print("floor, each right after a torchviz run as the cold requests are (what this machine "
          "charges for the hops alone, with no work): "
          + ", ".join(f"{name} {median_ms(times)} ms" for name, times in floors.items()))
    print_stages(client.stages)


def print_stages(stages: dict) -> None:
    """Where the time of a request went, by the server's Server-Timing (webapp/timing.py)."""
    names = ["total", "evaluate", "job", "layout", "fill"]
    print("\nWhere the time went (medians in ms; evaluate = round trip to a worker, job = the "
          "worker's own part of it, the rest of total = HTTP, caches, JSON):\n")
    print("| request | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for figure, found in stages.items():
        cells = [f"{statistics.median(found[n]):.2f}" if found.get(n) else "–" for n in names]
        print(f"| {figure} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
