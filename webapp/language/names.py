"""The names the language defines (plain data, no torch import)."""

#: Maths that works with and without the `torch.` prefix.
BARE_MATH = (
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "exp", "log", "log10",
    "log2", "log1p", "sqrt", "tanh", "sigmoid", "relu", "clamp", "square", "maximum",
    "minimum", "where", "mean", "prod", "norm", "dot", "mm", "matmul", "softmax",
    "tensor", "exp2", "reciprocal",
)

#: Python builtins the language offers (each bounded by the interpreter).
BUILTINS = (
    "range", "len", "abs", "min", "max", "sum", "pow", "float", "int", "bool", "round",
    "print", "list", "tuple", "enumerate", "zip", "reversed", "staticmethod",
    "True", "False", "None", "pi",
)

MODULES = ("torch", "math", "F")

LANGUAGE_NAMES = frozenset(BARE_MATH + BUILTINS + MODULES)

#: `import X` / `from X import Y` forms that only bind what the language already has.
ALLOWED_IMPORTS = frozenset({
    "torch", "math", "torch.nn.functional", "torch.autograd", "torch.tensor",
    "torch.autograd.Function", "torch.nn", "torch.nn.functional.relu",
})
