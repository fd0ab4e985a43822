"""What the sandbox costs: one fresh forked child per job, inside bubblewrap.

    .venv/bin/python bench/sandbox_bench.py [--repeat 30]

Prints a markdown table for one worker (a pool of one, as the server's workers are):

- a seed-sized job's round trip through the pool (each job in a fresh pre-forked child),
  and the child's own time for it; the same for what a class's load sends most (a typed
  function's graph and its plot, bench/load.py) and a course cell;
- the CPU of one job, all of it: the zygote's fork, the child's run and its exit (read
  from /proc: the zygote's own time and its reaped children's), with the kernel's share
  and the child's page faults (copy-on-write, and library code mapped in);
- the same job in this process (no fork, no pipe, no walls), for comparison;
- after a job killed at its deadline (stuck in one C call), how long until the next job
  is answered (the target: within 100 ms, since no worker has to import torch again);
- memory: the zygote's PSS and USS, and the waiting child's USS (its own pages: what one
  job costs beyond what every child shares with the zygote).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from webapp.sandbox import isolation  # noqa: E402
from webapp.sandbox.pool import WorkerPool  # noqa: E402

SEED001 = {"kind": "trace", "source": "x7 = 0.2*x1**2 + 0.2*x2**2 - 5\nx7",
           "inputs": {"x1": 2.0, "x2": 2.0}}
COURSE = {"kind": "trace", "inputs": {}, "source": (
    "from torch import nn\ntorch.manual_seed(0)\n"
    "net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))\n"
    "opt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
    "X = torch.randn(8, 2)\ny = X.sum(dim=1, keepdim=True)\n"
    "for epoch in range(3):\n    opt.zero_grad()\n    loss = ((net(X) - y) ** 2).mean()\n"
    "    loss.backward()\n    opt.step()\n    print(f'{epoch}: {loss.item():.4f}')\nloss")}
TYPED = "sin(x) * 3.1 + x ** 2 / 2"  # what bench/load.py's students type, and its plot
GRAPH = {"kind": "trace", "source": TYPED, "inputs": {"x": 1.5}, "grad_output": None,
         "fill_missing": 1.0, "fold": "auto", "language": None}
PLOT = {"kind": "plot", "source": TYPED, "inputs": {"x": 1.5}, "wrt": "x", "lo": -3.5,
        "hi": 6.5, "n": 200, "language": None}
GAP = 0.1  # seconds between two jobs
STUCK = {"kind": "trace", "inputs": {}, "source": "[sum(range(10 ** 12)) for _ in range(1)]"}


def smaps_rollup(pid: int) -> dict:
    """/proc/PID/smaps_rollup's fields, in KiB."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1])
    return fields


def memory(pid: int) -> tuple[float, float]:
    """(PSS, USS) in MiB, from smaps_rollup."""
    fields = smaps_rollup(pid)
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return fields.get("Pss", 0) / 1024, uss / 1024


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            found += [int(p) for p in handle.read().split()]
    return found


TICK = os.sysconf("SC_CLK_TCK")


def zygote_cpu(pid: int) -> dict:
    """The zygote's own CPU (its forks) and its reaped children's (the jobs), in seconds,
    and its children's minor page faults."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    user, system, child_user, child_system = (int(v) / TICK for v in fields[11:15])
    return {"fork": user + system, "fork_system": system, "child": child_user + child_system,
            "child_system": child_system, "faults": int(fields[8])}


def timed(pool, job, repeat) -> tuple[list[float], list[float], dict]:
    """Round trips, the children's own times, and the CPU per job from /proc."""
    trips, own = [], []
    zygote = pool.idle_pids()[0]
    before = zygote_cpu(zygote)
    for number in range(repeat):
        timings = {}
        varied = dict(job, source=job["source"].replace("3.1", f"3.{number + 11}"))  # no cache
        started = time.perf_counter()
        pool.run(varied, timings)
        trips.append(time.perf_counter() - started)
        own.append(timings["job"])
        time.sleep(GAP)  # the next child forks and warms up, as between two students' jobs
    after = zygote_cpu(zygote)
    per_job = {key: (after[key] - before[key]) / repeat for key in after}
    return trips, own, per_job


def in_process(job, repeat) -> list[float]:
    os.environ["CHAINRULE_TRUSTED"] = "1"
    from webapp.engine.jobs import handle
    handle(dict(job))
    times = []
    for number in range(repeat):
        varied = dict(job, source=job["source"].replace("3.1", f"3.{number + 11}"))
        started = time.perf_counter()
        handle(varied)
        times.append(time.perf_counter() - started)
    return times


def ms(values) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def p95(values) -> str:
    return f"{sorted(values)[int(0.95 * (len(values) - 1))] * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    walls = "bubblewrap + seccomp + rlimits" if isolation.problem() is None else \
        f"no bubblewrap ({isolation.problem()}): seccomp + rlimits"
    pool = WorkerPool(size=1, deadline_seconds=2, wait_seconds=60)
    try:
        pool.idle_pids(wait_seconds=120)
        pool.run(dict(SEED001))
        rows = []
        for name, job in (("seed 001", SEED001), ("a typed function's graph", GRAPH),
                          ("its plot (200 samples)", PLOT),
                          ("course cell (nn, SGD, f-string)", COURSE)):
            trips, own, per_job = timed(pool, job, args.repeat)
            local = in_process(job, args.repeat)
            rows.append((name, trips, own, per_job, local))
        zygote = pool.idle_pids()[0]
        waiting = children(zygote)
        zygote_pss, zygote_uss = memory(zygote)
        child_pss, child_uss = memory(waiting[0]) if waiting else (float("nan"),) * 2
        recoveries = []
        for _ in range(3):
            try:
                pool.run(dict(STUCK))
            except Exception:  # noqa: BLE001 - the out-of-time refusal is what we wait for
                pass
            started = time.perf_counter()
            pool.run(dict(SEED001))
            recoveries.append(time.perf_counter() - started)
        replaced = pool.replaced
    finally:
        pool.close()
    print(f"one worker, {walls}; {args.repeat} jobs per row, {GAP * 1000:.0f} ms apart; medians "
          f"(p95) in ms; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    print("| job | round trip through the pool | the child's own time | CPU per job: fork + "
          "child + exit (kernel) | page faults per job | in this process, unconfined |")
    print("|---|---|---|---|---|---|")
    for name, trips, own, cpu, local in rows:
        print(f"| {name} | {ms(trips)} ({p95(trips)}) | {ms(own)} | {cpu['fork'] * 1000:.1f} + "
              f"{cpu['child'] * 1000:.1f} ({(cpu['fork_system'] + cpu['child_system']) * 1000:.1f}) "
              f"| {cpu['faults']:.0f} | {ms(local)} |")
    print(f"\nafter a job killed at its deadline, the next job answered in: "
          f"{', '.join(f'{t * 1000:.1f}' for t in recoveries)} ms (workers replaced: {replaced})")
    print(f"memory: zygote PSS {zygote_pss:.0f} MiB, USS {zygote_uss:.0f} MiB; "
          f"the waiting child (after its warm-up): PSS {child_pss:.0f} MiB, own pages (USS) "
          f"{child_uss:.0f} MiB")


if __name__ == "__main__":
    main()
