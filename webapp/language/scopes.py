"""What the interpreter keeps while it runs: scopes, user functions, bound tensor methods,
the signals of break/continue/return, and the Observer the tracer listens through.
"""
from __future__ import annotations

import ast


class BreakLoop(Exception):
    pass


class ContinueLoop(Exception):
    pass


class ReturnValue(Exception):
    def __init__(self, value):
        self.value = value


class UserFunction:
    """A `def` of the user's, closed over the scope it was defined in."""

    def __init__(self, node: ast.FunctionDef, scope: "Scope"):
        self.node = node
        self.name = node.name
        self.scope = scope


class TensorMethod:
    """`tensor.name`, waiting to be called."""

    __slots__ = ("tensor", "name")

    def __init__(self, tensor, name):
        self.tensor = tensor
        self.name = name


class Scope:
    """Variables of one call (or of the program), falling back to the enclosing scope."""

    def __init__(self, parent: "Scope | None" = None):
        self.values: dict = {}
        self.parent = parent

    def lookup(self, name):
        scope = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        raise KeyError(name)


class Observer:
    """What a tracer may want to hear about while a program runs (all optional)."""

    def result(self, value, node, operands):
        """A call or operator at `node` produced `value` from `operands`."""

    def assigned(self, name, value):
        """`value` was given the name `name`."""

    def returned(self, function_name, value):
        """The user's function `function_name` returned `value`."""

    def after_backward(self):
        """The backward pass just started has returned."""

    def before_backward(self, roots):
        """A backward pass from `roots` (a tensor, or a list of them) is about to run."""
