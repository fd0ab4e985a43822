"""Which names a program reads before any scope assigns them: the function's inputs.

Read from the syntax tree only (never run), in order of first use, so the editor's
input boxes appear in the order a student wrote the names.
"""
from __future__ import annotations

import ast

from .names import LANGUAGE_NAMES


def find_inputs(tree: ast.Module) -> list[str]:
    """Free names of the program, in order of first use: the function's inputs.

    A name is free when no enclosing scope (the def it is used in, the defs around
    that, or the module) assigns it, and the language does not define it.
    """
    found: list[tuple[int, int, str]] = []
    _collect_free(tree.body, [], found)
    ordered: list[str] = []
    for _, _, name in sorted(found):
        if name not in LANGUAGE_NAMES and name not in ordered:
            ordered.append(name)
    return ordered


def _collect_free(body, enclosing: list[set], found: list) -> None:
    bound = _bound_in(body)
    if isinstance(body, ast.FunctionDef):
        bound |= {a.arg for a in body.args.args}
        body = body.body
    scopes = enclosing + [bound]
    for node in _walk_scope(body):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                and not any(node.id in scope for scope in scopes):
            found.append((node.lineno, node.col_offset, node.id))
        elif isinstance(node, ast.FunctionDef):
            _collect_free(node, scopes, found)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    _collect_free(item, scopes, found)


def _bound_in(body) -> set[str]:
    """Names one scope assigns: targets, defs, classes, imports (not nested defs' locals)."""
    statements = body.body if isinstance(body, ast.FunctionDef) else body
    bound: set[str] = set()
    for node in _walk_scope(statements):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
    return bound


def _walk_scope(statements):
    """Every node of a scope, stopping at (but yielding) nested defs and classes."""
    stack = list(reversed(statements))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            stack.extend(reversed(node.decorator_list))
            if isinstance(node, ast.ClassDef):
                stack.extend(reversed(node.bases))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
