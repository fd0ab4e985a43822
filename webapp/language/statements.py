"""The interpreter's statements: assignment and unpacking, if/while/for, def, class (a
custom autograd Function), with (no_grad), import of the allowed modules.
"""
from __future__ import annotations

import ast

import torch

from ..errors import runtime, unsupported
from .calls import guarded
from .loop_exits import ACTIVE_LOOPS, can_leave_early
from .custom_function import CtxProxy, build_autograd_function
from .vocabulary import AUTOGRAD_FUNCTION_BASE, GradMode, module_for_import
from .scopes import BreakLoop, ContinueLoop, ReturnValue, UserFunction


class Statements:
    """exec_<node type> for each statement the validator lets through (mixed into Interpreter)."""

    def execute_block(self, body, scope):
        for statement in body:
            self.execute(statement, scope)

    def exec_Expr(self, node, scope):
        return self.evaluate(node.value, scope)

    def exec_Pass(self, node, scope):
        return None

    def exec_Assign(self, node, scope):
        value = self.evaluate(node.value, scope)
        for target in node.targets:
            self.assign(target, value, scope)
        return value

    def exec_AugAssign(self, node, scope):
        target = node.target
        current = self.evaluate(target, scope) if not isinstance(target, ast.Name) \
            else self.load_name(target.id, scope, target)
        value = self.evaluate(node.value, scope)
        with self.none_grad_said([(target, current), (node.value, value)], scope):
            result = self.binary(node.op, current, value, node, inplace=True)
        if isinstance(target, ast.Name):
            self.assign(target, result, scope)
        elif isinstance(target, ast.Subscript):
            self.assign(target, result, scope)
        elif result is not current:
            raise unsupported("Only in-place updates of `.data` or `.grad` are allowed here.", node)
        return result

    def assign(self, target, value, scope):
        if isinstance(target, ast.Name):
            scope.values[target.id] = value
            if isinstance(value, torch.Tensor):
                self.named.append((target.id, value))
                if not self.quiet:
                    self.observer.assigned(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(value, len(target.elts), target)
            for element, item in zip(target.elts, items):
                self.assign(element, item, scope)
        elif isinstance(target, ast.Subscript):
            container = self.evaluate(target.value, scope)
            index = self.evaluate(target.slice, scope)
            if isinstance(container, torch.Tensor):
                guarded(lambda: container.__setitem__(index, value), target)
            elif isinstance(container, list) and isinstance(index, int):
                guarded(lambda: container.__setitem__(index, value), target)
            else:
                raise unsupported("Only tensors and lists can be assigned into.", target)
        elif isinstance(target, ast.Attribute):
            owner = self.evaluate(target.value, scope)
            if isinstance(owner, torch.Tensor) and target.attr in ("grad", "data", "requires_grad"):
                if target.attr != "requires_grad" and not (value is None and target.attr == "grad") \
                        and not isinstance(value, torch.Tensor):
                    raise runtime(f"`.{target.attr}` takes a tensor.", target)
                guarded(lambda: setattr(owner, target.attr, value), target)
                return
            if not isinstance(owner, CtxProxy):
                raise unsupported("Only ctx attributes can be assigned to.", target)
            owner.set(target.attr, value, target)

    def unpack(self, value, count, node):
        if isinstance(value, torch.Tensor):
            items = guarded(lambda: list(value.unbind(0)) if value.dim() else None, node)
            if items is None:
                raise runtime("Cannot unpack a 0-d tensor.", node)
        elif isinstance(value, (tuple, list, torch.Size)):
            items = list(value)
        else:
            raise runtime(f"Cannot unpack {type(value).__name__} into {count} names.", node)
        if len(items) != count:
            raise runtime(f"Expected {count} values to unpack, got {len(items)}.", node)
        return items

    def exec_If(self, node, scope):
        branch = node.body if self.truth(self.evaluate(node.test, scope), node.test) else node.orelse
        self.execute_block(branch, scope)

    def exec_While(self, node, scope):
        ACTIVE_LOOPS.append([node, 0])
        try:
            while self.truth(self.evaluate(node.test, scope), node.test):
                if not self._turn(node, scope):
                    break
        finally:
            ACTIVE_LOOPS.pop()

    def exec_For(self, node, scope):
        iterable = self.evaluate(node.iter, scope)
        if isinstance(iterable, range):
            if not can_leave_early(node):  # it must turn len(range) times: sized now
                self.budget.loop_length(len(iterable), node)
            items = iterable  # lazy: a loop that may break early is stopped by the budget
        else:
            items = self.language["list"].function(iterable, node)
        ACTIVE_LOOPS.append([node, 0])
        try:
            for item in items:
                self.assign(node.target, item, scope)
                if not self._turn(node, scope):
                    break
        finally:
            ACTIVE_LOOPS.pop()

    def _turn(self, node, scope) -> bool:
        """One turn of a loop's body, counted by the budget; False after a `break`."""
        self.budget.loop_turn(node)
        try:
            self.execute_block(node.body, scope)
        except BreakLoop:
            return False
        except ContinueLoop:
            pass
        return True

    def exec_Break(self, node, scope):
        raise BreakLoop()

    def exec_Continue(self, node, scope):
        raise ContinueLoop()

    def exec_Return(self, node, scope):
        raise ReturnValue(None if node.value is None else self.evaluate(node.value, scope))

    def exec_FunctionDef(self, node, scope):
        scope.values[node.name] = UserFunction(node, scope)

    def exec_ClassDef(self, node, scope):
        methods = {item.name: UserFunction(item, scope) for item in node.body
                   if isinstance(item, ast.FunctionDef)}
        base = self.evaluate(node.bases[0], scope)
        if base is not AUTOGRAD_FUNCTION_BASE:
            raise unsupported("The only classes allowed are custom autograd functions.", node)
        scope.values[node.name] = build_autograd_function(node.name, methods, self)

    def exec_With(self, node, scope):
        modes = [self.evaluate(item.context_expr, scope) for item in node.items]
        if not all(isinstance(mode, GradMode) for mode in modes):
            raise unsupported("`with` takes torch.no_grad() or torch.enable_grad() only.", node)
        managers = [mode.factory() for mode in modes]
        for manager in managers:
            manager.__enter__()
        try:
            self.execute_block(node.body, scope)
        finally:
            for manager in reversed(managers):
                manager.__exit__(None, None, None)

    def exec_Import(self, node, scope):
        for alias in node.names:
            if alias.asname:
                scope.values[alias.asname] = module_for_import(alias.name)
            else:
                top = alias.name.split(".")[0]
                scope.values[top] = module_for_import(top)

    def exec_ImportFrom(self, node, scope):
        for alias in node.names:
            scope.values[alias.asname or alias.name] = module_for_import(f"{node.module}.{alias.name}")
