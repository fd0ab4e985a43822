"""Red team: the web process's memory while students ask for long GIFs at once (issue 26).

Starts `python -m webapp serve --production` (waitress, as the README's classroom server),
then, `--rounds` times, has `--concurrent` students (each with their own cookie) ask at the
same moment for a 116-frame GIF of a loop over a 12-element input, each a different
function so that no cache or single flight shares the work. The web process's resident
memory is sampled every 20 ms (and its kernel-kept peak, VmHWM, read at the end) and
stated against the bound exporter.py gives; the export processes' own peak is sampled
too. A watchdog stops the server if it passes --watchdog-mib (a "before" run can eat
gigabytes).

    .venv/bin/python bench/export_memory.py                      # this checkout
    .venv/bin/python bench/export_memory.py --root /tmp/before   # another tree, same bench
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# A 116-frame animation: 8 turns of a loop over a 12-element input (58 forward and 58
# backward steps), each frame about 6,500 × 280 px.
SOURCE = "y = x\nfor i in range(8):\n    y = torch.sin(y) * 0.999 + x * 0.001 + torch.cos(y) * {c}\ny.sum()"
INPUT = quote(str([float(i) for i in range(1, 13)]))


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def export_processes() -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"webapp.drawing.export_process" in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            pass
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(root), CHAINRULE_SETTLE="0", CHAINRULE_WORKERS="2")
    server = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--production", "--port", str(port)],
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start: " + server.stderr.read().decode()[-2000:])


def browser(base: str):
    """A browser with its own cookie, from the page."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.open(base + "/", timeout=60).read()
    return opener


def student(opener, base: str, c: str, results: list, start_line: threading.Barrier) -> None:
    """One student asking for a GIF, at the same moment as the others."""
    start_line.wait()
    start = time.monotonic()
    try:
        with opener.open(f"{base}/graph.gif?f={quote(SOURCE.format(c=c))}&x={INPUT}", timeout=600) as answer:
            body = answer.read()
            headers = dict(answer.headers)
            results.append((answer.status, len(body), time.monotonic() - start,
                            max(len(v) for v in headers.values())))
    except urllib.error.HTTPError as error:
        results.append((error.code, len(error.read()), time.monotonic() - start, 0))
    except OSError as error:
        results.append((f"{type(error).__name__}", 0, time.monotonic() - start, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the source tree to serve")
    parser.add_argument("--concurrent", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--watchdog-mib", type=float, default=10_000)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(args.root, port)
    peaks = {"web": 0.0, "round": 0.0, "export": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            web = rss_mib(server.pid)
            peaks["web"] = max(peaks["web"], web)
            peaks["round"] = max(peaks["round"], web)
            for pid in export_processes():
                peaks["export"] = max(peaks["export"], rss_mib(pid))
            if web > args.watchdog_mib:
                print(f"watchdog: the web process passed {args.watchdog_mib:,.0f} MiB; stopping it")
                server.kill()
                stop.set()
            time.sleep(0.02)
    try:
        # Warm up: workers booted, one small GIF drawn, so the baseline is a serving process.
        urllib.request.urlopen(f"{base}/graph.gif?f=sin(x)&x=1", timeout=120).read()
        baseline = rss_mib(server.pid)
        threading.Thread(target=sample, daemon=True).start()
        print(f"served from {args.root}; web process after warm-up: {baseline:,.0f} MiB")
        constant = 0.5
        for round_ in range(1, args.rounds + 1):
            results: list = []
            threads = []
            peaks["round"] = 0.0
            start_line = threading.Barrier(args.concurrent)
            for _ in range(args.concurrent):
                constant += 0.01
                threads.append(threading.Thread(target=student, args=(
                    browser(base), base, f"{constant:.2f}", results, start_line)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(f"round {round_}: {args.concurrent} GIFs at once -> "
                  + "; ".join(f"{status} {size:,} B in {seconds:.1f} s (largest header {header:,} B)"
                              for status, size, seconds, header in results)
                  + f"; web process peak {peaks['round']:,.0f} MiB, now {rss_mib(server.pid):,.0f} MiB")
        stop.set()
        peak = max(peaks["web"], rss_mib(server.pid, "VmHWM"))
        bound = _bound_mib(args.root)
        print(f"web process: {baseline:,.0f} MiB after warm-up, peak {peak:,.0f} MiB "
              f"(+{peak - baseline:,.0f} MiB), {rss_mib(server.pid):,.0f} MiB at the end")
        if bound is not None:
            print(f"bound on what exports add: {bound:,.0f} MiB -> peak allowed {baseline + bound:,.0f} MiB: "
                  + ("within" if peak - baseline <= bound else "PAST THE BOUND"))
        print(f"largest export process seen: {peaks['export']:,.0f} MiB resident")
    finally:
        stop.set()
        server.kill()
        server.wait()


def _bound_mib(root: Path) -> float | None:
    """EXPORT_PROCESSES × (2 × MAX_EXPORT_BYTES + 2 × the largest trace JSON) + the image
    cache (64 MiB, where finished exports are kept), or None for a tree without the bound."""
    limits = (root / "webapp" / "limits.py").read_text()
    if "MAX_EXPORT_BYTES" not in limits:
        return None
    sys.path.insert(0, str(root))
    from webapp.limits import MAX_ANSWER_BYTES, MAX_EXPORT_BYTES
    processes = int(os.environ.get("CHAINRULE_EXPORT_PROCESSES", 2))
    return (processes * 2 * (MAX_EXPORT_BYTES + MAX_ANSWER_BYTES) + 64 * 2**20) / 2**20


if __name__ == "__main__":
    main()
