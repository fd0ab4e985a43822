"""Expressions of the R tree as Python expressions: operators, calls, `$`, indexing.

Which R functions exist is decided here, by name; every other call is refused with
its own name and position.
"""
from __future__ import annotations

import ast
import re

from ..errors import ChainruleError
from .names import LANGUAGE_NAMES
from .r_parser import Node
from .r_runtime import MAX_VECTOR
from .vocabulary import DTYPES, REDUCTIONS, TENSOR_METHODS, TENSOR_PROPERTIES, TORCH_FUNCTIONS

ARITHMETIC = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "^": ast.Pow,
              "%%": ast.Mod, "%/%": ast.FloorDiv, "%*%": ast.MatMult}
COMPARISON = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, ">": ast.Gt, "<=": ast.LtE, ">=": ast.GtE}
# Maths R and the language share by name (R's `sum(x)` on a tensor is torch's sum).
SAME_NAME = ("abs", "sqrt", "exp", "log", "sin", "cos", "tan", "tanh", "sum", "mean", "max",
             "min", "sigmoid")
HELPER_CALLS = {"cat": "_r_cat", "print": "_r_print", "as.numeric": "_r_as_numeric",
                "as.double": "_r_as_numeric", "as.matrix": "_r_as_matrix",
                "as_array": "_r_as_array", "seq_len": "_r_seq_len", "c": "_r_c",
                "length": "_r_length", "is.null": "_r_is_null", "append": "_r_append"}
AUTOGRAD_CALLS = {"autograd_backward": "backward", "autograd_grad": "grad"}
NNF = ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "mse_loss", "softplus", "gelu")
# Methods and torch functions whose `dim` is the first positional argument (R counts from 1).
DIM_FIRST = frozenset(set(REDUCTIONS) - {"max", "min", "norm", "dist"}) | {
    "softmax", "log_softmax", "squeeze", "unsqueeze", "size"}
# R torch's nn_ and optim_ names, as PyTorch's classes: run as CPython only (the
# interpreter has no modules), so they are translated for CPython alone.
NN_CLASSES = {"nn_linear": "Linear", "nn_relu": "ReLU", "nn_sigmoid": "Sigmoid", "nn_tanh": "Tanh",
              "nn_sequential": "Sequential", "nn_mse_loss": "MSELoss", "nn_softmax": "Softmax",
              "nn_parameter": "Parameter", "nn_dropout": "Dropout", "nn_bce_loss": "BCELoss",
              "nn_cross_entropy_loss": "CrossEntropyLoss", "nn_identity": "Identity"}
OPTIMIZERS = {"optim_sgd": "SGD", "optim_adam": "Adam", "optim_adagrad": "Adagrad",
              "optim_rmsprop": "RMSprop", "optim_lbfgs": "LBFGS", "optim_adamw": "AdamW"}
# Tensor methods whose operand R torch converts from an R vector (`x$matmul(c(1, 2))`).
TENSOR_OPERANDS = frozenset({"matmul", "mm", "mv", "dot", "outer", "inner", "add", "sub", "mul",
                             "div", "maximum", "minimum"})
NOT_TRANSLATED = {
    "torch_arange": "torch_arange includes its end in R; use torch_linspace or 1:n.",
    "eval": "R's eval is not part of the language: nothing typed is ever run as code.",
    "parse": "R's parse() is not part of the language: nothing typed is ever run as code.",
    "function": "A function is defined by assigning it: f <- function(x) { ... }.",
}
R_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def refuse(kind: str, message: str, node: Node) -> ChainruleError:
    return ChainruleError(kind, message, node.line, node.col)


def load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def torch_attr(*parts: str) -> ast.expr:
    value: ast.expr = load("torch")
    for part in parts:
        value = ast.Attribute(value=value, attr=part, ctx=ast.Load())
    return value


class CallTranslator:
    def __init__(self, cpython: bool = False):
        self.cpython = cpython  # for real CPython: modules, optimizers, defaults (frontend)
        self.assigned: set[str] = set()
        self.parameters: set[str] = set()  # function arguments: `tensor` may name one
        self.vectors: set[str] = set()  # names assigned an R vector, c(...)
        self.functions: set[str] = set()
        self.autograd: set[str] = set()
        self.inputs_of_forward: tuple = ()
        self.saved_names: tuple = ()
        self.in_backward = False
        self.no_grad = 0  # > 0 inside with_no_grad({ })

    # -- names -------------------------------------------------------------------
    def variable(self, name: str, node: Node) -> str:
        if not R_NAME.match(name):
            raise refuse("unsupported", f"The name `{name}` is not supported: use letters, digits "
                         f"and _ (for example {name.replace('.', '_').lstrip('_') or 'x'}).", node)
        if name in LANGUAGE_NAMES and name not in self.assigned and name not in self.parameters \
                and name not in ("pi",):
            raise refuse("unsupported", f"`{name}` is not an R name chainrule reads.", node)
        return name

    def helper(self, name: str, args: list, keywords=()) -> ast.Call:
        return ast.Call(func=load(name), args=list(args), keywords=list(keywords))

    @staticmethod
    def names_tuple(names) -> ast.Tuple:
        return ast.Tuple(elts=[ast.Constant(n) for n in names], ctx=ast.Load())

    # -- expressions ---------------------------------------------------------------
    def expression(self, node: Node) -> ast.expr:
        from .r_translate import place
        return place(self._expression(node), node)

    def _expression(self, node: Node) -> ast.expr:
        kind = node.kind
        if kind == "num":
            return ast.Constant(number(node))
        if kind == "str":
            return ast.Constant(node.value)
        if kind == "const":
            return {"TRUE": ast.Constant(True), "FALSE": ast.Constant(False),
                    "NULL": ast.Constant(None)}.get(node.value) or \
                torch_attr("inf" if node.value == "Inf" else "nan")
        if kind == "name":
            if node.value in ("T", "F") and node.value not in self.assigned:
                return ast.Constant(node.value == "T")
            if node.value.startswith("nnf_") and node.value[4:] in NNF \
                    and node.value not in self.assigned:  # loss_fn <- nnf_mse_loss
                return ast.Attribute(value=load("F"), attr=node.value[4:], ctx=ast.Load())
            return load(self.variable(node.value, node))
        if kind == "paren":
            return self.expression(node.children[0])
        if kind == "unary":
            op = {"-": ast.USub, "+": ast.UAdd, "!": ast.Not}[node.value]()
            return ast.UnaryOp(op=op, operand=self.expression(node.children[0]))
        if kind == "binary":
            return self.binary(node)
        if kind == "call":
            return self.call(node)
        if kind in ("index", "index2"):
            return self.subscript(node, ast.Load())
        if kind == "dollar":
            return self.field(node)
        if kind == "if" and len(node.children) == 3:
            test, body, orelse = node.children
            return ast.IfExp(test=self.expression(test), body=self.expression(body),
                             orelse=self.expression(orelse))
        if kind == "block" and len(node.children) == 1:
            return self.expression(node.children[0])
        what = {"function": "A function is defined by assigning it: f <- function(x) { ... }.",
                "if": "An `if` without `else` has no value here.",
                "empty": "An argument is missing here."}.get(kind)
        raise refuse("unsupported" if kind != "empty" else "syntax",
                     what or f"`{kind}` cannot be used as a value here.", node)

    def binary(self, node: Node) -> ast.expr:
        op = node.value
        left, right = node.children
        if op in ARITHMETIC:
            return ast.BinOp(left=self.expression(left), op=ARITHMETIC[op](), right=self.expression(right))
        if op in COMPARISON:
            return ast.Compare(left=self.expression(left), ops=[COMPARISON[op]()],
                               comparators=[self.expression(right)])
        if op in ("&&", "||"):
            return ast.BoolOp(op=ast.And() if op == "&&" else ast.Or(),
                              values=[self.expression(left), self.expression(right)])
        if op == ":":
            if is_literal(left) and is_literal(right):
                size = abs(int(literal(right)) - int(literal(left))) + 1
                if size > MAX_VECTOR:  # walked as a vector: refused before it runs
                    raise refuse("limit", f"`{source_range(left, right)}` would hold {size:,} "
                                 f"numbers; a vector here holds at most {MAX_VECTOR:,} (a for "
                                 "loop may still run over a longer 1:n).", node)
            return self.helper("_r_seq", [self.expression(left), self.expression(right)])
        if op in ("<-", "=", "->", "<<-", "->>"):
            raise refuse("unsupported", "An assignment inside an expression is not part of the "
                         "language; assign on its own line.", node)
        hint = {"&": "; use && for single TRUE/FALSE values", "|": "; use || for single values"}
        raise refuse("unsupported", f"The {op} operator is not part of the language"
                     f"{hint.get(op, '')}.", node)

    def sequence(self, node: Node) -> ast.expr:
        """A for loop's sequence: `1:n` is a range there, never a vector (no size cap)."""
        if node.kind == "binary" and node.value == ":":
            from .r_translate import place
            left, right = node.children
            return place(self.helper("_r_seq", [self.expression(left), self.expression(right)]), node)
        return self.expression(node)

    # -- $ -------------------------------------------------------------------------
    def field(self, node: Node, plain: bool = False) -> ast.expr:
        owner, name = node.children[0], node.value
        if owner.kind == "name" and owner.value == "ctx":
            if name == "saved_variables" and self.cpython:  # numbers were kept on ctx too
                return self.helper("_r_saved", [load("ctx"), self.names_tuple(self.saved_names)])
            if name == "saved_variables":
                return self.helper("_r_named", [torch_attr_of("ctx", "saved_tensors"),
                                                self.names_tuple(self.saved_names)])
            if name == "needs_input_grad":
                return self.helper("_r_named", [torch_attr_of("ctx", "needs_input_grad"),
                                                self.names_tuple(self.inputs_of_forward)])
            return torch_attr_of("ctx", name)
        if name == "next_functions":  # R torch lists the functions, without their indices
            return self.helper("_r_next_functions", [self.expression(owner)])
        if name == "grad" and owner.kind == "name" and not plain and not self.no_grad:
            # Read as a value, `x$grad` names its node `x$grad` in the graph.
            return self.helper("_r_grad", [self.expression(owner), ast.Constant(f"{owner.value}$grad")])
        if name in TENSOR_PROPERTIES:
            return ast.Attribute(value=self.expression(owner), attr=name, ctx=ast.Load())
        return self.helper("_r_field", [self.expression(owner), ast.Constant(name)])

    # -- calls -------------------------------------------------------------------------
    def arguments(self, node: Node, dim_position: int | None = None):
        args, keywords = [], []
        for position, (arg, name) in enumerate(zip(node.children[1:], node.names)):
            value = self.expression(arg)
            if name == "dim" or (name is None and position == dim_position):
                value = self.helper("_r_dim", [value])
            if name is None:
                if keywords:
                    raise refuse("unsupported", "Positional arguments come before named ones "
                                 "here.", arg)
                args.append(value)
            else:
                keywords.append(ast.keyword(arg=name.replace(".", "_"), value=value))
        return args, keywords

    def call(self, node: Node) -> ast.expr:
        function = node.children[0]
        if function.kind == "dollar":
            method = function.value
            if function.children[0].kind == "name" and function.children[0].value == "ctx" \
                    and method == "save_for_backward":
                values = [self.expression(a) for a in node.children[1:]]
                if self.cpython:  # R saves any value (a number too); PyTorch, tensors
                    return self.helper("_r_save_for_backward", [load("ctx"), *values])
                return ast.Call(func=torch_attr_of("ctx", method), args=values, keywords=[])
            if not R_NAME.match(method) or method not in TENSOR_METHODS and not self.cpython:
                raise refuse("unsupported", f"`${method}()` is not a tensor method chainrule reads.",
                             function)
            args, keywords = self.arguments(node, 0 if method in DIM_FIRST else None)
            if method in TENSOR_OPERANDS:  # x$matmul(coefs): R torch takes the vector as a tensor
                args = [self.helper("_r_as_tensor", [value]) if self.is_vector(arg) else value
                        for arg, value in zip(node.children[1:], args)]
            receiver = function.children[0]
            owner = self.field(receiver, plain=True) if receiver.kind == "dollar" else \
                self.expression(receiver)
            return ast.Call(func=ast.Attribute(value=owner, attr=method, ctx=ast.Load()),
                            args=args, keywords=keywords)
        if function.kind != "name":
            raise refuse("unsupported", "Only named functions and $ methods can be called.", node)
        return self.named_call(function.value, node)

    def is_vector(self, node: Node) -> bool:
        """An R vector by its text: c(...), or a name assigned one (a tensor passes through)."""
        if node.kind == "name":
            return node.value in self.vectors
        return node.kind == "call" and node.children[0].kind == "name" \
            and node.children[0].value == "c" and "c" not in self.assigned

    def named_call(self, name: str, node: Node) -> ast.expr:
        if name in self.autograd:
            args, keywords = self.arguments(node)
            return ast.Call(func=ast.Attribute(value=load(name), attr="apply", ctx=ast.Load()),
                            args=args, keywords=keywords)
        if name in self.assigned:
            args, keywords = self.arguments(node)
            return ast.Call(func=load(name), args=args, keywords=keywords)
        if name == "list":
            values = [self.expression(a) for a in node.children[1:]]
            return self.helper("_r_list", [self.names_tuple(node.names), *values])
        if name == "c" and node.children[1:] and all(is_literal(a) for a in node.children[1:]) \
                and not any(node.names):
            return ast.List(elts=[ast.Constant(float(literal(a))) for a in node.children[1:]],
                            ctx=ast.Load())
        if name in HELPER_CALLS:
            args, keywords = self.arguments(node)
            return self.helper(HELPER_CALLS[name], args, keywords)
        if name in SAME_NAME:
            args, keywords = self.arguments(node)
            return ast.Call(func=load(name), args=args, keywords=keywords)
        if name == "set.seed":  # R's generator is not PyTorch's: same seed, other numbers
            args, keywords = self.arguments(node)
            return ast.Call(func=torch_attr("manual_seed"), args=args, keywords=keywords)
        if name in ("runif", "rnorm"):
            args, keywords = self.arguments(node)
            return self.helper(f"_r_{name}", args, keywords)
        if name == "cuda_is_available":
            return ast.Constant(False)
        if name == "torch_device":
            return self.expression(node.children[1]) if len(node.children) == 2 else ast.Constant("cpu")
        if name in AUTOGRAD_CALLS:
            args, keywords = self.arguments(node)
            return ast.Call(func=torch_attr("autograd", AUTOGRAD_CALLS[name]), args=args,
                            keywords=keywords)
        if name.startswith("nnf_") and name[4:] in NNF:
            args, keywords = self.arguments(node, 1 if "softmax" in name else None)
            return ast.Call(func=ast.Attribute(value=load("F"), attr=name[4:], ctx=ast.Load()),
                            args=args, keywords=keywords)
        if name.startswith("torch_") and name not in NOT_TRANSLATED:
            return self.torch_call(name[6:], node)
        if self.cpython and (name in NN_CLASSES or name in OPTIMIZERS):
            args, keywords = self.arguments(node)
            if name in OPTIMIZERS:  # R takes one tensor or a list; PyTorch, an iterable
                args[:1] = [self.helper("_r_parameters", args[:1])]
                return ast.Call(func=torch_attr("optim", OPTIMIZERS[name]), args=args,
                                keywords=keywords)
            return ast.Call(func=torch_attr("nn", NN_CLASSES[name]), args=args, keywords=keywords)
        if name in ("return", "library", "with_no_grad", "autograd_function", "nn_module"):
            raise refuse("unsupported", f"`{name}()` belongs on a line of its own here.", node)
        reason = NOT_TRANSLATED.get(name, f"`{name}()` is not part of the R language chainrule "
                                    "reads (torch_*, $ methods, c, list, cat, print, seq_len, ...).")
        raise refuse("unsupported", reason, node)

    def torch_call(self, short: str, node: Node) -> ast.expr:
        if short in DTYPES and len(node.children) == 1:
            return torch_attr(short)
        if short == "manual_seed":
            args, keywords = self.arguments(node)
            return ast.Call(func=torch_attr("manual_seed"), args=args, keywords=keywords)
        if short not in TORCH_FUNCTIONS:
            raise refuse("unsupported", f"`torch_{short}()` is not part of the language.", node)
        args, keywords = self.arguments(node, 1 if short in DIM_FIRST else None)
        if short == "tensor" and args:
            data = node.children[1]
            if is_literal(data):  # torch_tensor(2) is float32 of shape {1}, as in R
                args[0] = ast.List(elts=[ast.Constant(float(literal(data)))], ctx=ast.Load())
            elif not isinstance(args[0], ast.List):
                args[0] = self.helper("_r_vector", [args[0]])
        return ast.Call(func=torch_attr(short), args=args, keywords=keywords)


def torch_attr_of(owner: str, name: str) -> ast.Attribute:
    return ast.Attribute(value=load(owner), attr=name, ctx=ast.Load())


def source_range(left: Node, right: Node) -> str:
    return f"{'-' if left.kind == 'unary' and left.value == '-' else ''}{number_text(left)}:" \
        f"{'-' if right.kind == 'unary' and right.value == '-' else ''}{number_text(right)}"


def number_text(node: Node) -> str:
    return number_text(node.children[0]) if node.kind == "unary" else node.value


def is_literal(node: Node) -> bool:
    """A plain number, possibly negated: `2`, `-1.5`."""
    if node.kind == "unary" and node.value in "-+":
        return is_literal(node.children[0])
    return node.kind == "num"


def literal(node: Node):
    if node.kind == "unary":
        value = literal(node.children[0])
        return -value if node.value == "-" else value
    return number(node)


def number(node: Node):
    """An R numeric literal: whole numbers written without a point are ints (sizes work)."""
    text = node.value
    try:
        if text.endswith("L"):
            return int(text[:-1], 0) if text[:2].lower() == "0x" else int(float(text[:-1]))
        if text[:2].lower() == "0x":
            return int(text, 16)
        if text.isdigit():
            return int(text)
        return float(text)
    except (ValueError, OverflowError):
        raise refuse("syntax", f"`{text}` is not a number R can read.", node) from None
