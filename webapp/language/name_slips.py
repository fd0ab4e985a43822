"""Free names used as what they are not: a function (`sni(x)`), or a module (`np.linspace`,
`tourch.sin`). Said as such, rather than becoming an input box whose tensor then has no
`.linspace` (what students saw before)."""
from __future__ import annotations

import ast
import difflib

from ..errors import unsupported

NUMPY = ("np", "numpy", "scipy", "jnp")
MODULES = ("torch", "math")


def refuse_module_slips(tree: ast.Module, inputs: list[str]) -> None:
    """A free name used as `name.attribute` that is NumPy, or a near miss of torch or math."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in inputs):
            continue
        name = node.value.id
        if name in NUMPY:
            raise unsupported(f"NumPy (`{name}`) is not part of the function language: use torch "
                              f"(`torch.{node.attr}` where it exists) and `math.pi`.", node)
        close = difflib.get_close_matches(name, MODULES, n=1, cutoff=0.8) if len(name) > 3 else []
        if close:
            raise unsupported(f"`{name}` is not a name the language knows: did you mean "
                              f"`{close[0]}`?", node)


def refuse_unknown_functions(tree: ast.Module, inputs: list[str]) -> None:
    """A free name that is called (`open(...)`) is an unknown function, not an input."""
    refuse_module_slips(tree, inputs)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in inputs:
            raise unsupported(f"`{node.func.id}()` is not a function of the language.", node)
