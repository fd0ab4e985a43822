"""The names the language defines (plain data, no torch import), and how a program's
bindings name its leaves."""

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


def leaf_names(named: list, kept: int) -> list:
    """The module's bindings, leaves named by the tensor: a name bound to several leaves
    (`x = torch.tensor(1.0, requires_grad=True)` twice) names each, x₁, x₂, in binding
    order, as rebound results are numbered; the first `kept` (the inputs) stay as they are."""
    leaves_of: dict = {}
    for name, tensor in named[kept:]:
        if tensor.is_leaf and tensor.requires_grad:
            ids = leaves_of.setdefault(name, [])
            if id(tensor) not in ids:
                ids.append(id(tensor))
    renamed = list(named[:kept])
    for name, tensor in named[kept:]:
        ids = leaves_of.get(name, [])
        if len(ids) > 1 and id(tensor) in ids:
            name = f"{name}{str(ids.index(id(tensor)) + 1).translate(SUBSCRIPTS)}"
        renamed.append((name, tensor))
    return renamed


SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
