"""Jobs are plain functions: a job's fields are bound to the function's signature."""
from __future__ import annotations

from webapp.engine.jobs import handle


def test_a_field_no_job_takes_is_refused_not_ignored():
    """Mutation: in jobs._arguments, drop the unknown fields instead of binding them
    (`fields = {k: v for k, v in fields.items() if k in signature.parameters}`): the
    misspelled `stepp` would be ignored and the answer computed at the default step."""
    answer = handle({"kind": "check", "source": "x * x", "inputs": {"x": 2.0}, "stepp": 0.1})
    assert answer["error"]["kind"] == "input"
    assert "'check' does not take the fields" in answer["error"]["message"]


def test_the_fields_reach_the_function():
    """Mutation: `float(step)` -> `1e-3` in job_check: the difference at h = 0.5 of x³ at 1
    would then be 3.000001, not (1.5³ − 0.5³) / 1 = 3.25."""
    answer = handle({"kind": "check", "source": "x ** 3", "inputs": {"x": 1.0}, "step": 0.5})
    assert [row["central"] for row in answer["ok"]["rows"]] == [(1.5 ** 3 - 0.5 ** 3) / 1.0]
