"""Misconception guards for a program that FAILED: the syntax tree's guards, plus the one
PyTorch's refusal itself proves (a non-scalar backward), which the tree alone cannot see."""
from __future__ import annotations

import ast

from .guards import MESSAGES, find_guards

SCALAR_ONLY = "only for scalar outputs"


def _receiver_at(source: str, line: int | None) -> str | None:
    """The name `y` in `y.backward()` on the error's line."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "backward" and node.lineno == line \
                and isinstance(node.func.value, ast.Name):
            return node.func.value.id
    return None


def guards_for_error(source: str, error) -> list[dict]:
    """[{line, kind, message}] for a refused program, in line order; [] when the source is
    too deep or large to walk (a hostile program's refusal must stay a refusal, never a 500)."""
    try:
        return _guards(source, error)
    except (RecursionError, MemoryError, SyntaxError, ValueError):
        return []


def _guards(source: str, error) -> list[dict]:
    found = find_guards(source)
    if SCALAR_ONLY in (error.message or "") and not any(g["kind"] == "non-scalar-backward" for g in found):
        name = _receiver_at(source, error.line)
        if name:
            found.append({"line": error.line, "kind": "non-scalar-backward",
                          "message": MESSAGES["non-scalar-backward"].format(name=name)})
    return sorted(found, key=lambda g: (g["line"] or 0, g["kind"]))
