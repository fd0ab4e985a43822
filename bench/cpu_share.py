"""Where a server's CPU went: the web process, its evaluators' zygotes, their jobs, the rest.

    snapshot = cpu_snapshot(server_pid)   # ... load ...
    spent = cpu_spent(snapshot, cpu_snapshot(server_pid))

Read from /proc: each live process under the server, with its own CPU time and that of
the children it has reaped. A zygote's own time is the forks (and relaying); its reaped
children are the jobs (run, answer, exit). `machine` is every core's busy time, so
`machine - server - load` is what other programs on the machine took meanwhile.
"""
from __future__ import annotations

import os

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, str, float, float] | None:
    """(parent pid, command name, own CPU s, reaped children's CPU s) of one process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            head, tail = handle.read().rsplit(b")", 1)
    except OSError:
        return None
    fields = tail.split()
    own = (int(fields[11]) + int(fields[12])) / TICK
    reaped = (int(fields[13]) + int(fields[14])) / TICK
    return int(fields[1]), head.split(b"(", 1)[1].decode(errors="replace"), own, reaped


def _runs_worker(pid: int) -> bool:
    """Whether the process runs `python -m webapp.sandbox.worker` (not bwrap around it)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return b"webapp.sandbox.worker" in argv and not argv[0].endswith(b"bwrap")


def _zygotes(inside: set, processes: dict) -> set:
    """The evaluators: worker processes whose parent is not one (that is a job's child)."""
    workers = {pid for pid in inside if _runs_worker(pid)}
    return {pid for pid in workers if processes[pid][0] not in workers}


def _tree(*roots: int) -> tuple[set, dict]:
    """The pids whose ancestry reaches a root (the roots included), and every process's stat."""
    processes = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            found = _stat(int(name))
            if found:
                processes[int(name)] = found
    inside = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, (parent, *_rest) in processes.items():
            if parent in inside and pid not in inside:
                inside.add(pid)
                grew = True
    return inside, processes


def zygote_memory(root: int) -> list[float]:
    """Resident MiB of each evaluator zygote under the server (not another server's)."""
    sizes = []
    inside, processes = _tree(root)
    for pid in sorted(_zygotes(inside, processes)):
        try:
            with open(f"/proc/{pid}/status") as handle:
                sizes += [int(line.split()[1]) / 1024 for line in handle if line.startswith("VmRSS")]
        except OSError:
            pass
    return sizes


def cpu_snapshot(*roots: int) -> dict:
    """Seconds of CPU so far under the servers `roots`: web, zygotes (forks), jobs (reaped
    children), other (bwrap, dot); machine (all cores busy) and load (this process: the
    simulated browsers)."""
    inside, processes = _tree(*roots)
    totals = {"web": 0.0, "zygotes": 0.0, "jobs": 0.0, "other": 0.0}
    zygotes = _zygotes(inside, processes)
    for pid in inside:
        if pid not in processes:
            continue
        _, _, own, reaped = processes[pid]
        if pid in roots:
            totals["web"] += own
            totals["other"] += reaped  # finished dot runs, replaced workers
        elif pid in zygotes:
            totals["zygotes"] += own
            totals["jobs"] += reaped
        else:
            totals["other"] += own + reaped
    with open("/proc/stat") as handle:
        cpu = [int(v) for v in handle.readline().split()[1:]]
    totals["machine"] = (sum(cpu) - cpu[3] - cpu[4]) / TICK  # all but idle and iowait
    times = os.times()
    totals["load"] = times.user + times.system
    return totals


def cpu_spent(before: dict, after: dict) -> dict:
    return {key: after[key] - before[key] for key in after}


def cpu_line(spent: dict, seconds: float, jobs: int) -> str:
    """One line: core-seconds by part, and the CPU of one forked job."""
    server = spent["web"] + spent["zygotes"] + spent["jobs"] + spent["other"]
    rest = spent["machine"] - server - spent["load"]
    per_job = (spent["zygotes"] + spent["jobs"]) / jobs * 1000 if jobs else float("nan")
    return (f"CPU over {seconds:.0f} s on {os.cpu_count()} cores: web {spent['web']:.1f} s, "
            f"forks {spent['zygotes']:.1f} s, jobs {spent['jobs']:.1f} s, dot and other "
            f"{spent['other']:.1f} s; the simulated browsers {spent['load']:.1f} s; the rest of "
            f"the machine {rest:.1f} s. {jobs} forked jobs: {per_job:.1f} ms of CPU each "
            "(fork, run, exit)")
