"""Translate the R tree into the interpreter's own program: a Python `ast.Module`.

Every generated node carries the line and column of the R construct it came from, so
the validator's and the interpreter's errors point into the R text. R's meaning is
kept: 1-based indices, inclusive `a:b`, implicit return of a function's last value.
The few helpers R needs are named with the reserved prefix `_r_`, which the Python
validator refuses: only this translator can emit them (see frontend.r_helpers).
"""
from __future__ import annotations

import ast

from ..errors import ChainruleError
from .r_calls import CallTranslator, number
from .r_parser import Node

ASSIGNMENT = ("<-", "=", "->", "<<-", "->>")


def refuse(kind: str, message: str, node: Node) -> ChainruleError:
    return ChainruleError(kind, message, node.line, node.col)


def place(py, node: Node):
    """Give a generated node (and its unplaced children) the R position."""
    for child in ast.walk(py):
        if not hasattr(child, "lineno") or getattr(child, "lineno", None) is None:
            if isinstance(child, (ast.expr, ast.stmt, ast.arg, ast.keyword)):
                child.lineno, child.col_offset = node.line, node.col - 1
                child.end_lineno, child.end_col_offset = node.line, node.col
    return py


class Translator(CallTranslator):
    """One translation: the names the program defines, then statement by statement."""

    def __init__(self, body: list[Node], cpython: bool = False):
        super().__init__(cpython)
        self.nn_modules: set[str] = set()
        self.collect_definitions(body)

    def collect_definitions(self, body) -> None:
        stack = list(body)
        while stack:
            node = stack.pop()
            if node.kind == "binary" and node.value in ASSIGNMENT:
                target, value = self.sides(node)
                if target.kind == "name":
                    self.assigned.add(target.value)
                    if value.kind == "function":
                        self.functions.add(target.value)
                    if value.kind == "call" and value.children[0].kind == "name" \
                            and value.children[0].value == "autograd_function":
                        self.autograd.add(target.value)
                    if value.kind == "call" and value.children[0].kind == "name" \
                            and value.children[0].value == "nn_module":
                        self.nn_modules.add(target.value)
                    if value.kind == "call" and value.children[0].kind == "name" \
                            and value.children[0].value == "c":
                        self.vectors.add(target.value)
            if node.kind == "function":
                self.parameters.update(p.value for p in node.children[:-1])
            if node.kind == "for":
                self.assigned.add(node.value)
            stack.extend(child for child in node.children if isinstance(child, Node))

    @staticmethod
    def sides(node: Node):
        left, right = node.children
        return (right, left) if node.value in ("->", "->>") else (left, right)

    def module(self, body: list[Node]) -> ast.Module:
        statements = [s for node in body for s in self.statement(node)]
        return ast.Module(body=statements, type_ignores=[])

    # -- statements ---------------------------------------------------------------
    def statement(self, node: Node) -> list[ast.stmt]:
        kind = node.kind
        if kind == "binary" and node.value in ASSIGNMENT:
            return self.assignment(node)
        if kind == "block":
            return [s for child in node.children for s in self.statement(child)]
        if kind == "if":
            orelse = self.block(node.children[2]) if len(node.children) > 2 else []
            return [place(ast.If(test=self.expression(node.children[0]),
                                 body=self.block(node.children[1]), orelse=orelse), node)]
        if kind == "for":
            target = place(ast.Name(id=self.variable(node.value, node), ctx=ast.Store()), node)
            return [place(ast.For(target=target, iter=self.sequence(node.children[0]),
                                  body=self.block(node.children[1]), orelse=[]), node)]
        if kind == "while":
            return [place(ast.While(test=self.expression(node.children[0]),
                                    body=self.block(node.children[1]), orelse=[]), node)]
        if kind == "repeat":
            return [place(ast.While(test=ast.Constant(True), body=self.block(node.children[0]),
                                    orelse=[]), node)]
        if kind == "break":
            return [place(ast.Break(), node)]
        if kind == "next":
            return [place(ast.Continue(), node)]
        if kind == "call" and node.children[0].kind == "name":
            special = self.special_statement(node)
            if special is not None:
                return special
        return [place(ast.Expr(value=self.expression(node)), node)]

    def special_statement(self, node: Node):
        name, args = node.children[0].value, node.children[1:]
        if name == "library":
            if len(args) == 1 and args[0].kind in ("name", "str") and args[0].value == "torch":
                return [place(ast.Import(names=[ast.alias(name="torch")]), node)]
            package = args[0].value if args and args[0].kind in ("name", "str") else "..."
            raise refuse("unsupported", f"`library({package})` is not part of the language; "
                         "only library(torch) is read, and torch is already there.", node)
        if name == "with_no_grad":
            if len(args) != 1:
                raise refuse("syntax", "with_no_grad takes one block: with_no_grad({ ... }).", node)
            manager = ast.Call(func=ast.Attribute(value=ast.Name(id="torch", ctx=ast.Load()),
                                                  attr="no_grad", ctx=ast.Load()), args=[], keywords=[])
            self.no_grad += 1  # nothing is recorded in here: x$grad needs no name
            try:
                body = self.block(args[0])
            finally:
                self.no_grad -= 1
            return [place(ast.With(items=[ast.withitem(context_expr=manager)], body=body), node)]
        if name == "return":
            value = self.tail_return(self.expression(args[0])) if args else None
            return [place(ast.Return(value=value), node)]
        return None

    def block(self, node: Node) -> list[ast.stmt]:
        statements = self.statement(node)
        return statements or [place(ast.Pass(), node)]

    def assignment(self, node: Node) -> list[ast.stmt]:
        if node.value in ("<<-", "->>"):
            raise refuse("unsupported", f"`{node.value}` (assigning outside the function) is not "
                         "part of the language; return the value instead.", node)
        target, value = self.sides(node)
        if target.kind == "name" and value.kind == "function":
            return [self.function_def(target.value, value, node)]
        if target.kind == "name" and target.value in self.autograd:
            return [self.autograd_class(target.value, value, node)]
        if target.kind == "name" and target.value in self.nn_modules and self.cpython:
            return [self.module_class(target.value, value, node)]
        if target.kind == "name":
            py_target = ast.Name(id=self.variable(target.value, target), ctx=ast.Store())
        elif target.kind in ("index", "index2"):
            py_target = self.subscript(target, ast.Store())
        elif target.kind == "dollar" and target.children[0].kind == "name" \
                and (target.children[0].value == "ctx" or target.children[0].value == "self"
                     and self.cpython):
            py_target = ast.Attribute(value=ast.Name(id=target.children[0].value, ctx=ast.Load()),
                                      attr=target.value, ctx=ast.Store())
        elif target.kind == "dollar" and target.children[0].kind == "name":
            # `grads$input <- g`: the list is rebuilt with that element (R copies on write)
            owner = target.children[0]
            rebuilt = self.helper("_r_set_field", [self.expression(owner), ast.Constant(target.value),
                                                   self.assigned_value(value)])
            py_owner = place(ast.Name(id=self.variable(owner.value, owner), ctx=ast.Store()), owner)
            return [place(ast.Assign(targets=[py_owner], value=rebuilt), node)]
        else:
            raise refuse("unsupported", "Only names, indexed tensors and ctx fields can be "
                         "assigned to.", target)
        return [place(ast.Assign(targets=[place(py_target, target)],
                                 value=self.assigned_value(value)), node)]

    def assigned_value(self, value: Node) -> ast.expr:
        """`g <- x$grad` is named g, so the grad is read plainly there."""
        if value.kind == "dollar":
            return place(self.field(value, plain=True), value)
        return self.expression(value)

    # -- indexing --------------------------------------------------------------------
    def subscript(self, node: Node, ctx) -> ast.Subscript:
        container, *indices = node.children
        if any(node.names):
            raise refuse("unsupported", "Named arguments in [ ] (like drop = FALSE) are not "
                         "part of the language.", node)
        if not indices:
            raise refuse("syntax", "Give an index inside [ ].", node)
        parts = [self.index(i) for i in indices]
        index = parts[0] if len(parts) == 1 else ast.Tuple(elts=parts, ctx=ast.Load())
        return ast.Subscript(value=self.expression(container), slice=index, ctx=ctx)

    def index(self, node: Node) -> ast.expr:
        if node.kind == "name" and node.value == "..":  # R torch's x[.., 2]: Python's ...
            return place(ast.Constant(Ellipsis), node)
        if node.kind == "empty":
            return place(ast.Slice(lower=None, upper=None, step=None), node)
        if node.kind == "num":
            value = number(node)
            if value == int(value) and value >= 1:
                return place(ast.Constant(int(value) - 1), node)
        if node.kind == "binary" and node.value == ":":
            low, high = node.children
            if low.kind == high.kind == "num" and 1 <= number(low) <= number(high):
                return place(ast.Slice(lower=ast.Constant(int(number(low)) - 1),
                                       upper=ast.Constant(int(number(high))), step=None), node)
            return place(self.helper("_r_slice", [self.expression(low), self.expression(high)]), node)
        return place(self.helper("_r_i", [self.expression(node)]), node)

    # -- functions ------------------------------------------------------------------
    def function_def(self, name: str, function: Node, node: Node) -> ast.FunctionDef:
        *params, body = function.children
        defaults = []
        if any(default is not None for default in function.value):
            if not self.cpython:
                raise refuse("unsupported", "Default argument values are not part of the "
                             "language; pass every argument.", function)
            first = next(i for i, d in enumerate(function.value) if d is not None)
            if any(d is None for d in function.value[first:]):
                raise refuse("unsupported", "Arguments with default values come after the "
                             "others here.", function)
            defaults = [self.expression(d) for d in function.value[first:]]
        arguments = ast.arguments(posonlyargs=[], args=[place(ast.arg(arg=self.variable(p.value, p)), p)
                                                        for p in params],
                                  kwonlyargs=[], kw_defaults=[], defaults=defaults)
        return place(ast.FunctionDef(name=self.variable(name, node), args=arguments,
                                     body=self.tail(body), decorator_list=[], returns=None), node)

    def tail(self, node: Node) -> list[ast.stmt]:
        """Statements for a function body whose last value is returned, as R does."""
        if node.kind == "block":
            if not node.children:
                return [place(ast.Return(value=None), node)]
            head = [s for child in node.children[:-1] for s in self.statement(child)]
            return head + self.tail(node.children[-1])
        if node.kind == "if":
            orelse = self.tail(node.children[2]) if len(node.children) > 2 \
                else [place(ast.Return(value=None), node)]
            return [place(ast.If(test=self.expression(node.children[0]),
                                 body=self.tail(node.children[1]), orelse=orelse), node)]
        if node.kind == "binary" and node.value in ASSIGNMENT:
            statements = self.statement(node)
            target = self.sides(node)[0]
            if target.kind == "name" and isinstance(statements[-1], ast.Assign):
                statements.append(place(ast.Return(value=ast.Name(id=target.value, ctx=ast.Load())), node))
            return statements
        if node.kind in ("for", "while", "repeat", "break", "next"):
            return self.statement(node) + [place(ast.Return(value=None), node)]
        if node.kind == "call" and node.children[0].kind == "name":
            name = node.children[0].value
            if name == "with_no_grad" and len(node.children) == 2:
                statement = self.statement(node)[0]
                self.no_grad += 1
                try:
                    statement.body = self.tail(node.children[1])
                finally:
                    self.no_grad -= 1
                return [statement]
            if name in ("return", "library"):
                return self.statement(node)
        return [place(ast.Return(value=self.tail_return(self.expression(node))), node)]

    def autograd_class(self, name: str, value: Node, node: Node) -> ast.ClassDef:
        """`f <- autograd_function(forward = ..., backward = ...)` as a torch Function class."""
        if value.kind != "call" or value.children[0].kind != "name" \
                or value.children[0].value != "autograd_function":
            raise refuse("unsupported", f"`{name}` is an autograd function; it cannot be "
                         "assigned anything else.", node)
        parts = dict(zip(value.names, value.children[1:]))
        if sorted(k for k in parts if k) != ["backward", "forward"] or None in parts:
            raise refuse("syntax", "autograd_function takes forward = function(ctx, ...) and "
                         "backward = function(ctx, grad_output).", value)
        forward, backward = parts["forward"], parts["backward"]
        for method in (forward, backward):
            if method.kind != "function" or not method.children[:-1] \
                    or method.children[0].value != "ctx":
                raise refuse("syntax", "forward and backward are functions whose first argument "
                             "is ctx.", method)
        self.inputs_of_forward = tuple(p.value for p in forward.children[1:-1])
        self.saved_names = self.saved_in(forward)
        methods = []
        for method_name, method in (("forward", forward), ("backward", backward)):
            self.in_backward = method_name == "backward"
            definition = self.function_def(method_name, method, method)
            definition.decorator_list = [place(ast.Name(id="staticmethod", ctx=ast.Load()), method)]
            methods.append(definition)
        self.in_backward = False
        base = ast.Attribute(value=ast.Attribute(value=ast.Name(id="torch", ctx=ast.Load()),
                                                 attr="autograd", ctx=ast.Load()),
                             attr="Function", ctx=ast.Load())
        return place(ast.ClassDef(name=self.variable(name, node), bases=[base], keywords=[],
                                  body=methods, decorator_list=[]), node)

    def module_class(self, name: str, value: Node, node: Node) -> ast.ClassDef:
        """`m <- nn_module(initialize = function(...) {...}, forward = function(...) {...})` as
        a torch.nn.Module class whose methods take `self` first (CPython only)."""
        parts = {k: v for k, v in zip(value.names, value.children[1:]) if k}
        if "forward" not in parts or any(v.kind != "function" for v in parts.values()):
            raise refuse("syntax", "nn_module takes initialize = function(...) and forward = "
                         "function(...).", value)
        methods = []
        for method_name, method in parts.items():
            *params, body = method.children
            self.parameters.add("self")
            stand_in = Node("function", method.line, method.col, [None] + list(method.value),
                            [Node("name", method.line, method.col, "self"), *params, body])
            definition = self.function_def(method_name, stand_in, method)
            if method_name == "initialize":  # a module's own set-up first; nothing is returned
                definition.name = "__init__"
                init = ast.Attribute(value=self.module_base(), attr="__init__", ctx=ast.Load())
                start = ast.Expr(value=ast.Call(func=init, args=[load_name("self")], keywords=[]))
                definition.body = [place(start, method)] + self.block(body)
            methods.append(definition)
        return place(ast.ClassDef(name=self.variable(name, node), bases=[self.module_base()], keywords=[],
                                  body=methods, decorator_list=[]), node)

    @staticmethod
    def module_base() -> ast.Attribute:
        return ast.Attribute(value=ast.Attribute(value=load_name("torch"), attr="nn", ctx=ast.Load()),
                             attr="Module", ctx=ast.Load())

    @staticmethod
    def saved_in(forward: Node) -> tuple:
        """Names given in `ctx$save_for_backward(name = value)`, in order."""
        stack, names = [forward], []
        while stack:
            node = stack.pop(0)
            if node.kind == "call" and node.children[0].kind == "dollar" \
                    and node.children[0].value == "save_for_backward":
                names.extend(n or f"v{i + 1}" for i, n in enumerate(node.names))
            stack.extend(child for child in node.children if isinstance(child, Node))
        return tuple(names)

    def tail_return(self, value: ast.expr) -> ast.expr:
        """In backward, a named list of gradients is put in forward's argument order."""
        if not self.in_backward:
            return value
        return self.helper("_r_grads", [value, self.names_tuple(self.inputs_of_forward)])


def load_name(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def translate(body: list[Node], cpython: bool = False) -> ast.Module:
    """The Python program an R program becomes (not yet validated); with `cpython`, for
    CPython: modules, optimizers and default arguments too, which the interpreter lacks."""
    module = Translator(body, cpython).module(body)
    for node in ast.walk(module):
        if "type_params" in node._fields and not hasattr(node, "type_params"):
            node.type_params = []  # Python 3.12+ unparses defs with it
    return ast.fix_missing_locations(module)
