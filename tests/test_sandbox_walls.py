"""From inside a job, a program tries what a hostile student would; the walls hold.

Programs run as real CPython (language/open_python.py: `try`, `().__class__` are Python),
so each reaches the `os` module the way escapes do, through `object.__subclasses__()`,
and reports what happened as its last line's value. Every attempt must be refused or
harmless, and the next job must see a pristine torch.

Mutations seen failing (one at a time):
- drop `install_filter()` from confine.confine: the fork, exec, socket tests fail;
- drop "--clearenv" from isolation.command: the secret test fails;
- drop "--unshare-all": the process and network tests fail;
- `os.fork()` in forked.JobChild replaced by reusing one child: the pristine-torch test fails.
"""
from __future__ import annotations

import os

import pytest

from webapp.errors import ChainruleError
from webapp.sandbox import isolation
from webapp.sandbox.pool import WorkerPool

pytestmark = pytest.mark.skipif(isolation.problem() is not None,
                                reason=f"no sandbox here: {isolation.problem()}")

SECRET = "s3cr3t-of-the-school-4242"
OS = ("[c for c in ().__class__.__base__.__subclasses__() "
      "if c.__name__ == '_wrap_close'][0].__init__.__globals__")


@pytest.fixture(scope="module")
def pool():
    saved = os.environ.get("CHAINRULE_SECRET")
    os.environ["CHAINRULE_SECRET"] = SECRET
    try:
        started = WorkerPool(size=1, deadline_seconds=5, wait_seconds=60)
    finally:
        if saved is None:
            del os.environ["CHAINRULE_SECRET"]
        else:
            os.environ["CHAINRULE_SECRET"] = saved
    started.idle_pids(wait_seconds=60)
    yield started
    started.close()


def attempt(pool, body: str) -> str:
    """Run `body` (which sets `result`) in a job; the text of `result`."""
    source = f"o = {OS}\nresult = 'not run'\n{body}\nresult"
    answer = pool.run({"kind": "trace", "source": source, "inputs": {}})
    return answer["result"]["text"]


def test_the_web_process_environment_and_secret_are_not_there(pool):
    text = attempt(pool, "result = repr(dict(o['environ']))")
    assert SECRET not in text and "CHAINRULE_SECRET" not in text
    assert "CHAINRULE_WALLS" in text  # the worker's own few variables are


def test_no_other_process_is_visible_or_readable(pool):
    text = attempt(pool, "result = repr(sorted(p for p in o['listdir']('/proc') if p.isdigit()))")
    assert str(os.getpid()) not in text
    text = attempt(pool, f"try:\n    o['open']('/proc/{os.getpid()}/environ', 0)\n"
                         "    result = 'read'\nexcept OSError as e:\n    result = 'refused'")
    assert text == "'refused'"


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/shadow", os.path.abspath(".git"),
                                  os.path.abspath("README.md"), "/home", "/var"])
def test_files_outside_the_python_environment_are_not_there(pool, path):
    text = attempt(pool, f"result = 'seen' if o['path'].exists({path!r}) else 'absent'")
    assert text == "'absent'"


def test_nothing_can_be_written_outside_tmp_and_tmp_holds_nothing(pool):
    text = attempt(pool, "try:\n    o['open']('/usr/chainrule-was-here', o['O_CREAT'] | o['O_WRONLY'])\n"
                         "    result = 'written'\nexcept OSError as e:\n    result = e.strerror")
    assert text == "'Read-only file system'"
    text = attempt(pool, "fd = o['open']('/tmp/x', o['O_CREAT'] | o['O_WRONLY'])\n"
                         "try:\n    o['write'](fd, b'hello')\n    result = 'written'\n"
                         "except OSError as e:\n    result = e.strerror")
    assert text == "'File too large'"


def test_a_program_opening_a_file_gets_a_sentence(pool):
    with pytest.raises(ChainruleError) as refused:
        pool.run({"kind": "trace", "source": "torch.save(torch.ones(2), 'w.pt')\n1", "inputs": {}})
    assert "without files" in refused.value.message and refused.value.line == 1


def test_no_socket_and_no_network(pool):
    importer = ("[c for c in ().__class__.__base__.__subclasses__() "
                "if c.__name__ == 'BuiltinImporter'][0]")
    text = attempt(pool, f"s = {importer}.load_module('_socket')\n"
                         "try:\n    s.socket(s.AF_INET, s.SOCK_STREAM)\n    result = 'socket'\n"
                         "except OSError as e:\n    result = e.strerror")
    assert text == "'Operation not permitted'"
    text = attempt(pool, "result = repr(o['listdir']('/sys/class/net') if o['path'].exists("
                         "'/sys/class/net') else 'no interfaces')")
    assert "eth" not in text


@pytest.mark.parametrize("call", ["o['fork']()", "o['execv']('/usr/bin/true', ['true'])",
                                  "o['posix_spawn']('/usr/bin/true', ['true'], {})"])
def test_no_process_can_be_started(pool, call):
    text = attempt(pool, f"try:\n    {call}\n    result = 'started'\n"
                         "except OSError as e:\n    result = e.strerror")
    assert text == "'Operation not permitted'"
    assert attempt(pool, "result = o['system']('true')") == str(127 << 8)  # spawn failed


def test_a_fork_bomb_is_harmless(pool):
    text = attempt(pool, "n = 0\nfor i in range(100):\n    try:\n        o['fork']()\n        n += 1\n"
                         "    except OSError:\n        pass\nresult = n")
    assert text == "0"


def test_limits_cannot_be_raised(pool):
    text = attempt(pool, "r = o['sys'].modules['resource']\ntry:\n"
                         "    r.setrlimit(r.RLIMIT_AS, (r.RLIM_INFINITY, r.RLIM_INFINITY))\n"
                         "    result = 'raised'\nexcept (ValueError, OSError) as e:\n    result = 'refused'")
    assert text == "'refused'"


def test_the_next_job_sees_a_pristine_torch(pool):
    """A program patches torch, the default dtype and a global hook; the next job is untouched."""
    poison = ("torch.sin = lambda t: t * 0 + 42\ntorch.set_default_dtype(torch.float64)\n"
              "torch.Tensor.__add__ = lambda a, b: a * 0\n1")
    pool.run({"kind": "trace", "source": poison, "inputs": {}})
    answer = pool.run({"kind": "trace", "source": "torch.sin(x) + 1", "inputs": {"x": 0.5}})
    assert answer["output"]["value"] == pytest.approx(1.4794255, rel=1e-6)
    assert answer["output"]["dtype"] == "float32"


def test_a_job_killed_at_its_deadline_keeps_the_worker(pool):
    """The zygote answers for a child stuck in one C call, and the next job is served at once
    by the child already forked (no torch import)."""
    import time
    before = pool.idle_pids()
    with pytest.raises(ChainruleError) as stopped:
        pool.run({"kind": "trace", "source": "[sum(range(10 ** 12)) for _ in range(1)]", "inputs": {}})
    assert "longer than" in stopped.value.message
    started = time.perf_counter()
    answer = pool.run({"kind": "trace", "source": "x * 2", "inputs": {"x": 1.0}})
    assert answer["output"]["value"] == 2.0
    assert pool.idle_pids() == before and pool.replaced == 0
    assert time.perf_counter() - started < 2.0  # a new worker would import torch for seconds


def test_killing_a_worker_leaves_no_process_of_the_sandbox():
    """The worker is its namespace's process 1: killing it ends the job's child at once,
    even one stuck in a C call. Mutation seen failing: Worker.kill without `os.kill(self.pid,
    SIGKILL)` (bwrap's own process dies; the worker and its child run on to the deadline)."""
    import threading
    import time
    from webapp.sandbox.pool import Worker
    from webapp.sandbox.protocol import encode_message
    worker = Worker()
    assert worker.wait_ready(60)
    job = encode_message({"kind": "trace", "inputs": {}, "deadline": 30,
                          "source": "[sum(range(10 ** 12)) for _ in range(1)]"})
    threading.Thread(target=worker.ask, args=(job, 60), daemon=True).start()
    time.sleep(1.0)
    with open(f"/proc/{worker.pid}/task/{worker.pid}/children") as handle:
        children = [int(pid) for pid in handle.read().split()]
    assert children  # the job's child, busy
    worker.kill()
    alive, deadline = [worker.pid, *children], time.monotonic() + 3
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if not _gone(pid)]
        time.sleep(0.1)
    assert alive == []


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True
