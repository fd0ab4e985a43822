"""A job's child warms itself up only when a core is idle now and was over the last minute.

The 1-minute load average lags a class's opening burst by half a minute: children kept
warming up (7 ms of CPU each) while every core was needed. The processes running now say
it at once.

Mutation seen failing: drop `and running < cores` from worker.core_to_spare (the burst).
"""
from __future__ import annotations

import builtins
import io

import pytest

from webapp.sandbox import worker


@pytest.mark.parametrize("loadavg, spare", [
    ("0.20 0.30 0.40 1/300 4242", True),    # a quiet machine: this child alone runs
    ("0.20 0.30 0.40 5/300 4242", False),   # a burst that the average has not seen yet
    ("3.50 2.00 1.00 1/300 4242", False),   # busy over the last minute
    ("not a load average", False),
])
def test_a_core_to_spare(monkeypatch, loadavg, spare):
    real_open = builtins.open

    def fake_open(path, *args, **kwargs):
        return io.StringIO(loadavg) if path == "/proc/loadavg" else real_open(path, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 2)
    assert worker.core_to_spare() is spare
