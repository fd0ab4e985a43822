"""A classroom on loopback: 60 students, then the same 60 plus 5 attackers.

    .venv/bin/python bench/load.py [--students 60] [--attackers 5] [--seconds 120] [--one-address]
                                   [--processes 2]

A school: `--students 200 --attackers 0 --seconds 30` (each student from its own address
on 127.0.0.0/8; at most 1,000 students and 600 s per phase), with and without
`--processes 2`; the run ends with a per-phase markdown table.

Starts chainrule's production server (waitress) on a loopback port. With --one-address
the whole class, attackers included, comes from 127.0.0.1 (a school behind NAT), and
every client keeps the server's cookie as a browser does. Each simulated
student opens the page and the seed examples (page, plus the plot samples the page
draws), then types a new function every 10 seconds (the editor's htmx request, plus
the plot samples). Phase 1 runs the students alone; phase 2 adds attackers who send CPU and
memory bombs in a loop. Prints requests/s, p50, p95 and errors per phase, the
attackers' status codes, and whether the server is alive, with its memory, at the end.
With --processes N (N > 1) it starts a `redis-server` on loopback and N production
servers sharing it (CHAINRULE_CACHE_URL, one CHAINRULE_SECRET, the cores' workers split
between them); each client talks to one of them, as behind a load balancer.
With --newcomer-attack healthz (issue 26), phase 2 also has one attacker at the class's
address doing what the red team did to newcomers: cookie-less `GET /healthz` in bursts (it
spent the address's fresh cookies), then a cookie-less `while True: pass` (refused on
reading), over and over. `--newcomer-attack pages` is harder: cookie-less pages instead
(which do give cookies, 120 a minute per address), and a loop that runs into the deadline
after the refused one. NEWCOMERS browsers arrive at that address during the phase, one
every phase/NEWCOMERS seconds; each opens a page with a function of its own and retries as
the busy page does (every 2 s): the run prints how long each waited for its first answer.
Every loop is bounded in time and only ever talks to 127.0.0.1.

Where the time went: for each phase and kind of request, how many reached a worker (the
bench's server sends Server-Timing), the job's own time and the wait around it; the
CPU of the web process, the zygotes' forks, the jobs and the rest of the machine, with
the CPU of one forked job (bench/cpu_share.py); and the same, 5 s window by window.
`--warm-gallery` opens every example once before the clock starts, as a teacher would.
"""
from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.benchmark import free_port, start_server  # noqa: E402
from bench.cpu_share import cpu_line, cpu_snapshot, cpu_spent, zygote_memory  # noqa: E402
from webapp.warm_gallery import gallery_urls  # noqa: E402
from webapp.web.examples import EXAMPLES  # noqa: E402

BOMBS = [
    "k = 0\nwhile k >= 0:\n    k = k + 1",
    "v = torch.ones(1000000)\nfor i in range(100000):\n    y = torch.dot(v, v)\ny",
    "def f(n):\n    return f(n + 1)\nf(0)",
    "torch.ones(3000, 3000) @ torch.ones(3000, 3000)",
    "y = torch.ones(1000000)\nfor i in range(100000):\n    y = y * 1.0001\ny.sum()",
    "2 ** 10 ** 10",
    "x = [0] * 10**9",
    "__import__('os').system('ls')",
    "x = 1\nx + 18014398509481984",
]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples = collections.defaultdict(list)   # phase -> [(seconds, status)]
        self.jobs = collections.Counter()   # phase, (phase, kind) -> requests a worker ran
        self.job_seconds = collections.Counter()  # the same keys -> the workers' own seconds
        self.waits = collections.defaultdict(list)  # the same keys -> evaluate minus job: the
        # wait for a free worker, its pipe and the child's fork, per request
        self.started = time.monotonic()
        self.timeline = collections.defaultdict(list)  # 5-s window of the answer -> seconds

    def add(self, phase: str, seconds: float, status: int, kind: str = "", timing: dict | None = None) -> None:
        with self.lock:
            self.samples[phase].append((seconds, status))
            self.timeline[int((time.monotonic() - self.started) // 5)].append(seconds)
            self.samples[(phase, kind)].append((seconds, status))
            if timing and "evaluate" in timing:  # Server-Timing: this request reached a worker
                for key in (phase, (phase, kind)):
                    self.jobs[key] += 1
                    self.job_seconds[key] += timing.get("job", 0.0)
                    self.waits[key].append(timing["evaluate"] - timing.get("job", 0.0))


def server_timing(header: str | None) -> dict:
    """`evaluate;dur=2.91, job;dur=1.62` -> {"evaluate": 0.00291, "job": 0.00162}."""
    spent = {}
    for part in (header or "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name:
            spent[name] = float(duration or 0) / 1000
    return spent


class Client:
    """One browser: a keep-alive connection from its own (or the shared) address, and its cookie."""

    def __init__(self, port: int, source: tuple[str, int]):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                                     source_address=source)
        self.cookie = None
        self.timing = None  # the last answer's Server-Timing (the bench's server sends it)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        return request(self.connection, method, path, body, headers, self)

    def timed(self, method, path, body=None, headers=None):
        """(seconds, status, Server-Timing as a dict)."""
        seconds, status = self.request(method, path, body, headers)
        return seconds, status, server_timing(self.timing)


def request(connection, method, path, body=None, headers=None, client=None):
    started = time.perf_counter()
    for attempt in (1, 2):
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            response.read()
            cookie = response.getheader("Set-Cookie")
            if client is not None and cookie:
                client.cookie = cookie.split(";", 1)[0]
            if client is not None:
                client.timing = response.getheader("Server-Timing")
            return time.perf_counter() - started, response.status
        except (OSError, http.client.HTTPException):
            # The server closed an idle keep-alive connection: reconnect once, as browsers do.
            connection.close()
    return time.perf_counter() - started, 599  # no answer at all: counted as an error


ONE_ADDRESS = False  # --one-address: everyone behind 127.0.0.1


def address(number: int, offset: int) -> tuple[str, int]:
    """A loopback source address of its own, as each laptop in a classroom has."""
    if ONE_ADDRESS:
        return ("127.0.0.1", 0)
    n = offset + number
    return (f"127.0.{n // 250}.{n % 250 + 2}", 0)


def student(ports, number, phase, stop_at, recorder, think=10.0):
    connection = Client(ports[number % len(ports)], address(number, 0))
    time.sleep(random.uniform(0, 5))  # "everyone open this link"
    for example in EXAMPLES:
        if time.monotonic() > stop_at:
            return
        for kind, url in gallery_urls(example):  # the page, then the plot it fetches
            seconds, status, timing = connection.timed("GET", url)
            recorder.add(phase(), seconds, status, f"example {kind}", timing)
    k = 0
    while time.monotonic() < stop_at:
        k += 1
        source = f"sin(x) * {number}.{k} + x ** 2 / {k + 1}"
        form = urllib.parse.urlencode({"f": source, "x": "1.5", "view": "values"})
        seconds, status, timing = connection.timed(
            "POST", "/partials/graph", form, {"Content-Type": "application/x-www-form-urlencoded",
                                              "HX-Request": "true"})
        recorder.add(phase(), seconds, status, "new function: graph", timing)
        seconds, status, timing = connection.timed("GET", "/api/plot?" + urllib.parse.urlencode(
            {"f": source, "x": "1.5", "wrt": "x"}))
        recorder.add(phase(), seconds, status, "new function: plot", timing)
        time.sleep(min(think, max(0.0, stop_at - time.monotonic())))


def attacker(ports, number, stop_at, statuses):
    connection = Client(ports[number % len(ports)], address(number, 1000))
    k = 0
    while time.monotonic() < stop_at:
        k += 1
        body = json.dumps({"source": BOMBS[k % len(BOMBS)] + f"\n# {number}.{k}", "inputs": {}})
        _, status = connection.request("POST", "/api/trace", body, {"Content-Type": "application/json"})
        statuses[status] += 1
        if status == 429:
            time.sleep(0.2)  # even an attacker's client honours Retry-After a little


NEWCOMER_BOMBS = ["while True:\n    pass", "k = 0\nwhile k >= 0:\n    k = k + 1"]


def newcomer_attacker(port, stop_at, statuses, kind):
    """Cookie-less bursts of /healthz (or pages), then a refused loop (and a runaway one)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    k = 0
    while time.monotonic() < stop_at:
        k += 1
        for path in ["/healthz"] * 150 if kind == "healthz" else [f"/?f=x%2B{k}&x=1"] * 150:
            if time.monotonic() >= stop_at:
                return
            statuses["GET " + path.split("?")[0]] += 1
            request(connection, "GET", path)  # never sends a cookie back
        for bomb in NEWCOMER_BOMBS[:1] if kind == "healthz" else NEWCOMER_BOMBS:
            body = json.dumps({"source": bomb + f"\n# {k}", "inputs": {}})
            _, status = request(connection, "POST", "/api/trace", body, {"Content-Type": "application/json"})
            statuses[f"bomb {status}"] += 1


def newcomer(port, number, start_at, stop_at, waits):
    """A browser arriving at the attacked address: seconds until its first answer, or None."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    connection = Client(port, ("127.0.0.1", 0))
    arrived = time.monotonic()
    source = urllib.parse.urlencode({"f": f"sin(x) * {number}.{random.randint(0, 10**6)}", "x": "1"})
    while time.monotonic() < stop_at:
        _, status = connection.request("GET", f"/?{source}")
        if status == 200:
            waits.append(time.monotonic() - arrived)
            return
        time.sleep(2.0)  # the busy page reloads itself after 2 s
    waits.append(None)


def summarize(samples, seconds, jobs: int = 0, job_seconds: float = 0.0, waits=()):
    times = sorted(t for t, _ in samples)
    errors = sum(1 for _, status in samples if status != 200)
    codes = dict(sorted(collections.Counter(status for _, status in samples).items()))
    p95 = times[int(0.95 * (len(times) - 1))] if times else float("nan")
    waits = sorted(waits)
    ran = (f"; {jobs} ran in a worker, the job itself {job_seconds / jobs * 1000:.1f} ms on average, "
           f"around it (waiting for a worker, pipes) p50 {statistics.median(waits) * 1000:.0f} ms, "
           f"p95 {waits[int(0.95 * (len(waits) - 1))] * 1000:.0f} ms"
           if jobs and waits else "; none ran in a worker (cached)")
    return (f"{len(samples)} requests, {len(samples) / seconds:.1f} req/s, "
            f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"errors {errors} (status codes {codes}){ran}")


def table(recorder, seconds, label: str, attackers: int = 1) -> None:
    """The per-phase figures as a markdown table (docs/performance.md)."""
    print("\n| setup | phase | requests | requests/s | p50 | p95 | errors |\n|---|---|---|---|---|---|---|")
    for name in ("students alone", "with attackers"):
        samples = recorder.samples[name]
        if not samples:
            continue
        times = sorted(t for t, _ in samples)
        p95 = times[int(0.95 * (len(times) - 1))]
        errors = sum(1 for _, status in samples if status != 200)
        shown = name if attackers or name == "students alone" else "students, second phase"
        print(f"| {label} | {shown} | {len(samples)} | {len(samples) / seconds:.1f} | "
              f"{statistics.median(times) * 1000:.0f} ms | {p95 * 1000:.0f} ms | {errors} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--attackers", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--one-address", action="store_true",
                        help="every client behind 127.0.0.1, keeping its cookie")
    parser.add_argument("--processes", type=int, default=1,
                        help="production processes sharing one loopback redis-server")
    parser.add_argument("--newcomer-attack", choices=("healthz", "pages"),
                        help="phase 2 adds an attack on newcomers (use with --one-address)")
    parser.add_argument("--warm-gallery", action="store_true",
                        help="open every example page and plot once before the clock starts "
                             "(as the production server now does at start-up; bench servers do "
                             "not, CHAINRULE_WARM_GALLERY=0): the first students then wait "
                             "on no example's first computation (r-rosenbrock-descent: 1.6 s)")
    parser.add_argument("--newcomers", type=int, default=6,
                        help="browsers arriving at the attacked address during phase 2")
    args = parser.parse_args()
    if not 0 < args.students <= 1000 or not 0 <= args.attackers <= 50 or not 0 < args.seconds <= 600:
        raise SystemExit("at most 1,000 students, 50 attackers and 600 s per phase")
    global ONE_ADDRESS
    ONE_ADDRESS = args.one_address
    redis_server, servers, ports = None, [], []
    env = {}
    if args.processes > 1:
        redis_port = free_port()
        redis_server = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        env = {"CHAINRULE_CACHE_URL": f"redis://127.0.0.1:{redis_port}/0",
               "CHAINRULE_SECRET": os.urandom(16).hex(),
               "CHAINRULE_WORKERS": str(max(1, 2 * (os.cpu_count() or 1) // args.processes))}
    for _ in range(args.processes):
        ports.append(free_port())
        servers.append(start_server(ports[-1], env))
    server = servers[0]
    if args.warm_gallery:
        for port in ports:
            teacher = Client(port, ("127.0.0.1", 0))
            for example in EXAMPLES:
                for _, url in gallery_urls(example):
                    teacher.request("GET", url)
    recorder = Recorder()
    statuses = collections.Counter()
    loads = [os.getloadavg()]
    try:
        cpu = [cpu_snapshot(*(each.pid for each in servers))]
        start = recorder.started = time.monotonic()
        windows = [cpu[0]]  # a snapshot every 5 s: where the CPU went, window by window

        def sample_cpu():
            while time.monotonic() < start + 2 * args.seconds + 5:
                time.sleep(max(0.0, start + 5 * len(windows) - time.monotonic()))
                windows.append(cpu_snapshot(*(each.pid for each in servers)))
        threading.Thread(target=sample_cpu, daemon=True).start()
        end_one = start + args.seconds
        end_two = end_one + args.seconds
        phase = lambda: "students alone" if time.monotonic() < end_one else "with attackers"
        threads = [threading.Thread(target=student, args=(ports, i, phase, end_two, recorder), daemon=True)
                   for i in range(args.students)]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, end_one - time.monotonic()))
        cpu.append(cpu_snapshot(*(each.pid for each in servers)))
        loads.append(os.getloadavg())
        attackers = [threading.Thread(target=attacker, args=(ports, i, end_two, statuses), daemon=True)
                     for i in range(args.attackers)]
        waits: list = []
        if args.newcomer_attack:
            attackers.append(threading.Thread(target=newcomer_attacker, args=(ports[0], end_two, statuses, args.newcomer_attack),
                                              daemon=True))
            attackers += [threading.Thread(target=newcomer, daemon=True, args=(
                ports[i % len(ports)], i, end_one + i * args.seconds / args.newcomers, end_two, waits))
                for i in range(args.newcomers)]
        for thread in attackers:
            thread.start()
        for thread in threads + attackers:
            thread.join(timeout=max(1.0, end_two - time.monotonic() + 35))
        cpu.append(cpu_snapshot(*(each.pid for each in servers)))
        loads.append(os.getloadavg())
        alive = [request(http.client.HTTPConnection("127.0.0.1", p, timeout=10), "GET", "/healthz")[1]
                 for p in ports]
        memory = zygote_memory(server.pid)
        with open(f"/proc/{server.pid}/status") as handle:
            web_rss = next(int(l.split()[1]) for l in handle if l.startswith("VmRSS")) / 1024
    finally:
        for each in servers:
            each.terminate()
            each.wait(timeout=10)
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)
    print(f"{args.students} students, {args.attackers} attackers, {args.seconds:.0f} s per phase, "
          f"{os.cpu_count()} cores" + (", everyone behind 127.0.0.1" if ONE_ADDRESS else "")
          + (f", {args.processes} processes sharing one Redis" if args.processes > 1 else "") + "\n")
    print("load average (1, 5, 15 min) at the start, between the phases and at the end: "
          + "; ".join(", ".join(f"{v:.2f}" for v in each) for each in loads))
    for number, name in enumerate(("students alone", "with attackers")):
        for key in [name] + sorted(k for k in recorder.samples if isinstance(k, tuple) and k[0] == name):
            line = summarize(recorder.samples[key], args.seconds, recorder.jobs[key],
                             recorder.job_seconds[key], recorder.waits[key])
            print(f"- {name}: {line}" if key == name else f"    - {key[1]}: {line}")
        if len(cpu) > number + 1:
            print(f"    - {cpu_line(cpu_spent(cpu[number], cpu[number + 1]), args.seconds, recorder.jobs[name])}")
    print("- by 5-s window of the run (answered then): requests, p50 and p95 ms; core-seconds "
          "of the web process, the workers (forks and jobs), the rest of the machine:")
    for w, t in sorted(recorder.timeline.items()):
        spent = cpu_spent(windows[w], windows[w + 1]) if w + 1 < len(windows) else None
        server = spent and spent["web"] + spent["zygotes"] + spent["jobs"] + spent["other"]
        print(f"    - {5 * w}-{5 * w + 5} s: {len(t)}, {statistics.median(t) * 1000:.0f}, "
              f"{sorted(t)[int(0.95 * (len(t) - 1))] * 1000:.0f}" + (
                  f"; web {spent['web']:.1f}, workers {spent['zygotes'] + spent['jobs']:.1f}, "
                  f"rest {spent['machine'] - server - spent['load']:.1f}" if spent else ""))
    print(f"- attackers' answers: {dict(sorted(statuses.items(), key=str))}")
    if args.newcomer_attack:
        served = [w for w in waits if w is not None]
        phase_two = recorder.samples["with attackers"]
        share = sum(1 for _, status in phase_two if status == 200) / max(1, len(phase_two))
        print(f"- newcomers at the attacked address: {len(served)} of {len(waits)} served, waits "
              + ", ".join("never" if w is None else f"{w:.1f} s" for w in waits)
              + f" (longest {max(served, default=float('nan')):.1f} s); settled classmates served "
              f"{100 * share:.1f} % of {len(phase_two)} requests")
    print(f"- after the run: /healthz {alive}; first web process {web_rss:.0f} MiB; "
          f"{len(memory)} evaluator processes, " + ", ".join(f"{m:.0f} MiB" for m in memory))
    table(recorder, args.seconds, f"{args.students} students, "
          + (f"{args.processes} processes + Redis" if args.processes > 1 else "1 process"),
          args.attackers)


if __name__ == "__main__":
    main()
