"""Loops: whether one can end before its iterable runs out, read from its text alone; and
the loops running now.

A loop with no `break` of its own and no `return` must run to the end: a `for` over a
range longer than the loop budget, or a `while True:`, can be refused before it runs.
A job stopped at its deadline says which loop it was in: the interpreters keep
`ACTIVE_LOOPS`, and the worker's signal handler reads it (engine/job_state.py), without
torch, which this module does not import.
"""
from __future__ import annotations

import ast

# The loops running now, innermost last, as [loop node, turns so far]. One job runs at a time
# in a process; engine/job_state.JOB.begin() empties the list before each.
ACTIVE_LOOPS: list[list] = []

# Nodes whose insides cannot end the loop: a nested function's `return` is its own, and
# a nested loop's `break` ends that loop.
_OWN_SCOPE = (ast.FunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.While)


def can_leave_early(loop: ast.For | ast.While) -> bool:
    """True when the loop's body holds a `break` of its own or a `return` (cached on the node)."""
    known = getattr(loop, "_chainrule_exits", None)
    if known is None:
        known = any(_exits(statement, own_loop=True) for statement in loop.body)
        loop._chainrule_exits = known
    return known


def _exits(node: ast.AST, own_loop: bool) -> bool:
    if isinstance(node, ast.Return):
        return True
    if isinstance(node, ast.Break):
        return own_loop
    if isinstance(node, _OWN_SCOPE):
        return False
    inner = own_loop and not isinstance(node, _LOOPS)
    return any(_exits(child, inner) for child in ast.iter_child_nodes(node))


def never_ends(loop: ast.While) -> bool:
    """`while True:` (or any constant true condition) with no way out of its body."""
    test = loop.test
    return isinstance(test, ast.Constant) and bool(test.value) and not can_leave_early(loop)
