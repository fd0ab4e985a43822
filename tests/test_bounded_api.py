"""The CLI and Python API run user text under the server's limits; the web process draws no figure."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import webapp
from webapp.errors import ChainruleError

SLOW = "v = torch.ones(1000000)\nfor i in range(100000):\n    y = torch.dot(v, v)\ny"


def test_python_api_stops_a_runaway_function_at_the_deadline():
    """Mutation: make bounded.is_trusted return True: the loop runs in this process
    with no deadline for tens of seconds."""
    started = time.monotonic()
    with pytest.raises(ChainruleError) as refused:
        webapp.trace(SLOW)
    assert "took longer than 5 seconds" in refused.value.message
    assert time.monotonic() - started < 60  # includes the worker's boot
    assert webapp.trace("x * 2", x=1.0)["leaves"]["x"]["grad"] == 2.0  # the worker lives on


def test_trusted_notebooks_run_in_process():
    assert webapp.trace("x * 3", x=1.0, trusted=True)["leaves"]["x"]["grad"] == 3.0


def test_cli_is_bounded_too(tmp_path):
    done = subprocess.run([sys.executable, "-m", "webapp", "plot", "torch.eye(n=30000).sum() * x",
                           "--wrt", "x", "-o", str(tmp_path / "p.svg")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode != 0 and "larger than" in done.stderr


DESCENT_SCRIPT = """
import sys
from webapp import create_app
app = create_app({"TESTING": True, "WORKERS": 1})
page = app.test_client().get("/partials/descent?f=x*x&x=1&lr=0.1&steps=5").get_data(as_text=True)
app.extensions["chainrule"].pool.close()
print("data:image/svg+xml" in page, "matplotlib" in sys.modules)
"""


def test_descent_figures_are_drawn_in_a_worker():
    """Mutation: draw them in pages._descent_figures again (plots.data_uri): matplotlib
    is imported by the web process."""
    done = subprocess.run([sys.executable, "-c", DESCENT_SCRIPT], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr[-2000:]
