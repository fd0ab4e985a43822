"""A tree-walking interpreter for the function language.

It walks the tree `validator.parse_program` accepted and performs each step itself:
names live in its own scopes, attribute access goes through the whitelist, and calls
reach only `SafeFunction`s, tensor methods on the whitelist, and the user's own defs.
"""
from __future__ import annotations

import ast

import torch

from ..errors import runtime, unsupported
from .expressions import Expressions, describe_operand
from .scopes import (BreakLoop, ContinueLoop, Observer, ReturnValue, Scope,  # noqa: F401
                     TensorMethod, UserFunction)
from .statements import Statements
from ..limits import Limits
from ..memo import MiB, bytes_bounded
from .budget import Budget
from .names import leaf_names
from .calls import (TORCH_ERRORS, call_torch, explain_torch_error, guarded,
                    raised_for_the_program)
from .custom_function import CtxProxy, CustomFunction
from .pybuiltins import make_builtins
from .vocabulary import (SafeFunction, bare_math, TORCH_NAMESPACE, MATH_NAMESPACE,
                         FUNCTIONAL_NAMESPACE)


class Interpreter(Statements, Expressions):
    """Run one checked program; `named` records each tensor a name was given."""

    def __init__(self, limits: Limits, observer: Observer | None = None):
        self.limits = limits
        self.observer = observer or Observer()
        self.budget = Budget(limits)
        self.prints: list[dict] = []  # {"line", "text"}, in order
        self.named: list[tuple[str, torch.Tensor]] = []
        self.ran_backward = False
        self.assigned_lines: dict = {}  # name -> first line assigning it (for messages)
        self.backward_of: dict = {}  # call node -> the tensor `.backward()` was called on
        self.at = None  # the node being evaluated: where each recorded op comes from
        self.last_value = None
        self.last_line = None
        self.quiet = 0  # > 0 while a custom Function's backward runs: not part of the graph
        self.scope = None
        self.numbers_as_tensors = False  # R's torch converts numbers (frontend.install_helpers)
        self.language = {**make_builtins(self.budget, self.prints, limits.max_prints,
                                         line=lambda: self.where()[0]),
                         **bare_math(), "torch": TORCH_NAMESPACE, "math": MATH_NAMESPACE,
                         "F": FUNCTIONAL_NAMESPACE}

    # -- program -------------------------------------------------------------
    def run(self, tree: ast.Module, inputs: dict):
        """Execute the program; return the value of its last statement (see API.md)."""
        scope = self.scope = Scope()
        self.assigned_lines = _assigned_lines(tree)
        for name, value in inputs.items():
            scope.values[name] = value
            self.named.append((name, value))
        last = None
        try:
            for statement in tree.body:
                last = self.execute(statement, scope)
                self.last_value, self.last_line = last, statement.lineno
        except ReturnValue:
            raise unsupported("`return` belongs inside a def; the last line is the output.") from None
        except (BreakLoop, ContinueLoop):
            raise unsupported("`break` and `continue` belong inside a loop.") from None
        # A name bound to a second leaf names each (x₁, x₂), as the CPython runner does:
        # `leaves` kept the dead first tensor, and the live one was drawn as v1.
        self.named = leaf_names(self.named, len(inputs))
        return self._output_of(tree.body[-1], scope, last)

    def _output_of(self, statement, scope, last):
        if isinstance(statement, ast.Expr):
            call = statement.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                    and call.func.attr == "backward":
                if call in self.backward_of:  # `y.backward()` means that y, not a new one
                    return self.backward_of[call]
                return self.evaluate(call.func.value, scope)
            return last
        if isinstance(statement, (ast.Assign, ast.AugAssign)):
            target = statement.targets[-1] if isinstance(statement, ast.Assign) else statement.target
            if isinstance(target, ast.Name):
                return scope.lookup(target.id)
        return None

    # -- statements ----------------------------------------------------------
    def execute(self, node, scope):
        method = getattr(self, "exec_" + type(node).__name__)
        previous, self.at = self.at, node
        try:
            return method(node, scope)
        except TORCH_ERRORS as exc:  # PyTorch's refusal on a path no guard wrapped: at the line
            if not raised_for_the_program(exc):
                raise
            raise runtime(explain_torch_error(exc), node) from None
        finally:
            self.at = previous

    def where(self) -> tuple:
        """(line, column) of the code running now, for the tracer."""
        node = self.at
        if node is None:
            return None, None
        return getattr(node, "lineno", None), getattr(node, "col_offset", -1) + 1

    # -- expressions ---------------------------------------------------------
    def evaluate(self, node, scope):
        method = getattr(self, "eval_" + type(node).__name__)
        previous, self.at = self.at, node
        try:
            return method(node, scope)
        finally:
            self.at = previous

    def eval_Call(self, node, scope):
        function = self.evaluate(node.func, scope)
        args = [self.evaluate(a, scope) for a in node.args]
        kwargs = {k.arg: self.evaluate(k.value, scope) for k in node.keywords}
        operands = [*zip(node.args, args), *((k.value, kwargs[k.arg]) for k in node.keywords)]
        with self.none_grad_said(operands, scope):
            return self.call(function, args, kwargs, node)

    def call(self, function, args, kwargs, node):
        if isinstance(function, TensorMethod):
            if function.name == "backward":
                return self.backward(function.tensor, args, kwargs, node)
            # The unbound method, so a size check can run it on shape-only copies first.
            method = getattr(torch.Tensor, function.name)
            operands = [function.tensor, *args]
            result = call_torch(function.name, method, operands, kwargs, self.budget, node)
            return self.produced(result, node, operands)
        if isinstance(function, SafeFunction):
            return self.call_safe(function, args, kwargs, node)
        if isinstance(function, UserFunction):
            if kwargs:
                raise unsupported("Functions take positional arguments only.", node)
            return self.call_user(function, args, node)
        if isinstance(function, CustomFunction):  # every output stamped, several at once
            result = function.apply(args, kwargs, node)
            if isinstance(result, tuple) and not self.quiet and \
                    all(isinstance(r, torch.Tensor) for r in result):
                self.observer.result(result, node, args)
                return result
            return self.produced(result, node, args)
        if isinstance(function, CtxProxy.Method):  # also on a ctx kept after forward ended
            return guarded(lambda: function(*args, **kwargs), node)
        raise runtime(f"{describe_operand(function)} is not a function.", node)

    def call_safe(self, function: SafeFunction, args, kwargs, node):
        if function.kind == "pow":
            if len(args) != 2 or kwargs:
                raise runtime("pow() takes two arguments.", node)
            return self.binary(ast.Pow(), args[0], args[1], node)
        if function.kind in ("builtin", "language", "math"):
            result = guarded(lambda: function.function(*args, **kwargs), node)
            self.budget.produced(result, node)
            return self.budget.integer(result, node) if isinstance(result, int) else result
        if function.kind == "autograd":  # backward(tensors, …) and grad(outputs, …): every root
            roots = args[0] if args else kwargs.get("tensors", kwargs.get("outputs"))
            self._before_backward(roots, node)
            if function.name.endswith("backward"):  # the last line's output is its root
                self.backward_of[node] = roots[0] if isinstance(roots, (list, tuple)) \
                    and len(roots) == 1 else roots
        result = call_torch(function.name, function.function, args, kwargs, self.budget, node,
                            numbers_as_tensors=self.numbers_as_tensors)
        if function.kind == "autograd" and not self.quiet:
            self.observer.after_backward()
        return self.produced(result, node, [*args, *kwargs.values()])

    def call_user(self, function: UserFunction, args, node):
        parameters = [a.arg for a in function.node.args.args]
        if len(args) != len(parameters):
            raise runtime(f"{function.name}() takes {len(parameters)} argument(s), "
                          f"got {len(args)}.", node)
        self.budget.enter_call(node)
        scope = Scope(function.scope)
        scope.values.update(zip(parameters, args))
        try:
            self.execute_block(function.node.body, scope)
        except ReturnValue as returned:
            if isinstance(returned.value, torch.Tensor) and not self.quiet:
                self.observer.returned(function.name, returned.value)
            return returned.value
        finally:
            self.budget.leave_call()
        return None

    def backward(self, tensor, args, kwargs, node):
        self._before_backward(tensor, node)
        self.backward_of[node] = tensor
        result = call_torch("backward", tensor.backward, args, kwargs, self.budget, node)
        if not self.quiet:
            self.observer.after_backward()
        return result

    def _before_backward(self, roots, node):
        self.ran_backward = True
        if isinstance(roots, (torch.Tensor, list, tuple)) and not self.quiet:
            self.observer.before_backward(roots)

    def produced(self, result, node, operands):
        if isinstance(result, torch.Tensor) and not self.quiet:
            self.observer.result(result, node, operands)
        return result


@bytes_bounded(16 * MiB)  # its key, the tree, is parse_program's: counted in both
def _assigned_lines(tree: ast.Module) -> dict:
    """Each name's first assigning line, for "used before it is assigned" messages (read only)."""
    lines: dict = {}
    for found in ast.walk(tree):
        if isinstance(found, ast.Name) and isinstance(found.ctx, ast.Store):
            lines.setdefault(found.id, found.lineno)
    return lines
