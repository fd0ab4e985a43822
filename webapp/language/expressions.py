"""The interpreter's expressions: names, operators, comparisons, indexing and whitelisted
attribute access (the only way user code reaches any attribute).
"""
from __future__ import annotations

import ast
import contextlib
import operator

import torch

from ..errors import ChainruleError, runtime, unsupported
from .budget import nested_numel
from .calls import call_torch, guarded
from .custom_function import CtxProxy, CustomFunction
from .student_terms import grad_is_none, grad_owner, none_grad_operand
from .name_slips import did_you_mean
from .vocabulary import Namespace, TENSOR_METHODS, TENSOR_PROPERTIES
from .scopes import TensorMethod

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


class Expressions:
    """eval_<node type> for each expression but calls (mixed into Interpreter)."""

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
            where = (f"Line {later} reads `{name}` before giving it a value" if later == node.lineno
                     else f"`{name}` is assigned on line {later}, after its first use on line {node.lineno}")
            raise runtime(f"{where}, so `{name}` is not an input: give it a value "
                          f"before that use (e.g. {name} = torch.tensor(1.0, requires_grad=True)).", node)
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
        with self.none_grad_said([(node.left, left), (node.right, right)], scope):
            return self.binary(node.op, left, right, node)

    @contextlib.contextmanager
    def none_grad_said(self, operands, scope):
        """A refusal of an operation on a `.grad` that is None, said as what it means: no
        backward pass has reached that tensor (student_terms.grad_is_none)."""
        try:
            yield
        except ChainruleError as error:
            attribute = none_grad_operand(operands)
            if attribute is None or error.kind not in ("runtime", "unsupported") \
                    or getattr(error, "none_grad", False):  # a limit stays a limit; said once
                raise
            said = runtime(grad_is_none(attribute, self.known_value(grad_owner(attribute), scope)),
                           attribute)
            said.none_grad = True
            raise said from None

    def known_value(self, node, scope):
        """The value of a plain name, when it has one (read only, never evaluated)."""
        if isinstance(node, ast.Name):
            try:
                return scope.lookup(node.id)
            except KeyError:
                return None
        return None

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
            with self.none_grad_said([(node.value, container)], scope):  # `x.grad[0]`
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
        if owner is None and grad_owner(node.value) is not None:
            raise runtime(grad_is_none(node.value, self.known_value(grad_owner(node.value), scope)),
                          node)
        return self.attribute(owner, node.attr, node)

    def attribute(self, owner, name, node):
        """Whitelisted attribute access: the only way user code reaches any attribute."""
        if isinstance(owner, Namespace):
            if name in owner.members:
                return owner.members[name]
            raise unsupported(f"`{owner.name}.{name}` is not part of the function language."
                              + did_you_mean(name, owner.members, prefix=f"{owner.name}."), node)
        if isinstance(owner, torch.Tensor):
            if name in TENSOR_PROPERTIES:
                if name == "grad_fn":
                    return None if owner.grad_fn is None else f"<{type(owner.grad_fn).__name__}>"
                return guarded(lambda: getattr(owner, name), node)
            if name in TENSOR_METHODS:
                return TensorMethod(owner, name)
            raise unsupported(f"`.{name}` is not available on tensors in the function language."
                              + did_you_mean(name, TENSOR_METHODS | TENSOR_PROPERTIES, prefix="."),
                              node)
        if isinstance(owner, CustomFunction) and name == "apply":
            return owner
        if isinstance(owner, CtxProxy):
            return owner.get(name, node)
        if isinstance(owner, tuple) and type(owner).__module__ == "torch.return_types" \
                and name in ("values", "indices"):
            return getattr(owner, name)
        raise unsupported(f"`.{name}` is not available here.", node)


def _symbol(op) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@"}.get(type(op), "?")


def describe_operand(value) -> str:
    if isinstance(value, torch.Tensor):
        return "A tensor"
    if isinstance(value, (Namespace,)):
        return f"`{value.name}`"
    return f"A {type(value).__name__} value"
