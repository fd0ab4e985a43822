"""Dragging x in Chromium, against torchviz + dot drawing the same points, in one run.

    .venv/bin/python bench/drag_bench.py [--rate 60]

It starts chainrule's production server (`chainrule serve --production`, as
bench/benchmark.py does) and opens the page in Debian's Chromium (headless) at each case.
The input's slider moves across its whole range at `--rate` steps a second, driven from
inside the page (each step an `input` event, as a dragged slider fires), first over points
the server has never traced (a worker job each), then, once every point has been asked for
from Python, back over the same points (answers from the server's cache). tests/test_drag_x.py drags it with the real mouse. static/js/drag_x.js records, for each point it shows,
the time from the slider's input event to the frame after the page drew it.

The baseline is what a user would otherwise run for each point the page showed: build the
function in PyTorch, then `torchviz.make_dot(y).pipe(format="svg")` (one `dot` per point,
no page, no animation). Prints a markdown table: updates per second, and the median and
p95 input-to-paint latency (for torchviz: the time to one SVG).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.parse

import torch
import torchviz

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.benchmark import Client, free_port, start_server  # noqa: E402
from bench.cpu_share import cpu_snapshot, cpu_spent  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SLIDER = 'input.input-slider[data-input="x"]'

# (name, the page's query, the same function in PyTorch for torchviz)
CASES = [
    ("seed 001: log(x**2)*sin(x) + 1/x", {"f": "log(x**2)*sin(x) + 1/x", "x": "2"},
     lambda x: torch.log(x ** 2) * torch.sin(x) + 1 / x),
    ("R: f <- function(x) x^3 - 2 * x", {"f": "f <- function(x) x^3 - 2 * x\nf(x)", "x": "2"},
     lambda x: x ** 3 - 2 * x),
]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# Moves the slider from inside the page at an exact rate (Playwright's mouse, a round trip
# per move, managed 17-20 moves a second on this loaded machine): each step sets the
# slider's value and fires `input`, as a dragged slider does, through the same drag_x.js.
SWEEP_JS = """async ([selector, rate, forward]) => {
  const slider = document.querySelector(selector), drag = window.chainruleDrag;
  const lo = Number(slider.min), hi = Number(slider.max), step = Number(slider.step);
  const count = Math.round((hi - lo) / step), values = [];
  for (let i = 0; i <= count; i++) values.push(String(Number((lo + i * step).toPrecision(12))));
  if (!forward) values.reverse();
  drag.reset();
  const asked = drag.stats().asked, started = performance.now();
  for (let i = 0; i < values.length; i++) {
    slider.value = values[i];
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    const wait = started + (i + 1) * 1000 / rate - performance.now();
    await new Promise(function (done) { setTimeout(done, Math.max(0, wait)); });
  }
  while (!drag.idle()) await new Promise(function (done) { setTimeout(done, 5); });
  await new Promise(function (done) { requestAnimationFrame(function () { setTimeout(done, 0); }); });
  const stats = drag.stats();
  return { values: values, moves: values.length, asked: stats.asked - asked, seconds: (performance.now() - started) / 1000,
           latencies: stats.latencies, work: stats.work };
}"""


def browser_cpu(session) -> float:
    """Seconds of CPU so far of every process of this Chromium (CDP SystemInfo)."""
    return sum(p["cpuTime"] for p in session.send("SystemInfo.getProcessInfo")["processInfo"])


def sweep(page, forward: bool, rate: float, server_pid: int, session) -> dict:
    """The slider across its whole range and what the page showed meanwhile, with the
    CPU the server (web process, forks, jobs) and the browser spent: unlike the times,
    these hardly depend on what else the shared machine runs."""
    server, browser = cpu_snapshot(server_pid), browser_cpu(session)
    run = page.evaluate(SWEEP_JS, [SLIDER, rate, forward])
    spent = cpu_spent(server, cpu_snapshot(server_pid))
    run["shown"] = len(run["latencies"])
    shown = max(1, run["shown"])
    run["server_cpu"] = (spent["web"] + spent["zygotes"] + spent["jobs"] + spent["other"]) * 1000 / shown
    run["browser_cpu"] = (browser_cpu(session) - browser) * 1000 / shown
    return run


def drag_case(browser, session, port: int, server_pid: int, query: dict, rate: float) -> tuple[dict, dict, list[float]]:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    seen: list[float] = []
    page.on("request", lambda r: seen.append(float(urllib.parse.parse_qs(urllib.parse.urlsplit(r.url).query)["x"][0]))
            if "/api/point?" in r.url else None)
    page.goto(f"http://127.0.0.1:{port}/?" + urllib.parse.urlencode(query), timeout=120_000)
    page.wait_for_selector("#plot-live svg .curve", timeout=60_000)
    page.keyboard.press("End")  # the panel at the last backward step, as a lecturer would show it
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    cold = sweep(page, True, rate, server_pid, session)
    warm_cache(port, query, cold["values"])  # every point of the way back answered once
    before = metrics(cdp)
    warm = sweep(page, False, rate, server_pid, session)
    after = metrics(cdp)
    # The browser's main thread per point shown (warm: the server's part is ~2 ms).
    warm["main"] = {k: (after[k] - before[k]) * 1000 / max(1, warm["shown"])
                    for k in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")}
    page.close()
    return cold, warm, seen


def warm_cache(port: int, query: dict, values: list[str]) -> None:
    """Ask the server for each point once, so the sweep back finds every answer cached."""
    client = Client(port)
    for value in values:
        client.fetch("/api/point?" + urllib.parse.urlencode({**query, "x": value}))


def metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def torchviz_points(build, xs: list[float]) -> list[float]:
    """Seconds to build and draw each point with torchviz + dot."""
    times = []
    for value in xs:
        started = time.perf_counter()
        x = torch.tensor(value, requires_grad=True)
        y = build(x)
        y.backward()
        torchviz.make_dot(y).pipe(format="svg")
        times.append(time.perf_counter() - started)
    return times


def row(name: str, updates: float, latencies_ms: list[float], note: str) -> str:
    return (f"| {name} | {updates:.1f} | {statistics.median(latencies_ms):.0f} | "
            f"{percentile(latencies_ms, 0.95):.0f} | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=60.0, help="mouse moves per second")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    load = os.getloadavg()[0]
    port = free_port()
    server = start_server(port)
    lines = ["| case | updates/s | median input→paint ms | p95 ms | notes |", "|---|---|---|---|---|"]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
            session = browser.new_browser_cdp_session()
            for name, query, build in CASES:
                cold, warm, seen = drag_case(browser, session, port, server.pid, query, args.rate)
                for label, run in (("new points", cold), ("cached points", warm)):
                    answer = statistics.median(w[0] for w in run["work"])
                    drawing = statistics.median(w[1] for w in run["work"])
                    lines.append(row(f"{name}, chainrule, {label}", run["shown"] / run["seconds"],
                                     run["latencies"], f"{run['shown']} shown of {run['asked']} points "
                                     f"({run['moves']} moves) in {run['seconds']:.1f} s; median "
                                     f"{answer:.0f} ms to the answer, {drawing:.0f} ms to draw it; "
                                     f"CPU per update: server {run['server_cpu']:.0f} ms, "
                                     f"Chromium {run['browser_cpu']:.0f} ms"))
                main = warm["main"]
                print(f"{name}: Chromium's main thread per point shown (cached points): "
                      f"{main['TaskDuration']:.0f} ms, of which script {main['ScriptDuration']:.0f}, "
                      f"layout {main['LayoutDuration']:.0f}, style {main['RecalcStyleDuration']:.0f}")
                # The baseline draws each point the page asked the server for.
                times = [t * 1000 for t in torchviz_points(build, seen[: cold["shown"]])]
                lines.append(row(f"{name}, torchviz + dot", 1000 / statistics.mean(times), times,
                                 f"{len(times)} points, one SVG each, no page"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"load average at the start: {load:.1f}, at the end: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
