"""What a program run as CPython starts with, and how its backward passes are heard.

Python's builtins (with `open`, `input`, `exit` said no to and imports through the
allow-list), torch, math, `F`, and the interpreter's bare maths (`sin(x)`).
"""
from __future__ import annotations

import builtins
import contextlib
import math
import re
import sys

import torch

from ...errors import unsupported
from ...language.frontend import current_language
from ...language.names import BARE_MATH
from ...language.open_python import import_refusal, module_allowed
from ...language.pybuiltins import shown

ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
FILES = ("chainrule runs a program without files: reading or writing one (open, torch.save, "
         "torch.load) is not possible here.")


def _bare(name):
    """`sin(x)` without `torch.`: numbers go to math, as the interpreter's language does."""
    function = getattr(torch, name)
    numeric = getattr(math, name, None)

    def bare(*args, **kwargs):
        if numeric is not None and args and isinstance(args[0], (int, float)) and not kwargs:
            return numeric(*args)
        args = [torch.tensor(float(a)) if isinstance(a, (int, float)) and i == 0 else a
                for i, a in enumerate(args)]
        return function(*args, **kwargs)
    bare.__name__ = name
    return bare


def _refused(sentence):
    def refuse(*args, **kwargs):
        raise unsupported(sentence)
    return refuse


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if level or not module_allowed(name):
        raise unsupported(import_refusal(name if not level else "." * level + (name or "")))
    return builtins.__import__(name, globals, locals, fromlist, level)


def _printer(runner):
    def program_print(*args, sep=" ", end="\n", file=None, flush=False):
        if file is not None and file not in (sys.stdout, sys.stderr):
            return builtins.print(*args, sep=sep, end=end, file=file, flush=flush)
        if len(runner.prints) < runner.limits.max_prints:
            text = (sep if isinstance(sep, str) else " ").join(shown(a) if isinstance(a, (list, tuple))
                                                                 else str(a) for a in args)
            # Never an address (`<AddBackward0 object at 0x7f…>`): it differs each run and
            # says nothing to a student (the interpreter's print shows none either).
            text = ADDRESS.sub("", text[:600])
            runner.prints.append({"line": runner.where()[0], "text": text[:500]})
    return program_print


def program_globals(runner) -> dict:
    """What a program starts with: Python's builtins (a few said no to), torch, math, F,
    and the interpreter's bare maths."""
    names = dict(vars(builtins))
    names.update(__import__=_import, print=_printer(runner), open=_refused(FILES),
                 input=_refused("A program here cannot ask for input: give values as inputs."),
                 breakpoint=_refused("The debugger is not available here."),
                 exit=_refused("`exit()` ends nothing here: the last line is the output."),
                 quit=_refused("`quit()` ends nothing here: the last line is the output."))
    program = {"__builtins__": names, "__name__": "__main__", "torch": torch, "math": math,
               "F": torch.nn.functional, "pi": math.pi}
    for name in BARE_MATH:
        if hasattr(torch, name):
            program[name] = _bare(name) if name not in ("tensor", "where", "maximum", "minimum",
                                                        "dot", "mm", "matmul", "softmax",
                                                        "norm", "mean", "prod", "clamp") \
                else getattr(torch, name)
    if current_language() == "r":  # R translated to Python calls its `_r_` helpers
        from ...language.r_runtime import cpython_helpers
        program.update(cpython_helpers(runner))
    return program



@contextlib.contextmanager
def wrapped_backward(runner):
    """Tell the tracer before and after each backward pass the program runs."""
    originals = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)

    def around(function, roots_of):
        def wrapper(*args, **kwargs):
            outer = runner.quiet == 0  # not a pass inside a pass (gradcheck, a Function)
            if outer:
                runner.ran_backward = True
                roots = roots_of(args, kwargs)
                if isinstance(roots, (torch.Tensor, list, tuple)):
                    runner.observer.before_backward(roots)
            runner.quiet += 1  # a custom Function's backward names nothing of the forward graph
            try:
                return function(*args, **kwargs)
            finally:
                runner.quiet -= 1
                if outer:
                    runner.observer.after_backward()
        wrapper.__wrapped__ = function
        wrapper.__name__ = function.__name__
        return wrapper

    function_apply = torch.autograd.Function.__dict__["apply"]

    def apply(cls, *args, **kwargs):
        """A custom Function's outputs are stamped when apply returns, as the interpreter
        did (no aten op records their grad_fn)."""
        result = function_apply.__func__(cls, *args, **kwargs)
        if not runner.quiet:  # all outputs at once: each output's value on one node
            runner.observer.result(result, None, [*args, *kwargs.values()])
        return result

    torch.autograd.Function.apply = classmethod(apply)
    torch.Tensor.backward = around(originals[0], lambda a, k: a[0] if a else None)
    torch.autograd.backward = around(originals[1], lambda a, k: a[0] if a else k.get("tensors"))
    torch.autograd.grad = around(originals[2], lambda a, k: a[0] if a else k.get("outputs"))
    try:
        yield
    finally:
        torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = originals
        torch.autograd.Function.apply = function_apply
