"""Which front end reads a source: Python (`validator.parse_program`) or R (translated).

A job names its language, or it is detected (`detect_language`). The language of the
job being run is held in a context variable, so every module that parses a source
(`parse_source`) reads it the same way without a new argument everywhere.
An R program is parsed, translated to the interpreter's own `ast.Module`, and then
checked by the same validator as Python, which in R programs alone also lets through
the `_r_` helpers the translator emits (and the interpreter then offers them).
"""
from __future__ import annotations

import ast
import contextlib
import contextvars
import dataclasses
import functools
import io
import re
import tokenize
from dataclasses import dataclass

from ..errors import ChainruleError, bad_input, syntax
from ..limits import DEFAULT_LIMITS, Limits
from ..memo import MiB, bytes_bounded
from . import validator
from .free_names import find_inputs
from .r_parser import parse_r

LANGUAGES = ("python", "r")
R_PREFIX = "_r_"


@functools.lru_cache(maxsize=1)
def r_helpers() -> frozenset:
    """The `_r_` names the translator emits. The R runtime and translator import torch:
    loaded with the first R program, so Python text parses without torch (the CLI's own
    process, which hands the running to a worker)."""
    from .r_runtime import make_helpers
    return frozenset(make_helpers([], 0))
_language = contextvars.ContextVar("chainrule_language", default=None)

# Signs of R: `x <- `, `torch_`, `$`, `function(`, TRUE/FALSE, `%%`, library().
R_SIGNS = re.compile(r"<-|->|\btorch_\w+\(|\$|\bfunction\s*\(|\bTRUE\b|\bFALSE\b|%%|%/%|%\*%"
                     r"|\blibrary\(|\bwith_no_grad\(|\bautograd_")


@dataclass
class RProgram(validator.Program):
    """A checked R program: the translated tree, plus the Python it became (for the page)."""

    python: str = ""
    language: str = "r"
    engine: str = "interpreter"  # "cpython": translated for CPython (parse_r_for_cpython)
    loops: dict = dataclasses.field(default_factory=dict)  # (line of a loop) -> its node


def detect_language(source: str) -> str:
    """"r" when the text reads as R and not as Python, else "python"."""
    if not R_SIGNS.search(source):
        return "python"
    try:
        ast.parse(source)
        names = {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                 if t.type == tokenize.NAME}
    except (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError):
        return "r"
    # Python too: `$` can only be inside a string there. `x <- 1` is also Python (x < -1),
    # but a line that starts like an R assignment is R; so are TRUE and torch_ calls.
    if names & {"TRUE", "FALSE"} or any(n.startswith("torch_") for n in names) \
            or re.search(r"^\s*[A-Za-z][\w.]*\s*<-", source, re.M):
        return "r"
    return "python"


def choose_language(language, source: str) -> str:
    """The job's language: the one asked for, else detected."""
    if language in (None, ""):
        return detect_language(source)
    if isinstance(language, str):
        language = language.lower()  # "R" as R users write it
    if language not in LANGUAGES:
        raise bad_input('language must be "python" or "r".')
    return language


@contextlib.contextmanager
def source_language(language):
    """Within this block, sources are read as `language` (None: as Python, unless a job
    detects otherwise)."""
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def current_language():
    """The language set by an enclosing `source_language` (the CLI's --language), or None."""
    return _language.get()


_open = contextvars.ContextVar("chainrule_open_python", default=False)


@contextlib.contextmanager
def as_cpython():
    """Within this block, Python sources are read for CPython (open_python.py), not for
    chainrule's interpreter: a job whose program the interpreter refused runs again so."""
    token = _open.set(True)
    try:
        yield
    finally:
        _open.reset(token)


def parse_source(source: str, limits: Limits = DEFAULT_LIMITS):
    """The checked program of `source` in the current job's language."""
    if _open.get() and _language.get() == "r":
        return parse_r_for_cpython(source, limits)
    if _open.get():
        from .open_python import parse_open_program
        validator._check_text(source, limits, ascii_only=False)
        return parse_open_program(source, limits)
    if _language.get() == "r":
        return parse_r_program(source, limits)
    return validator.parse_program(source, limits)


class _RChecker(validator._Checker):
    """The Python checker, letting through exactly the translator's `_r_` helpers."""

    def _name(self, name, node, what="name"):
        if name in r_helpers():
            return
        super()._name(name, node, what)


@bytes_bounded(16 * MiB)
def parse_r_program(source: str, limits: Limits = DEFAULT_LIMITS) -> RProgram:
    """Read R text, translate it and check the result like any Python program."""
    from .r_translate import translate
    validator._check_text(source, limits)
    try:
        tree = translate(parse_r(source))
    except RecursionError:
        raise ChainruleError("limit", "This function is nested too deeply to read.") from None
    if not tree.body:
        raise syntax("Type a function first, for example sin(x).")
    try:
        _RChecker(limits).visit(tree)
    except RecursionError:
        raise ChainruleError("limit", "This function is nested too deeply to read.") from None
    inputs = [n for n in find_inputs(tree) if n not in r_helpers()]
    validator._refuse_unknown_functions(tree, inputs)
    try:
        python = ast.unparse(tree)
    except (RecursionError, ValueError):
        python = ""
    return RProgram(tree=tree, inputs=inputs, python=python)


@bytes_bounded(16 * MiB)
def parse_r_for_cpython(source: str, limits: Limits = DEFAULT_LIMITS) -> RProgram:
    """R text the interpreter refused, translated for real CPython in the sandbox: every
    construct the translator knows (nn_module, optim_*, default arguments, ...), run
    with the `_r_` helpers as globals (sandbox/cpython/world.py). Positions are R's."""
    from .loop_exits import never_ends
    from .r_translate import translate
    validator._check_text(source, limits)
    try:
        tree = translate(parse_r(source), cpython=True)
    except RecursionError:
        raise ChainruleError("limit", "This function is nested too deeply to read.") from None
    if not tree.body:
        raise syntax("Type a function first, for example sin(x).")
    loops = {}
    for count, node in enumerate(ast.walk(tree)):
        if count > limits.max_ast_nodes:
            raise ChainruleError("limit", f"The function has more than {limits.max_ast_nodes:,} "
                                 "parts.").at(node)
        if isinstance(node, ast.While) and never_ends(node):
            raise ChainruleError("limit", "This loop would never end: its condition is always "
                                 "true, and nothing in it leaves the loop (`break` or "
                                 "`return`).").at(node)
        if isinstance(node, (ast.For, ast.While)):
            loops[node.lineno] = node
    inputs = [n for n in find_inputs(tree) if n not in r_helpers()]
    try:
        python = ast.unparse(tree)
    except (RecursionError, ValueError):
        python = ""
    return RProgram(tree=tree, inputs=inputs, python=python, engine="cpython", loops=loops)


def install_helpers(program, interpreter) -> None:
    """Offer the `_r_` helpers to an interpreter running a translated R program only."""
    if getattr(program, "language", "python") == "r":
        interpreter.numbers_as_tensors = True  # R's torch_sin(2) takes the number as a tensor
        from .r_runtime import make_helpers
        interpreter.language.update(make_helpers(interpreter.prints, interpreter.limits.max_prints,
                                                 interpreter))


# PyTorch's hints name Python spellings; an R user reads R's.
R_WORDING = {"`with torch.no_grad():`": "`with_no_grad({ ... })`",
             "retain_graph=True": "retain_graph = TRUE", "requires_grad=True": "requires_grad = TRUE",
             # pasted characters (validator.LOOKALIKES): R's power is `^`, its pi is `pi`
             "did you mean **2?": "did you mean ^2?", "did you mean **3?": "did you mean ^3?",
             "did you mean math.pi?": "did you mean pi?"}


def in_language(error: ChainruleError, language) -> ChainruleError:
    """The error, its Python spellings replaced by R's when the source was R."""
    if language == "r":
        for python, r in R_WORDING.items():
            error.message = error.message.replace(python, r)
    return error
