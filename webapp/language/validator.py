"""Parse user text with `ast` and refuse everything outside the language's whitelist.

Nothing here runs the text: it is read, checked node by node, and handed to the
interpreter as a tree. Every refusal names what was refused and where.
"""
from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

from ..errors import ChainruleError, interpreter_only, limit, slip, syntax, unsupported
from ..limits import DEFAULT_LIMITS, Limits
from ..memo import MiB, bytes_bounded
from .free_names import find_inputs
from .loop_exits import never_ends
from .student_terms import power_hint
from .name_slips import refuse_unknown_functions as _refuse_unknown_functions
from .names import ALLOWED_IMPORTS

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

# Node types the interpreter understands. Anything else is refused by name below.
ALLOWED_NODES = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.While, ast.For,
    ast.Break, ast.Continue, ast.Pass, ast.FunctionDef, ast.Return, ast.With,
    ast.withitem, ast.ClassDef, ast.arguments, ast.arg, ast.Name, ast.Load, ast.Store,
    ast.Constant, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.keyword,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.IfExp,
    ast.Import, ast.ImportFrom, ast.alias,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult,
    ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot,
)

# What we say about each construct we refuse, so the message names it.
REFUSED = {
    ast.Lambda: "`lambda` is", ast.JoinedStr: "f-strings are", ast.FormattedValue: "f-strings are",
    ast.GeneratorExp: "Generator expressions are", ast.ListComp: "List comprehensions are",
    ast.SetComp: "Set comprehensions are", ast.DictComp: "Dict comprehensions are",
    ast.Yield: "`yield` is", ast.YieldFrom: "`yield from` is", ast.Await: "`await` is",
    ast.Try: "`try` is", ast.Raise: "`raise` is", ast.Global: "`global` is",
    ast.Nonlocal: "`nonlocal` is", ast.Delete: "`del` is", ast.Dict: "Dictionaries are",
    ast.Set: "Sets are", ast.Starred: "`*` unpacking is", ast.NamedExpr: "`:=` is",
    ast.AsyncFunctionDef: "`async def` is", ast.AsyncFor: "`async for` is",
    ast.AsyncWith: "`async with` is", ast.Assert: "`assert` is", ast.AnnAssign: "Annotations are",
    ast.LShift: "The `<<` operator is", ast.RShift: "The `>>` operator is",
    ast.BitOr: "The `|` operator is", ast.BitAnd: "The `&` operator is",
    ast.BitXor: "The `^` operator is", ast.Invert: "The `~` operator is",
    ast.In: "`in` tests are", ast.NotIn: "`not in` tests are", ast.Match: "`match` is",
}
HINTS = {ast.BitXor: power_hint}  # `x^3`, the commonest slip: said with the student's own power
if hasattr(ast, "TryStar"):
    REFUSED[ast.TryStar] = "`try` is"

# Characters students paste from slides and textbooks, with what they meant.
LOOKALIKES = {"\u2212": "-", "\u00d7": "*", "\u00b2": "**2", "\u00b3": "**3",
              "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
              "\u00b7": "*", "\u2013": "-", "\u00a0": "a plain space", "\u03c0": "math.pi"}


@dataclass
class Program:
    """A checked program: its tree and the names a request must give values for."""

    tree: ast.Module
    inputs: list[str]


@bytes_bounded(16 * MiB)
def parse_program(source: str, limits: Limits = DEFAULT_LIMITS) -> Program:
    """Check the text, parse it and walk the tree; raise ChainruleError on any refusal.

    Cached: plots and gradient descent run the same source hundreds of times.
    """
    _check_text(source, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid escape sequence": not the student's problem here
            tree = ast.parse(source, mode="exec")
    except SyntaxError as exc:
        raise syntax_error(exc) from None
    except (RecursionError, MemoryError, ValueError):
        raise limit("This function is nested too deeply to read.") from None
    _Checker(limits, source).visit(tree)
    if not tree.body:
        raise syntax("Type a function first, for example sin(x).")
    inputs = find_inputs(tree)
    _refuse_unknown_functions(tree, inputs)
    return Program(tree=tree, inputs=inputs)


def _check_text(source: str, limits: Limits, ascii_only: bool = True) -> None:
    if not source.strip():
        raise syntax("Type a function first, for example sin(x).")
    if len(source) > limits.max_source_chars:
        raise limit(f"The function is longer than {limits.max_source_chars:,} characters.")
    if "\x00" in source:
        line = source.count("\n", 0, source.index("\x00")) + 1
        raise ChainruleError("syntax", "The text contains a NUL character.", line, 1)
    lines = source.split("\n")
    if len(lines) > limits.max_lines:
        raise limit(f"The function has more than {limits.max_lines} lines.")
    for number, text in enumerate(lines, start=1):
        if len(text) > limits.max_line_chars:
            raise ChainruleError("limit", f"Line {number} is longer than "
                                 f"{limits.max_line_chars:,} characters.", number, 1)
        # CPython (ascii_only=False) reads strings and names in any script.
        for col, char in enumerate(text if ascii_only else "", start=1):
            if ord(char) > 127 and not _inside_comment(text, col - 1):
                hint = LOOKALIKES.get(char)
                message = f"The character '{char}' (U+{ord(char):04X}) is not plain ASCII"
                message += f"; did you mean {hint}?" if hint else "; use plain ASCII letters and symbols."
                raise ChainruleError("syntax", message, number, col)


def _inside_comment(text: str, index: int) -> bool:
    """True when position `index` is after a `#` (non-ASCII is harmless in comments)."""
    hash_at = text.find("#")
    return 0 <= hash_at < index


def syntax_error(exc: SyntaxError) -> ChainruleError:
    message = exc.msg or "invalid syntax"
    if message == "invalid syntax":
        message = "Python cannot read this line: check for a missing bracket or operator."
    elif message == "invalid decimal literal":  # `2x`: a number written against a name
        message = "A number runs into letters here: write `2*x` for 2 times x, `1.5e3` for 1500."
    else:
        message = f"Python cannot read this: {message}."
    return ChainruleError("syntax", message, exc.lineno, exc.offset)


class _Checker(ast.NodeVisitor):
    """Visit every node; refuse unknown kinds, bad names, and oversized trees."""

    def __init__(self, limits: Limits, source: str | None = None):
        self.limits = limits
        self.source = source  # the text as typed, for hints in the student's own words
        self.count = 0
        self.depth = 0
        self.placed = None  # the innermost node with a position: an operator has none itself

    def visit(self, node):
        self.count += 1
        if self.count > self.limits.max_ast_nodes:
            raise limit(f"The function has more than {self.limits.max_ast_nodes:,} parts.", node)
        self.depth += 1
        outer, self.placed = self.placed, node if hasattr(node, "lineno") else self.placed
        try:
            if self.depth > self.limits.max_ast_depth:
                raise limit("This function is nested too deeply.", self.placed)
            if type(node) in REFUSED:
                refusal = slip if type(node) in HINTS else unsupported  # `x^2`: said, not run
                hint = HINTS[type(node)](self.placed, self.source) if type(node) in HINTS else ""
                raise refusal(f"{REFUSED[type(node)]} not part of the function language.{hint}",
                              self.placed)
            if not isinstance(node, ALLOWED_NODES):
                raise unsupported(f"`{type(node).__name__}` is not part of the function language.", self.placed)
            method = getattr(self, "check_" + type(node).__name__, None)
            if method:
                method(node)
            self.generic_visit(node)
        finally:
            self.depth -= 1
            self.placed = outer

    # -- names -------------------------------------------------------------
    def _name(self, name: str, node, what: str = "name") -> None:
        if name.startswith("_"):
            raise unsupported(f"Names starting with an underscore (`{name}`) are not allowed.", node)
        if not IDENTIFIER.match(name):
            raise syntax(f"`{name}` is not a valid {what}.", node)

    def check_Name(self, node):
        self._name(node.id, node)

    def check_Attribute(self, node):
        self._name(node.attr, node, "attribute")

    def check_keyword(self, node):
        if node.arg is None:
            raise unsupported("`**` unpacking is not part of the function language.", node)
        self._name(node.arg, node, "keyword")

    def check_arg(self, node):
        self._name(node.arg, node, "argument")
        if node.annotation is not None:
            raise unsupported("Annotations are not part of the function language.", node)

    def check_Constant(self, node):
        value = node.value
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int):
            if abs(value) > self.limits.max_int_literal:
                raise limit("This number is too large.", node)
        elif isinstance(value, float):
            return
        elif isinstance(value, str):
            if len(value) > self.limits.max_string_chars:
                raise interpreter_only(f"Strings are limited to {self.limits.max_string_chars} "
                                       "characters.", node)
        else:
            raise unsupported(f"{type(value).__name__} values are not part of the function language.", node)

    # -- statements --------------------------------------------------------
    def check_FunctionDef(self, node):
        self._name(node.name, node, "function name")
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults \
                or args.kw_defaults:
            raise unsupported("Functions take plain positional arguments only (no defaults, *args or **kwargs).", node)
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Name) and decorator.id == "staticmethod"
                    and getattr(node, "_in_autograd_class", False)):
                raise unsupported("Decorators are not part of the function language.", decorator)
        if node.returns is not None:
            raise unsupported("Annotations are not part of the function language.", node)

    def check_ClassDef(self, node):
        self._name(node.name, node, "class name")
        if node.keywords or node.decorator_list or len(node.bases) != 1 \
                or ast.unparse(node.bases[0]) not in ("torch.autograd.Function", "Function",
                                                      "autograd.Function"):
            raise unsupported("The only classes allowed are custom autograd functions: "
                              "class Name(torch.autograd.Function).", node)
        names = []
        for item in node.body:
            if isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant) \
                    and isinstance(item.value.value, str):
                continue  # a docstring
            if isinstance(item, ast.Pass):
                continue
            if not (isinstance(item, ast.FunctionDef) and item.name in ("forward", "backward")
                    and [ast.unparse(d) for d in item.decorator_list] == ["staticmethod"]):
                raise unsupported("An autograd Function's body is two @staticmethods, "
                                  "forward(ctx, ...) and backward(ctx, grad_output).", item)
            if not item.args.args or item.args.args[0].arg != "ctx":
                raise unsupported(f"{item.name} must take ctx as its first argument.", item)
            item._in_autograd_class = True
            names.append(item.name)
        if sorted(names) != ["backward", "forward"]:
            raise unsupported("An autograd Function needs both forward and backward.", node)

    def check_Import(self, node):
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                raise unsupported(f"`import {alias.name}` is not part of the function language; "
                                  "torch and math are already there.", node)

    def check_ImportFrom(self, node):
        if node.level or node.module not in ALLOWED_IMPORTS:
            raise unsupported(f"`from {node.module} import ...` is not part of the function language; "
                              "torch and math are already there.", node)
        for alias in node.names:
            if alias.name == "*" or f"{node.module}.{alias.name}" not in ALLOWED_IMPORTS:
                raise unsupported(f"`from {node.module} import {alias.name}` is not part of the "
                                  "function language.", node)

    def check_alias(self, node):
        if node.asname:
            self._name(node.asname, node)

    def check_With(self, node):
        for item in node.items:
            if item.optional_vars is not None:
                raise unsupported("`with ... as` is not part of the function language.", node)

    def check_For(self, node):
        if node.orelse:
            raise unsupported("`for ... else` is not part of the function language.", node)

    def check_While(self, node):
        if node.orelse:
            raise unsupported("`while ... else` is not part of the function language.", node)
        if never_ends(node):
            raise limit("This loop would never end: its condition is always true, and nothing "
                        "in it leaves the loop (`break` or `return`).", node)

    def check_Assign(self, node):
        for target in node.targets:
            _check_target(target)

    def check_AugAssign(self, node):
        _check_target(node.target)


ASSIGNABLE_TENSOR_ATTRIBUTES = frozenset({"grad", "data", "requires_grad"})


def _check_target(target) -> None:
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _check_target(element)
    elif isinstance(target, ast.Attribute):
        if not (isinstance(target.value, ast.Name) and target.value.id == "ctx") \
                and target.attr not in ASSIGNABLE_TENSOR_ATTRIBUTES:
            raise unsupported("Only names, indexed tensors, ctx attributes and a tensor's "
                              "`.grad`, `.data` or `.requires_grad` can be assigned to.", target)
    elif not isinstance(target, (ast.Name, ast.Subscript)):
        raise unsupported("Only names and indexed tensors can be assigned to.", target)
