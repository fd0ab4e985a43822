"""The walls around a worker: bubblewrap's namespaces, or a sentence saying why there are none.

Each worker (a zygote that forks one child per job, worker.py) starts inside `bwrap`:

- its own user, mount, PID, IPC, UTS, cgroup and network namespaces: no network at all,
  no other process visible or reachable;
- a root file system holding only read-only views of the system's libraries, the Python
  environment and chainrule's own package, a private `/tmp` and a minimal `/dev`;
- an empty environment but for the few variables a worker needs (no secret, no Redis URL);
- `--new-session` (no terminal to inject keystrokes into). Not `--die-with-parent`: it fires
  when the *thread* that started bwrap ends (the pool boots workers from short threads); a
  worker ends when its pipe closes instead.

Inside, each job's child adds seccomp and rlimits (confine.py). Where `bwrap` is missing or
the kernel refuses user namespaces (some containers, macOS), `problem()` says what to
install or enable: the CLI then refuses to serve anyone but one person on loopback.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

# Variables a worker keeps; everything else (CHAINRULE_SECRET, CHAINRULE_CACHE_URL, tokens,
# a proxy's address) stays outside.
KEPT_VARIABLES = ("PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
                  "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "ZE_AFFINITY_MASK",
                  "ONEAPI_DEVICE_SELECTOR", "PYTORCH_ENABLE_MPS_FALLBACK", "LANG", "LC_ALL",
                  "CHAINRULE_WORKER_HEADROOM_MB", "COVERAGE_PROCESS_START")


def _system_paths() -> list[str]:
    """Read-only: the libraries and the Python environment, nothing of /etc or /home."""
    paths = ["/usr", "/etc/ld.so.cache", "/etc/fonts", "/sys/devices/system/cpu"]
    for prefix in {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))}:
        if not prefix.startswith("/usr/"):
            paths.append(prefix)
    return [p for p in paths if os.path.exists(p)]


def package_dir() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command(argv: list[str], env: dict, info_fd: int | None = None) -> list[str]:
    """`argv` wrapped in bwrap, with only the kept variables of `env`. With `info_fd`, it
    runs as the namespace's process 1 and bwrap writes its host process id there."""
    wrapped = ["bwrap", *(["--as-pid-1", "--info-fd", str(info_fd)] if info_fd is not None else []),
               "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
               "--new-session", "--clearenv",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for link in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{link}"):
            wrapped += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    # The operator's PYTHONPATH (site packages of their own, a sitecustomize) is read-only too.
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
             if os.path.isabs(p) and os.path.isdir(p) and p not in ("/", os.path.dirname(package_dir()))]
    for path in dict.fromkeys([*_system_paths(), package_dir(), *extra]):
        wrapped += ["--ro-bind", path, path]
    kept = {name: env[name] for name in KEPT_VARIABLES if name in env}
    kept.update(CHAINRULE_WALLS="bwrap", HOME="/tmp", MPLCONFIGDIR="/tmp/mpl", PATH="/usr/bin:/bin",
                TMPDIR="/tmp", PYTHONPATH=os.pathsep.join([os.path.dirname(package_dir()), *extra]))
    for name, value in kept.items():
        wrapped += ["--setenv", name, value]
    return [*wrapped, "--chdir", "/tmp", *argv]


def read_child_pid(info_read: int) -> int | None:
    """The host process id of bwrap's command, from its --info-fd JSON (None if bwrap failed)."""
    import json
    try:
        with os.fdopen(info_read, "rb") as info:
            return int(json.loads(info.read() or b"{}")["child-pid"])
    except (ValueError, KeyError, OSError):
        return None


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """None when workers can be walled in here, else what to install or enable."""
    from .confine import available
    if sys.platform != "linux":
        return "the sandbox needs Linux namespaces (bubblewrap); this is " + sys.platform
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        probe = subprocess.run(command(["/bin/true"], {}), capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({exc})"
    if probe.returncode != 0:
        reason = probe.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no reason given"]
        return ("bubblewrap cannot build namespaces here (" + reason[0] + "); enable "
                "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) "
                "or run chainrule outside this container")
    return available()


def wanted() -> bool:
    """Whether workers start walled in: yes wherever they can, unless switched off for a
    trusted single user (CHAINRULE_UNCONFINED=1, which the CLI sets only on loopback)."""
    return os.environ.get("CHAINRULE_UNCONFINED", "") != "1" and problem() is None


LOOPBACK = ("127.0.0.1", "localhost", "::1")


class NoWalls(Exception):
    """The sandbox cannot be built, and this server would serve others: a sentence."""


def walls_at_start(host: str, production: bool) -> None:
    """Say at start-up how user text will be walled in; refuse to serve others without walls.

    Without namespaces, one person on loopback may run their own text in forked,
    rlimited, seccomp-filtered children (CHAINRULE_UNCONFINED=1 is set for the workers);
    `--production`, another host or `make serve-lan` refuse to start.
    """
    why = problem()
    if why is None:
        print("chainrule: each job runs in a forked child inside bubblewrap's namespaces "
              "(no network, read-only files), with seccomp and rlimits.", file=sys.stderr)
        return
    if production or host not in LOOPBACK:
        raise NoWalls(f"chainrule will not serve a class without its sandbox: {why}. Install "
                      "or enable it, or serve yourself alone on 127.0.0.1 without --production.")
    os.environ["CHAINRULE_UNCONFINED"] = "1"
    print(f"chainrule: WARNING: no sandbox ({why}). Serving you alone on {host}: programs run "
          "in forked children with rlimits and seccomp only, not walled off from this "
          "machine's files.", file=sys.stderr)
