"""The program's code object, with its last line's value kept for the page.

The interpreter's rule (API.md): the output is the last line's value; after
`y.backward()` it is y; after an assignment, the name assigned. The last statement is
rewritten to keep that value in `__chainrule_output__`, positions copied, so every op
keeps the line and column the student wrote.
"""
from __future__ import annotations

import ast

FILENAME = "<program>"
OUTPUT = "__chainrule_output__"

_COMPILED: dict = {}


def compiled(tree: ast.Module):
    """The code object of the program (its last line's value kept), cached by tree."""
    cached = _COMPILED.get(id(tree))
    if cached is not None and cached[0] is tree:
        return cached[1], cached[2]
    body = list(tree.body)
    last = body[-1]
    output_of = ("none", None)
    if isinstance(last, ast.Expr):
        call = last.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                and call.func.attr == "backward" and _autograd(call.func.value) and call.args:
            # `torch.autograd.backward(y)`: the output is y, not the autograd module
            root = call.args[0]
            if isinstance(root, (ast.List, ast.Tuple)) and len(root.elts) == 1:
                root = root.elts[0]  # `backward([y])`: one root, shown as y
            keep = ast.copy_location(ast.Assign(targets=[ast.Name(OUTPUT, ast.Store())],
                                                value=root), last)
            # The call as written, its root read back from the output (computed once).
            output = ast.copy_location(ast.Name(OUTPUT, ast.Load()), root)
            first = call.args[0]
            first = ast.copy_location(type(first)(elts=[output], ctx=ast.Load()), first) \
                if isinstance(first, (ast.List, ast.Tuple)) else output
            again = ast.copy_location(ast.Expr(ast.copy_location(ast.Call(
                func=call.func, args=[first, *call.args[1:]], keywords=call.keywords), call)), last)
            body[-1:] = [keep, again]
            output_of = ("root", None)
        elif isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                and call.func.attr == "backward":
            keep = ast.copy_location(ast.Assign(targets=[ast.Name(OUTPUT, ast.Store())],
                                                value=call.func.value), last)
            again = ast.Expr(ast.copy_location(ast.Call(
                func=ast.copy_location(ast.Attribute(ast.copy_location(ast.Name(OUTPUT, ast.Load()), call.func.value),
                                                     "backward", ast.Load()), call.func),
                args=call.args, keywords=call.keywords), call))
            body[-1:] = [keep, ast.copy_location(again, last)]
            output_of = ("root", None)
        else:
            body[-1] = ast.copy_location(ast.Assign(targets=[ast.Name(OUTPUT, ast.Store())],
                                                    value=call), last)
            output_of = ("value", None)
    elif isinstance(last, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        target = last.targets[-1] if isinstance(last, ast.Assign) else last.target
        if isinstance(target, ast.Name):
            output_of = ("name", target.id)
    module = ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
    code = compile(module, FILENAME, "exec")
    if len(_COMPILED) > 64:
        _COMPILED.clear()
    _COMPILED[id(tree)] = (tree, code, output_of)
    return code, output_of




def _autograd(node) -> bool:
    """`torch.autograd` or `autograd` (the module whose `backward` takes the roots)."""
    return isinstance(node, ast.Attribute) and node.attr == "autograd" or \
        isinstance(node, ast.Name) and node.id == "autograd"
