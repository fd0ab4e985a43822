"""Runaway loops get one sentence that names the loop, before running when the text shows it.

From outside use (review3): `for i in range(10**9)` held a worker for the whole deadline,
`while True: y = y * 1` was stopped with a sentence about memory, and nothing said which
loop to look at.
"""
from __future__ import annotations

import ast

import pytest

from webapp.engine.jobs import handle
from webapp.language.loop_exits import can_leave_early, never_ends
from webapp.sandbox import worker

from .test_deadline_landing import deadline_signal  # noqa: F401 - a fixture


# Tests of the loop budget, not of the deadline: a deadline no busy machine reaches (two
# CPU-bound processes beside the suite once stopped the 200,000-turn loop at 965 turns).
UNHURRIED = 120.0


def run(source: str, deadline: float = UNHURRIED, language: str = "python") -> dict:
    return worker.run_job(handle, {"kind": "trace", "source": source, "language": language,
                                   "inputs": {"x": 1.0}, "deadline": deadline})


def loop_of(source: str):
    return next(node for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.For, ast.While)))


@pytest.mark.parametrize("source, leaves", [
    ("while True:\n    y = 1\n", False),
    ("while True:\n    if y:\n        break\n", True),
    ("while True:\n    for i in range(3):\n        break\n", False),  # the inner loop's break
    ("while True:\n    def g():\n        return 1\n", False),  # g's return, not the loop's
    ("def f():\n    while True:\n        return 1\n", True),
    ("while True:\n    for i in range(3):\n        return 1\n", True),  # return leaves both
    ("for i in range(9):\n    while y:\n        break\n    y = 2\n", False),
])
def test_a_loop_can_leave_early_only_by_its_own_break_or_a_return(source, leaves):
    """Mutations seen failing: count a nested loop's `break` (drop `_LOOPS`); count a nested
    function's `return` (drop `ast.FunctionDef` from `_OWN_SCOPE`)."""
    assert can_leave_early(loop_of(source)) is leaves


def test_while_true_without_a_way_out_is_refused_before_it_runs(deadline_signal):
    """Mutation: `never_ends` returning False: the loop runs into the deadline instead."""
    for source, language, line in [("y = x\nwhile True:\n    y = y * 1\ny", "python", 2),
                                   ("y <- x\nrepeat {\n  y <- y * 1\n}\ny", "r", 2),
                                   ("y <- x\nwhile (TRUE) {\n  y <- y * 1\n}\ny", "r", 2)]:
        error = run(source, deadline=0.5, language=language)["error"]
        assert error["message"].startswith("This loop would never end"), error
        assert (error["kind"], error["line"]) == ("limit", line)
    assert never_ends(loop_of("while 1:\n    pass\n"))
    assert not never_ends(loop_of("while 0:\n    pass\n"))


def test_a_range_longer_than_the_loop_budget_is_refused_before_its_first_turn(deadline_signal):
    """The refusal comes before any turn: nothing is printed.

    Mutation: drop the `loop_length` call in exec_For: the loop prints and runs until
    the loop budget or the deadline stops it."""
    answer = run("y = x\nfor i in range(10**9):\n    print(i)\n    y = y + 1\ny")
    error = answer["error"]
    assert (error["kind"], error["line"]) == ("limit", 2)
    assert error["message"] == ("This loop would turn 1,000,000,000 times; the loops may "
                                "run 200,000 times in all.")
    error = run("y <- x\nfor (i in 1:1000000000) {\n  y <- y + 1\n}\ny", language="r")["error"]
    assert "would turn 1,000,000,000 times" in error["message"]


def test_a_long_range_that_may_break_early_still_runs(deadline_signal):
    """Oracle: plain Python runs the same loop."""
    source = "y = x\nfor i in range(10**9):\n    if i > 3:\n        break\n    y = y + 1\ny"
    expected = 1.0
    for i in range(10**9):
        if i > 3:
            break
        expected = expected + 1
    assert run(source)["ok"]["result"]["value"] == expected


def test_a_loop_stopped_at_the_deadline_is_named_with_its_turns(deadline_signal):
    """Mutation: never set `stopped_in` in _on_deadline: the sentence names no loop."""
    source = "y = x\nfor j in range(3):\n    for i in range(100000):\n        y = y * 1.0\ny"
    error = run(source, deadline=0.3)["error"]
    assert error["message"].startswith("This function took longer than 0.3 seconds, so it was "
                                       "stopped in the loop on line 3, after ")
    turns = int(error["message"].split("after ")[1].split(" ")[0].replace(",", ""))
    assert 0 < turns < 100000
    assert (error["line"], error["col"]) == (3, 5)
    assert "ok" in run("torch.ones(3)")  # the next job starts clean


def test_the_loop_named_is_the_one_running_not_one_that_finished(deadline_signal):
    """The loop on line 5 runs when time runs out; the finished one on line 2 is not named.
    Mutation seen failing: never set `stopped_in` in _on_deadline (no loop is named)."""
    source = ("y = x\nfor i in range(3):\n    y = y * 1.0\nk = 0\nwhile k < 10**9:\n"
              "    k = k + 1\ny")
    error = run(source, deadline=0.3)["error"]
    assert "in the loop on line 5" in error["message"], error


def test_an_inner_loop_past_the_budget_says_the_turns_already_taken(deadline_signal):
    """review4: a 1000 × 1000 nested loop was told "This loop would turn 1,000 times; the
    loops may run 200,000 times in all", as if 1,000 alone were too many. Oracle: counting
    the turns as Python would take them (one per outer turn, 1,000 per inner loop).
    Mutation seen failing: drop the second branch of Budget.loop_length (the old sentence)."""
    source = "y = x\nfor i in range(1000):\n    for j in range(1000):\n        y = y\ny"
    taken = 0
    for i in range(1000):
        taken += 1
        if 1000 > 200_000 - taken:
            break
        taken += 1000
    error = run(source)["error"]
    assert error["message"] == (f"This loop would turn 1,000 more times after the {taken:,} turns "
                                "the loops already took: more than the 200,000 they may take in all.")
    assert (error["line"], error["col"]) == (3, 5)


def test_a_graph_too_large_to_draw_unfolded_says_what_folding_would_allow():
    """review4 read "…more than chainrule traces unfolded; folding its repeated structure
    (a loop body), it takes up to 20,000." as a garbled sentence. Oracle: the graph plain
    PyTorch records for the same loop, walked from its grad_fn, has more than 3,000 nodes.
    Mutation seen failing: the old wording back in tracing.walk."""
    import torch
    source = "y = x\nfor i in range(1600):\n    y = torch.sin(y) * x\ny"
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1600):
        y = torch.sin(y) * x
    seen, stack = set(), [y.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is not None and fn not in seen:
            seen.add(fn)
            stack += [f for f, _ in fn.next_functions]
    assert len(seen) > 3000
    error = handle({"kind": "trace", "source": source, "inputs": {"x": 1.0}})["error"]
    assert error["message"] == ("The graph has more than 3,000 operations, more than chainrule "
                                "draws one by one; folded (a repeated loop body drawn once, "
                                "`fold=1`) it can draw up to 20,000.")


def test_a_finished_loop_is_no_longer_the_one_a_stop_would_name():
    """After the loop on line 2 has finished, a deadline firing in the lines after it must
    name no loop: the list the deadline handler reads holds no loop then. (Read directly:
    how long the lines after a loop take depends on the machine.) Mutation seen failing:
    drop the `ACTIVE_LOOPS.pop()` in exec_For (the finished loop would be named)."""
    from webapp.engine.job_state import JOB
    JOB.begin()
    answer = handle({"kind": "trace", "source": "y = x\nfor i in range(3):\n    y = y * 1.0\ny",
                     "inputs": {"x": 1.0}})
    assert "ok" in answer
    assert JOB.innermost_loop() is None
