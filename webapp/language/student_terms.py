"""A student's mistake said in the student's own terms: their names, shapes and exponent.

One sentence per kind of mistake, written here once; chainrule's interpreter and the real
CPython engine (sandbox/cpython/said.py) both call these with the syntax node where the
mistake happened and the values they can see. No torch import: the validator (which also
runs where torch is never loaded) asks for the power hint.
"""
from __future__ import annotations

import ast
import difflib
import re

# PyTorch's words for two tensors whose sizes cannot be multiplied (mv, mm/matmul, dot, inner).
PRODUCT_MISMATCH = re.compile(r"size mismatch, got input|shapes cannot be multiplied|"
                              r"inconsistent tensor size|the last dimension must match")
PRODUCTS = {"matmul", "mm", "mv", "dot", "inner"}
INNER_BOTH_LAST = {"dot", "inner"}  # these pair the last size of each side


def _language() -> str | None:
    from .frontend import current_language  # frontend imports the validator, which imports us
    return current_language()


def label(node) -> str:
    """How the student wrote an operand: its name, or its short expression."""
    if isinstance(node, ast.Name):
        return node.id
    text = ast.unparse(node)
    return text if len(text) <= 24 and _language() != "r" else "this operand"


def _grad_text(owner: str) -> str:
    return f"{owner}$grad" if _language() == "r" else f"{owner}.grad"


def _none() -> str:
    return "NULL" if _language() == "r" else "None"


# -- a gradient read before any backward pass reached it ----------------------------------
def grad_owner(node):
    """The node of `x` when `node` reads its gradient (`x.grad`; R's `x$grad`), else None."""
    if isinstance(node, ast.Attribute) and node.attr == "grad" and isinstance(node.ctx, ast.Load):
        return node.value
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_r_grad" and node.args:
        return node.args[0]
    return None


def grad_reads(node) -> list:
    """The gradient reads inside `node`, in the order they are written."""
    found = [n for n in ast.walk(node) if grad_owner(n) is not None]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def grad_is_none(read, owner=None) -> str:
    """The sentence for `x.grad` found None (`read` is its node); `owner` is the tensor `x`
    when it is known, so the sentence says why no gradient can arrive when that is why."""
    name = label(grad_owner(read))
    grad = _grad_text(name)
    if owner is not None and getattr(owner, "requires_grad", True) is False:
        return (f"`{grad}` is {_none()} because {name} does not require grad, so no backward "
                f"pass stores a gradient in it: create it with requires_grad=True.")
    if owner is not None and getattr(owner, "is_leaf", True) is False:
        return (f"`{grad}` is {_none()} because PyTorch keeps gradients only on leaf tensors, "
                f"and {name} is computed from others: call {_r_spelling(name + '.retain_grad()')} before "
                f"backward() to keep it.")
    return (f"`{grad}` is {_none()} because no backward pass has reached {name} yet: call "
            f"backward() on a result computed from {name} before this line reads its gradient.")


def none_grad_operand(pairs):
    """The gradient read among (node, value) operand pairs whose value is None, else None."""
    for node, value in pairs:
        if value is None and grad_owner(node) is not None:
            return node
    return None


# -- two tensors whose sizes cannot be multiplied ------------------------------------------
def operand_nodes(node, count: int) -> list:
    """The nodes of an operation's `count` tensor operands: `W @ v`, `torch.mv(W, v)`,
    `W.mv(v)` (the tensor a method is called on comes first)."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Call):
        args = list(node.args)
        if isinstance(node.func, ast.Attribute) and count == len(args) + 1:
            args = [node.func.value] + args
        return args[:count]
    return []


def operation_name(node) -> str:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return "matmul"
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ""


def _shape(shape) -> str:
    return "[" + "×".join(str(int(size)) for size in shape) + "]"


def shape_mismatch(text: str, node, values: list) -> str | None:
    """W @ v with sizes that do not meet, said with the student's names and shapes; None
    when `text` is not such a refusal or the operands are not two known tensors."""
    operation = operation_name(node)
    if not PRODUCT_MISMATCH.search(text or "") or operation.removeprefix("_r_") not in PRODUCTS:
        return None
    shapes = [getattr(value, "shape", None) for value in values]
    nodes = operand_nodes(node, len(values))
    if len(values) != 2 or len(nodes) != 2 or any(s is None or len(s) == 0 for s in shapes):
        return None
    left, right = (tuple(s) for s in shapes)
    if operation in INNER_BOTH_LAST or len(right) == 1:
        inner = (left[-1], right[-1])
    else:
        inner = (left[-1], right[-2])
    if inner[0] == inner[1]:
        return None  # another size is at fault (a batch size): PyTorch's own words say which
    return (f"{label(nodes[0])} is {_shape(left)}, {label(nodes[1])} is {_shape(right)}: "
            f"the inner sizes {inner[0]} and {inner[1]} must match to multiply them.")


# -- `x^3` where a power was meant -----------------------------------------------------------
def power_hint(node, source: str | None = None) -> str:
    """" For a power, write `x**3 + 1`.": the student's own text with `**` for `^`.
    `^` binds more loosely than `+` in Python, so `x^3 + 1` is read as x ^ (3 + 1): the
    text as typed, not the tree, says what the student meant."""
    typed = ast.get_source_segment(source, node) if source else None
    if typed and "\n" not in typed:
        written = typed.replace("^=", "**=").replace("^", "**")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
        written = _as_typed(node).replace(" ^ ", "**")
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.BitXor):
        written = ast.unparse(node).replace(" ^= ", " **= ")
    else:
        written = "x**2"
    if len(written) > 40:
        written = "base**exponent"
    return f" For a power, write `{written}` (`^` is not a power in Python)."


def _as_typed(node) -> str:
    """`a ^ b` as typed, from the tree alone (the CPython engine has no text): brackets
    where the student wrote them, read from the positions (`(x+1)^2` starts before x+1)."""
    left, right = ast.unparse(node.left), ast.unparse(node.right)
    if isinstance(node.left, ast.BinOp) and isinstance(node.left.op, ast.BitXor):
        left = _as_typed(node.left)
    if (node.lineno, node.col_offset) < (node.left.lineno, node.left.col_offset) \
            and not left.startswith("("):
        left = f"({left})"
    if (node.end_lineno, node.end_col_offset) > (node.right.end_lineno, node.right.end_col_offset) \
            and not right.endswith(")"):
        right = f"({right})"
    return f"{left} ^ {right}"


# -- a name never given a value, used as an object -----------------------------------------
def use_of(name_node, tree) -> str:
    """How the program uses a name as an object: `loss.backward()`, `a.grad`, `f()`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (node.func is name_node or isinstance(
                node.func, ast.Attribute) and node.func.value is name_node):
            attribute = f".{node.func.attr}" if node.func is not name_node else ""
            return _r_spelling(f"{name_node.id}{attribute}()")
        if isinstance(node, ast.Attribute) and node.value is name_node:
            return _r_spelling(f"{name_node.id}.{node.attr}")
    return name_node.id


def _r_spelling(text: str) -> str:
    return text.replace(".", "$") if _language() == "r" else text


def never_given(name: str, use: str, known) -> str:
    """The sentence for a name the program never assigns, used as `use` (`loss.backward()`);
    "did you mean" from the program's own names."""
    known = sorted({k for k in known if k != name and not k.startswith("_")})
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        hint = f" Did you mean `{close[0]}`?"
    elif known:
        hint = " The program's own names are " + ", ".join(f"`{k}`" for k in known[:6]) + "."
    else:
        hint = ""
    where = "" if use == name else f", so `{use}` cannot run" if use.endswith(")") else \
        f", so `{use}` has nothing to read"
    return f"`{name}` is never given a value{where}.{hint}"
