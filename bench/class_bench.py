"""A live class under load: how long a lecturer's change takes to reach every student.

Starts `chainrule serve --production` (one process, or two sharing a redis-server this
script starts on loopback), begins a class, opens N event streams (plain sockets in one
asyncio loop, spread over the processes), then posts state changes and times, for each
change, the moment each stream received it. Meanwhile a thread asks /graph.svg (a warm
image) over and over and times it. Prints p50/p95/max; docs/performance.md has the figures.

    python -m bench.class_bench --clients 200
    python -m bench.class_bench --clients 1000 --processes 2
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

SEQ = re.compile(rb'"seq": (\d+)')
GRAPH = "/graph.svg?f=sin(x)*x%2Bexp(x)&x=0.5"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return
        except Exception:  # noqa: BLE001 - 503 while the workers start, or not listening yet
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not start")


def start_servers(processes: int, redis_url: str | None) -> tuple[list, list[str]]:
    servers, urls = [], []
    for _ in range(processes):
        port = free_port()
        env = {**os.environ, "CHAINRULE_WORKERS": "1", "CHAINRULE_WARM_GALLERY": "0"}
        if redis_url:
            env["CHAINRULE_CACHE_URL"] = redis_url
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "webapp", "serve", "--production", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_up(url)
    return servers, urls


def post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Chainrule-Teacher"] = token
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Stream:
    """One student's event stream: when each seq arrived."""

    def __init__(self):
        self.seen: dict[int, float] = {}
        self.ready = False

    async def run(self, host: str, port: int, code: str) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /class/{code}/events HTTP/1.1\r\nHost: {host}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        tail = b""
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                now = time.perf_counter()
                text = tail + data
                for match in SEQ.finditer(text):
                    self.seen.setdefault(int(match.group(1)), now)
                self.ready = True
                tail = text[-40:]
        finally:
            writer.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def graph_times(url: str, stop: threading.Event, out: list, errors: list) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(url + GRAPH, timeout=30) as response:
                response.read()
            out.append(time.perf_counter() - start)
        except Exception as error:  # noqa: BLE001 - counted, the figure says how many
            errors.append(repr(error))
        time.sleep(0.05)


async def measure(urls: list[str], clients: int, changes: int) -> dict:
    began = post(urls[0] + "/class", {"f": "sin(x)*x+exp(x)", "inputs": {"x": "0.5"}})
    code, token = began["code"], began["token"]
    streams = [Stream() for _ in range(clients)]
    tasks = []
    for i, stream in enumerate(streams):
        host, port = urls[i % len(urls)].removeprefix("http://").split(":")
        tasks.append(asyncio.create_task(stream.run(host, int(port), code)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # a class arriving, not one burst of SYNs
    deadline = time.monotonic() + 120
    while not all(s.ready for s in streams):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sum(s.ready for s in streams)} of {clients} streams opened")
        await asyncio.sleep(0.1)
    urllib.request.urlopen(urls[0] + GRAPH, timeout=60).read()  # warm: the figure is the served one
    stop, graph, graph_errors = threading.Event(), [], []
    prober = threading.Thread(target=graph_times, args=(urls[-1], stop, graph, graph_errors))
    prober.start()
    latencies, missing = [], 0
    by_process: dict[int, list[float]] = {i: [] for i in range(len(urls))}
    loop = asyncio.get_running_loop()
    for step in range(1, changes + 1):
        sent = time.perf_counter()
        state = await loop.run_in_executor(None, post, f"{urls[0]}/class/{code}/state", {"step": step}, token)
        seq = state["seq"]
        wait_until = time.monotonic() + 10
        while not all(seq in s.seen for s in streams) and time.monotonic() < wait_until:
            await asyncio.sleep(0.01)
        for i, s in enumerate(streams):
            if seq in s.seen:
                latencies.append(s.seen[seq] - sent)
                by_process[i % len(urls)].append(s.seen[seq] - sent)
            else:
                missing += 1
        await asyncio.sleep(0.3)
    stop.set()
    await loop.run_in_executor(None, prober.join)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ms = lambda xs, p: round(1000 * percentile(xs, p), 1) if xs else None  # noqa: E731
    return {"clients": clients, "processes": len(urls), "changes": changes,
            "delivered": len(latencies), "missing": missing,
            "p50_ms": ms(latencies, 50), "p95_ms": ms(latencies, 95), "max_ms": ms(latencies, 100),
            # the lecturer posts to the first process; the others hear it through Redis
            "p95_ms_by_process": [ms(xs, 95) for xs in by_process.values()],
            "graph_svg": {"requests": len(graph), "errors": len(graph_errors),
                          "p50_ms": ms(graph, 50), "p95_ms": ms(graph, 95), "max_ms": ms(graph, 100)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    redis = redis_url = None
    if args.processes > 1:
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        redis_url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    servers, urls = start_servers(args.processes, redis_url)
    try:
        print(json.dumps(asyncio.run(measure(urls, args.clients, args.changes)), indent=1))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        if redis:
            redis.terminate()
            redis.wait(timeout=10)


if __name__ == "__main__":
    main()
