"""Where the sandbox cannot be built, the server says so at start-up, and serves no class.

Mutations seen failing: `if production or host not in LOOPBACK` → `if production` (another
host is served without walls); the CHAINRULE_UNCONFINED line dropped (the loopback user's
programs outside the interpreter's language are then refused in the worker).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from webapp.sandbox import isolation


@pytest.fixture()
def no_bubblewrap(monkeypatch):
    monkeypatch.setattr(isolation, "problem", lambda: "bubblewrap is not installed (apt-get install bubblewrap)")
    monkeypatch.delenv("CHAINRULE_UNCONFINED", raising=False)


@pytest.mark.parametrize("host, production", [("0.0.0.0", False), ("127.0.0.1", True),
                                              ("10.1.2.3", True)])
def test_a_class_is_not_served_without_walls(no_bubblewrap, host, production):
    with pytest.raises(isolation.NoWalls) as refused:
        isolation.walls_at_start(host, production)
    assert "apt-get install bubblewrap" in str(refused.value)
    assert "CHAINRULE_UNCONFINED" not in os.environ


def test_one_person_on_loopback_is_served_and_warned(no_bubblewrap, capsys):
    isolation.walls_at_start("127.0.0.1", False)
    assert os.environ.pop("CHAINRULE_UNCONFINED") == "1"
    assert "WARNING: no sandbox" in capsys.readouterr().err


@pytest.mark.skipif(isolation.problem() is not None, reason="no sandbox here")
def test_the_command_says_how_programs_are_walled_in():
    """`chainrule serve` as printed in the README, stopped once it has said it."""
    server = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--port", "0"],
                              stderr=subprocess.PIPE, text=True)
    try:
        first = server.stderr.readline()
    finally:
        server.kill()
        server.wait(timeout=10)
    assert "inside bubblewrap's namespaces" in first
