"""Programs chainrule's own interpreter does not speak, read for running as real CPython.

A course's cell uses f-strings, `nn.Module`, `optim.SGD`, comprehensions, keyword
arguments, `import random`… The interpreter's language (validator.py) refuses those; such
a program is read here instead and run by CPython itself, in the sandbox only
(sandbox/cpython.py). Nothing here runs the text: it is parsed, and what is refused is
refused before it runs, with a sentence:

- imports outside the allow-list (for a clear sentence, not for safety: the sandbox is
  the OS's);
- a `while True:` with no way out (loop_exits.py).

The inputs are the free names Python's own `symtable` finds, in order of first use; only
names used as values become inputs: a name used only as an object (`loss.backward()`,
`nn.Linear`) and never assigned is left to fail at its line, as PyTorch would.
"""
from __future__ import annotations

import ast
import builtins
import symtable
import warnings
from dataclasses import dataclass, field

from ..errors import limit, syntax, unsupported
from ..limits import Limits
from ..memo import MiB, bytes_bounded
from .free_names import read_before_bound, used_as_objects
from .loop_exits import never_ends
from .names import LANGUAGE_NAMES

# Top-level modules a program may import, said in the refusal of any other.
ALLOWED_MODULES = ("torch", "math", "random", "functools", "itertools", "collections",
                   "dataclasses", "typing", "pprint", "numpy", "operator", "copy", "statistics",
                   "string", "textwrap", "enum", "abc", "numbers", "fractions", "decimal",
                   "warnings", "time", "__future__")
PYTHON_NAMES = frozenset(dir(builtins))


def import_refusal(module: str) -> str:
    """The sentence for an import outside the allow-list."""
    return (f"`import {module}` is not available here: a program may import "
            f"{', '.join(m for m in ALLOWED_MODULES if m != '__future__')} "
            "(files, processes and the network are not reachable from chainrule).")


def module_allowed(module: str) -> bool:
    return module.split(".")[0] in ALLOWED_MODULES


@dataclass
class OpenProgram:
    """A program for CPython: its tree, inputs, and its loops' lines (for budgets)."""

    tree: ast.Module
    inputs: list[str]
    engine: str = "cpython"
    loops: dict = field(default_factory=dict)  # (line of the loop) -> its ast node


@bytes_bounded(16 * MiB)
def parse_open_program(source: str, limits: Limits) -> OpenProgram:
    """Parse and check a program for CPython; raise ChainruleError on a refusal."""
    from .validator import syntax_error
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="exec")
            table = symtable.symtable(source, "<program>", "exec")
    except SyntaxError as exc:
        raise syntax_error(exc) from None
    except (RecursionError, MemoryError, ValueError):
        raise limit("This function is nested too deeply to read.") from None
    if not tree.body:
        raise syntax("Type a function first, for example sin(x).")
    loops = {}
    count = 0
    for node in ast.walk(tree):
        count += 1
        if count > limits.max_ast_nodes:
            raise limit(f"The function has more than {limits.max_ast_nodes:,} parts.", node)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not module_allowed(alias.name):
                    raise unsupported(import_refusal(alias.name), node)
        elif isinstance(node, ast.ImportFrom):
            if node.level or not module_allowed(node.module or ""):
                raise unsupported(import_refusal(node.module or "."), node)
        elif isinstance(node, ast.While):
            if never_ends(node):
                raise limit("This loop would never end: its condition is always true, and "
                            "nothing in it leaves the loop (`break` or `return`).", node)
            loops[node.lineno] = node
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            loops[node.lineno] = node
    return OpenProgram(tree=tree, inputs=free_values(tree, table), loops=loops)


def free_values(tree: ast.Module, table: symtable.SymbolTable) -> list[str]:
    """Global names no scope binds, used as values at least once, in order of first use."""
    bound = _module_bound(table)
    free = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        stack.extend(scope.get_children())
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if symbol.is_referenced() and (scope is table or symbol.is_global()) \
                    and name not in bound:
                free.add(name)
    free |= read_before_bound(tree, {s.get_name() for s in table.get_symbols() if s.is_assigned()})
    free -= PYTHON_NAMES | LANGUAGE_NAMES
    objects = used_as_objects(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in free \
                and id(node) not in objects:
            found.append((node.lineno, node.col_offset, node.id))
    ordered: list[str] = []
    for _, _, name in sorted(found):
        if name not in ordered:
            ordered.append(name)
    return ordered


def _module_bound(table: symtable.SymbolTable) -> set[str]:
    return {s.get_name() for s in table.get_symbols()
            if s.is_assigned() or s.is_imported() or s.is_namespace()}
