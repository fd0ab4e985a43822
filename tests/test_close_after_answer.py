"""A worker closes a trace's tracer after the answer is written (recorder.close_later):
until then the records stay; after it, nothing of the job is left on any graph."""
from __future__ import annotations

from webapp.engine import recorder
from webapp.engine.job_state import JOB
from webapp.engine.evaluation import trace_program
from webapp.language.allocation import AllocationGuard
from webapp.limits import DEFAULT_LIMITS

# The program's own pass (from y) is the one shown; z's node lies outside it.
SOURCE = "y = x * 2\nz = y * 3\ny.backward()\nz"


def _trace():
    with AllocationGuard(DEFAULT_LIMITS):
        evaluation, _ = trace_program(SOURCE, {"x": 1.5}, None, DEFAULT_LIMITS)
    output = evaluation.output
    return output, output.grad_fn.next_functions[0][0]  # z's node, then y's


def test_in_a_worker_the_records_go_when_the_job_is_released(monkeypatch):
    """Mutation: close_open_tracers calls `tracer.close()` without the tracer's graph_of:
    the output's node (outside the pass shown) keeps its record after the job."""
    monkeypatch.setattr(JOB, "close_after_answer", True)
    z, y = _trace()
    assert recorder.KEY in z.grad_fn.metadata and recorder.KEY in y.metadata  # not yet
    recorder.close_open_tracers()
    assert recorder.KEY not in z.grad_fn.metadata
    assert recorder.KEY not in y.metadata
    assert not JOB.closing


def test_outside_a_worker_the_records_go_when_trace_program_returns():
    """Mutation: JobState.close_after_answer = True by default: the CLI's and the API's traces would
    leave their records (and hooks) on the graphs they return."""
    z, y = _trace()
    assert recorder.KEY not in z.grad_fn.metadata
    assert recorder.KEY not in y.metadata
