"""Free names used as what they are not: a function (`sni(x)`), or a module (`np.linspace`,
`tourch.sin`). Said as such, rather than becoming an input box whose tensor then has no
`.linspace` (what students saw before)."""
from __future__ import annotations

import ast
import builtins
import difflib

from ..errors import slip, unsupported
from .free_names import bound_in, objects_only
from .student_terms import never_given, use_of
from .names import BARE_MATH, BUILTINS

NUMPY = ("np", "numpy", "scipy", "jnp")
PYTHON_BUILTINS = frozenset(dir(builtins))
MODULES = ("torch", "math")


def refuse_module_slips(tree: ast.Module, inputs: list[str]) -> None:
    """A free name used as `name.attribute` that is NumPy, or a near miss of torch or math."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in inputs):
            continue
        name = node.value.id
        if name in NUMPY:
            raise slip(f"NumPy (`{name}`) is not part of the function language: use torch "
                              f"(`torch.{node.attr}` where it exists) and `math.pi`.", node)
        close = difflib.get_close_matches(name, MODULES, n=1, cutoff=0.8) if len(name) > 3 else []
        if close:
            raise slip(f"`{name}` is not a name the language knows: did you mean "
                              f"`{close[0]}`?", node)


# Names from other notations and libraries, with what the language calls them: spelling
# alone would send `ln` to `len`, and `.zero_grad()` to `.zero_` (which zeroes the tensor).
MEANT = {"ln": ("log", "the natural logarithm is `log`"),
         "arcsin": ("asin", ""), "arccos": ("acos", ""), "arctan": ("atan", ""),
         "zero_grad": (None, "`.zero_grad()` belongs to an optimizer or a model; for a "
                             "tensor's gradient write `x.grad.zero_()`")}


def did_you_mean(name: str, known, call: bool = False, prefix: str = "") -> str:
    """The hint for a near miss of a known name (a typo, a swapped pair, a capital):
    " Did you mean `sin()`?", or "" when nothing is close."""
    meant, why = MEANT.get(name, ("", ""))
    if meant is None:
        return f" {why}."
    if meant in known:
        return f" Did you mean `{prefix}{meant}{'()' if call else ''}`?" + (f" ({why})" if why else "")
    by_lower = {candidate.lower(): candidate for candidate in known}
    lower = name.lower()
    # Two letters swapped (`sni`, `rnage`) score under the cut-off: the same letters count.
    close = [c for c in by_lower if sorted(c) == sorted(lower)][:1] or \
        difflib.get_close_matches(lower, by_lower, n=1, cutoff=0.7)
    if not close or by_lower[close[0]] == name:
        return ""
    return f" Did you mean `{prefix}{by_lower[close[0]]}{'()' if call else ''}`?"


CALLABLE = tuple(name for name in BARE_MATH + BUILTINS if name[0].islower() and name != "pi")


def refuse_unknown_functions(tree: ast.Module, inputs: list[str]) -> None:
    """A free name that is called (`open(...)`) is an unknown function, not an input."""
    refuse_module_slips(tree, inputs)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in inputs:
            defined = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
            # Python's own builtins (`sorted`, `isinstance`) run as CPython; any other name
            # is a slip that CPython too would answer with a NameError.
            refusal = unsupported if node.func.id in PYTHON_BUILTINS else slip
            raise refusal(f"`{node.func.id}()` is not a function of the language."
                              + did_you_mean(node.func.id, CALLABLE + tuple(defined), call=True),
                              node)
    refuse_objects_never_given(tree, inputs)


def refuse_objects_never_given(tree: ast.Module, inputs: list[str]) -> None:
    """A free name used only as an object (`loss.backward()`, `opt.step()`) is no input: the
    error Python would raise at its line (NameError), said with the program's own names."""
    # `x.zero_grad()` keeps its own hint (MEANT): what to write for a tensor's gradient.
    objects = [node for node in objects_only(tree, inputs)
               if use_of(node, tree).rsplit(".", 1)[-1].rstrip("()") not in MEANT]
    if objects:
        first, unused = objects[0], {node.id for node in objects}
        known = [*bound_in(tree.body), *(name for name in inputs if name not in unused)]
        raise slip(never_given(first.id, use_of(first, tree), known), first)  # final: CPython too fails
