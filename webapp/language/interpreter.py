"""A tree-walking interpreter for the function language.

It walks the tree `validator.parse_program` accepted and performs each step itself:
names live in its own scopes, attribute access goes through the whitelist, and calls
reach only `SafeFunction`s, tensor methods on the whitelist, and the user's own defs.
"""
from __future__ import annotations

import ast
import operator

import torch

from ..errors import runtime, unsupported
from ..limits import Limits
from .budget import Budget, nested_numel
from .calls import call_torch, guarded
from .custom_function import CtxProxy, build_autograd_function, CustomFunction
from .pybuiltins import make_builtins
from .vocabulary import (AUTOGRAD_FUNCTION_BASE, GradMode, Namespace, SafeFunction,
                         TENSOR_METHODS, TENSOR_PROPERTIES, bare_math, module_for_import,
                         TORCH_NAMESPACE, MATH_NAMESPACE, FUNCTIONAL_NAMESPACE)

BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
          ast.Pow: operator.pow, ast.MatMult: operator.matmul}
INPLACE = {ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
           ast.Div: operator.itruediv, ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod,
           ast.Pow: operator.ipow, ast.MatMult: operator.imatmul}
BINARY_NAMES = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
                ast.FloorDiv: "floor_divide", ast.Mod: "remainder", ast.Pow: "pow",
                ast.MatMult: "matmul"}
COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
           ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Is: operator.is_, ast.IsNot: operator.is_not}
NUMBER = (int, float, bool)


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


class Interpreter:
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
        self.language = {**make_builtins(self.budget, self.prints, limits.max_prints,
                                         line=lambda: self.where()[0]),
                         **bare_math(), "torch": TORCH_NAMESPACE, "math": MATH_NAMESPACE,
                         "F": FUNCTIONAL_NAMESPACE}

    # -- program -------------------------------------------------------------
    def run(self, tree: ast.Module, inputs: dict):
        """Execute the program; return the value of its last statement (see API.md)."""
        scope = self.scope = Scope()
        self.assigned_lines = {}
        for found in ast.walk(tree):
            if isinstance(found, ast.Name) and isinstance(found.ctx, ast.Store):
                self.assigned_lines.setdefault(found.id, found.lineno)
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
        finally:
            self.at = previous

    def where(self) -> tuple:
        """(line, column) of the code running now, for the tracer."""
        node = self.at
        if node is None:
            return None, None
        return getattr(node, "lineno", None), getattr(node, "col_offset", -1) + 1

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
        while self.truth(self.evaluate(node.test, scope), node.test):
            self.budget.loop_turn(node)
            try:
                self.execute_block(node.body, scope)
            except BreakLoop:
                break
            except ContinueLoop:
                continue

    def exec_For(self, node, scope):
        iterable = self.evaluate(node.iter, scope)
        if isinstance(iterable, range):
            items = iterable  # lazy: the loop budget stops `range(10**9)` early
        else:
            items = self.language["list"].function(iterable, node)
        for item in items:
            self.budget.loop_turn(node)
            self.assign(node.target, item, scope)
            try:
                self.execute_block(node.body, scope)
            except BreakLoop:
                break
            except ContinueLoop:
                continue

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

    # -- expressions ---------------------------------------------------------
    def evaluate(self, node, scope):
        method = getattr(self, "eval_" + type(node).__name__)
        previous, self.at = self.at, node
        try:
            return method(node, scope)
        finally:
            self.at = previous

    def eval_Constant(self, node, scope):
        return node.value

    def eval_Name(self, node, scope):
        return self.load_name(node.id, scope, node)

    def load_name(self, name, scope, node):
        try:
            return scope.lookup(name)
        except KeyError:
            pass
        if name in self.language:
            return self.language[name]
        later = self.assigned_lines.get(name)
        if later is not None and later >= getattr(node, "lineno", 0):
            raise runtime(f"`{name}` is assigned on line {later}, after its first use on line "
                          f"{node.lineno}, so it is not an input: give it a value before that use "
                          f"(e.g. {name} = torch.tensor(1.0, requires_grad=True)).", node)
        raise runtime(f"`{name}` is used before it is given a value.", node)

    def eval_Tuple(self, node, scope):
        return tuple(self.evaluate(e, scope) for e in node.elts)

    def eval_List(self, node, scope):
        return [self.evaluate(e, scope) for e in node.elts]

    def eval_IfExp(self, node, scope):
        test = self.truth(self.evaluate(node.test, scope), node.test)
        return self.evaluate(node.body if test else node.orelse, scope)

    def eval_BoolOp(self, node, scope):
        value = None
        for operand in node.values:
            value = self.evaluate(operand, scope)
            truth = self.truth(value, operand)
            if isinstance(node.op, ast.And) and not truth:
                return value
            if isinstance(node.op, ast.Or) and truth:
                return value
        return value

    def eval_UnaryOp(self, node, scope):
        value = self.evaluate(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not self.truth(value, node)
        if not isinstance(value, (torch.Tensor, *NUMBER)):
            raise unsupported("`-` and `+` apply to numbers and tensors.", node)
        function = operator.neg if isinstance(node.op, ast.USub) else operator.pos
        result = guarded(lambda: function(value), node)
        self.budget.produced(result, node)
        return self.produced(result, node, [value])

    def eval_BinOp(self, node, scope):
        left = self.evaluate(node.left, scope)
        right = self.evaluate(node.right, scope)
        return self.binary(node.op, left, right, node)

    def binary(self, op, left, right, node, inplace=False):
        """Apply an arithmetic operator with the language's checks."""
        kind = type(op)
        if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
            if not all(isinstance(v, (torch.Tensor, *NUMBER)) for v in (left, right)):
                raise unsupported("Tensors combine with numbers and other tensors only.", node)
            function = INPLACE[kind] if inplace and isinstance(left, torch.Tensor) else BINARY[kind]
            result = call_torch(BINARY_NAMES[kind], function, [left, right], {}, self.budget, node,
                                operator=True)
            return self.produced(result, node, [left, right])
        if isinstance(left, NUMBER) and isinstance(right, NUMBER):
            if kind is ast.Pow:
                self.budget.power(left, right, node)
            result = guarded(lambda: BINARY[kind](left, right), node)
            if isinstance(result, complex):
                raise runtime("This power has no real value (a negative number to a fractional power).", node)
            return self.budget.integer(result, node)
        if kind is ast.Add and isinstance(left, (list, tuple)) and type(left) is type(right):
            self.budget.sequence(len(left) + len(right), node)
            return left + right
        if kind is ast.Mult and isinstance(left, (list, tuple)) and isinstance(right, int):
            self.budget.sequence(nested_numel(left, tensor_items=False) * max(right, 0), node)
            return left * right
        raise unsupported(f"`{type(left).__name__} {_symbol(op)} {type(right).__name__}` "
                          "is not part of the function language.", node)

    def eval_Compare(self, node, scope):
        left = self.evaluate(node.left, scope)
        result = True
        for op, comparator in zip(node.ops, node.comparators):
            right = self.evaluate(comparator, scope)
            result = guarded(lambda: COMPARE[type(op)](left, right), node)
            if len(node.ops) > 1 and not self.truth(result, node):
                return result
            left = right
        return result

    def truth(self, value, node):
        if isinstance(value, torch.Tensor):
            return guarded(lambda: bool(value), node)
        if isinstance(value, (*NUMBER, type(None), list, tuple, str, range)):
            return bool(value)
        return True

    def eval_Subscript(self, node, scope):
        container = self.evaluate(node.value, scope)
        index = self.evaluate(node.slice, scope)
        if not isinstance(container, (torch.Tensor, list, tuple, torch.Size, range)):
            raise unsupported("Only tensors, lists and tuples can be indexed.", node)
        result = guarded(lambda: container[index], node)
        self.budget.produced(result, node)
        return self.produced(result, node, [container])

    def eval_Slice(self, node, scope):
        parts = [None if p is None else self.evaluate(p, scope)
                 for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def eval_Attribute(self, node, scope):
        owner = self.evaluate(node.value, scope)
        if owner is None and isinstance(node.value, ast.Attribute) and node.value.attr == "grad":
            raise runtime(f"{ast.unparse(node.value)} is None until backward runs.", node)
        return self.attribute(owner, node.attr, node)

    def attribute(self, owner, name, node):
        """Whitelisted attribute access: the only way user code reaches any attribute."""
        if isinstance(owner, Namespace):
            if name in owner.members:
                return owner.members[name]
            raise unsupported(f"`{owner.name}.{name}` is not part of the function language.", node)
        if isinstance(owner, torch.Tensor):
            if name in TENSOR_PROPERTIES:
                if name == "grad_fn":
                    return None if owner.grad_fn is None else f"<{type(owner.grad_fn).__name__}>"
                return guarded(lambda: getattr(owner, name), node)
            if name in TENSOR_METHODS:
                return TensorMethod(owner, name)
            raise unsupported(f"`.{name}` is not available on tensors in the function language.", node)
        if isinstance(owner, CustomFunction) and name == "apply":
            return owner
        if isinstance(owner, CtxProxy):
            return owner.get(name, node)
        if isinstance(owner, tuple) and type(owner).__module__ == "torch.return_types" \
                and name in ("values", "indices"):
            return getattr(owner, name)
        raise unsupported(f"`.{name}` is not available here.", node)

    def eval_Call(self, node, scope):
        function = self.evaluate(node.func, scope)
        args = [self.evaluate(a, scope) for a in node.args]
        kwargs = {k.arg: self.evaluate(k.value, scope) for k in node.keywords}
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
        if isinstance(function, CustomFunction):
            return self.produced(function.apply(args, kwargs, node), node, args)
        if isinstance(function, CtxProxy.Method):
            return function(*args, **kwargs)
        raise runtime(f"{_describe(function)} is not a function.", node)

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
        result = call_torch(function.name, function.function, args, kwargs, self.budget, node)
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


def _symbol(op) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@"}.get(type(op), "?")


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return "A tensor"
    if isinstance(value, (Namespace,)):
        return f"`{value.name}`"
    return f"A {type(value).__name__} value"


