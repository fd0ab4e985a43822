"""Users' `class Name(torch.autograd.Function)`, built as a real autograd Function.

The real subclass is made here, inside the worker; its forward and backward call back
into the interpreter, so the user's code runs under the same whitelist and budget.
The graph then shows a genuine `NameBackward` node.
"""
from __future__ import annotations

import torch

from ..errors import runtime, unsupported

CTX_READABLE = ("saved_tensors", "needs_input_grad")


class CtxProxy:
    """What user code sees as `ctx`: saving tensors, reading them back, and plain values."""

    class Method:
        def __init__(self, function):
            self.function = function

        def __call__(self, *args, **kwargs):
            return self.function(*args, **kwargs)

    def __init__(self, ctx):
        self._ctx = ctx
        if not hasattr(ctx, "chainrule_values"):
            ctx.chainrule_values = {}

    def get(self, name, node):
        if name == "save_for_backward":
            return CtxProxy.Method(self._save)
        if name in CTX_READABLE:
            return getattr(self._ctx, name)
        if name in self._ctx.chainrule_values:
            return self._ctx.chainrule_values[name]
        raise unsupported(f"`ctx.{name}` has not been set; ctx offers save_for_backward, "
                          "saved_tensors, needs_input_grad and values you store on it.", node)

    def set(self, name, value, node):
        if name in CTX_READABLE or name == "save_for_backward":
            raise unsupported(f"`ctx.{name}` cannot be assigned to.", node)
        if isinstance(value, (CtxProxy, CtxProxy.Method)):
            raise unsupported("Only values can be stored on ctx.", node)
        self._ctx.chainrule_values[name] = value

    def _save(self, *tensors, **named):
        if named:  # R's ctx$save_for_backward(input = input) is translated to positions
            name = next(iter(named))
            raise runtime(f"save_for_backward() got an unexpected keyword argument '{name}': "
                          f"it takes tensors by position, ctx.save_for_backward({name}).")
        if not all(isinstance(t, torch.Tensor) or t is None for t in tensors):
            raise runtime("save_for_backward takes tensors only.")
        self._ctx.save_for_backward(*tensors)


class CustomFunction:
    """The user's Function class; `Name.apply(x)` calls the real torch Function."""

    def __init__(self, name, torch_class):
        self.name = name
        self.torch_class = torch_class
        self.first_args = None  # what the program first called it with: "check my backward" uses it

    def apply(self, args, kwargs, node):
        if kwargs:
            raise unsupported(f"{self.name}.apply takes positional arguments only.", node)
        from .calls import guarded
        if self.first_args is None:
            self.first_args = [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args]
        return guarded(lambda: self.torch_class.apply(*args), node)


def build_autograd_function(name, methods, interpreter) -> CustomFunction:
    """Make a `torch.autograd.Function` subclass named `name` from the user's two methods."""
    forward_def, backward_def = methods["forward"], methods["backward"]

    def forward(ctx, *args):
        return interpreter.call_user(forward_def, [CtxProxy(ctx), *args], forward_def.node)

    def backward(ctx, *grad_outputs):
        interpreter.quiet += 1  # values made here belong to no forward graph
        try:
            result = interpreter.call_user(backward_def, [CtxProxy(ctx), *grad_outputs],
                                           backward_def.node)
        finally:
            interpreter.quiet -= 1
        return tuple(result) if isinstance(result, list) else result

    torch_class = type(name, (torch.autograd.Function,),
                       {"forward": staticmethod(forward), "backward": staticmethod(backward)})
    return CustomFunction(name, torch_class)
