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
    that, or the module) assigns it, and the language does not define it; or when the
    module reads it before it first binds it (`x -= lr * x.grad` on an input).
    """
    found: list[tuple[int, int, str]] = []
    _collect_free(tree.body, [], found, read_before_bound(tree, bound_in(tree.body)))
    ordered: list[str] = []
    for _, _, name in sorted(found):
        if name not in LANGUAGE_NAMES and name not in ordered:
            ordered.append(name)
    return ordered


def _collect_free(body, enclosing: list[set], found: list, unbound: set = frozenset()) -> None:
    bound = bound_in(body) - unbound
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


def bound_in(body) -> set[str]:
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


def read_before_bound(tree: ast.Module, assigned: set) -> set[str]:
    """Module names the program reads before it first binds them (`y = (x - 3) ** 2` …
    `x -= lr * x.grad`): the program updates an input, as gradient descent on an input does.
    Events in the order Python runs them: an assignment's value before its targets, an
    augmented assignment as a read; nested functions, classes and comprehensions are
    scopes of their own. Only names in `assigned` (bound somewhere in the module) count."""
    events: list = []  # (line, col, order, name, is_read)

    def bind(name, node, at=None):
        line, col = at or (node.lineno, node.col_offset)
        events.append((line, col, len(events), name, False))

    def visit(node, at=None):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for child in [*node.decorator_list, *getattr(node, "bases", [])]:
                visit(child)
            bind(node.name, node)
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                events.append((node.lineno, node.col_offset, len(events), node.id, True))
            else:
                bind(node.id, node, at)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            end = (node.end_lineno, node.end_col_offset)
            source = node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node.value
            if source is not None:
                visit(source)
            for target in getattr(node, "targets", None) or [node.target]:
                visit(target, end if not isinstance(node, (ast.For, ast.AsyncFor)) else None)
            for child in [*getattr(node, "body", []), *getattr(node, "orelse", [])]:
                visit(child)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            events.append((node.lineno, node.col_offset, len(events), node.target.id, True))
            visit(node.value)
        elif isinstance(node, ast.ExceptHandler):
            if node.type is not None:
                visit(node.type)
            if node.name:
                bind(node.name, node)
            for child in node.body:
                visit(child)
        elif isinstance(node, ast.alias):
            bind((node.asname or node.name).split(".")[0], node)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, at)

    for statement in tree.body:
        visit(statement)
    first: dict = {}
    for _, _, _, name, read in sorted(events):
        first.setdefault(name, read)
    return {name for name, read in first.items() if read and name in assigned}


# Attributes that only an object other than an input tensor has (a module, a model, an
# optimizer): `loss.backward()` of a never-assigned `loss` is a slip to point at, not an
# input box. (`a.grad` stays an input's: its gradient read before backward is said as such.)
OBJECT_ATTRIBUTES = frozenset({"backward", "zero_grad", "step", "parameters", "named_parameters",
                               "apply", "forward", "state_dict", "train", "eval"})


def used_as_objects(tree: ast.Module) -> set[int]:
    """ids of Name nodes used as an object: called (`n(...)`), or with an attribute that
    only a module, a model or an optimizer has (`n.Linear`, `n.backward()`; not `W.T`)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                (node.attr in OBJECT_ATTRIBUTES or node.attr[:1].isupper() and len(node.attr) > 2):
            found.add(id(node.value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found.add(id(node.func))
    return found


def objects_only(tree: ast.Module, inputs: list[str]) -> list:
    """[Name node] of the free names used only as objects, never as values, at each one's
    first use: such a name has no value a student could give, so it is not an input."""
    objects = used_as_objects(tree)
    first: dict = {}
    values: set = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in inputs:
            if id(node) in objects:
                if node.id not in first or (node.lineno, node.col_offset) < \
                        (first[node.id].lineno, first[node.id].col_offset):
                    first[node.id] = node
            else:
                values.add(node.id)
    return sorted((n for name, n in first.items() if name not in values),
                  key=lambda n: (n.lineno, n.col_offset))
