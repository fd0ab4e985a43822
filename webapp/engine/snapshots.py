"""What the tracer's dispatch mode sees: every aten-level output, with its value as it was.

An output waits in `tracer.pending` until the next dispatch (by then autograd has set its
`.grad_fn`); its value is copied now, when PyTorch computed it, or summarised when large.
"""
from __future__ import annotations

import torch
from torch.utils._pytree import tree_leaves
from torch._C import _pop_torch_dispatch_stack as _pop_dispatch_stack
from torch._C import _push_on_torch_dispatch_stack as _push_dispatch_stack
from torch.utils._python_dispatch import TorchDispatchMode

from ..limits import MAX_NODE_ELEMENTS
from .job_state import JOB
from .jsonvalues import describe


class Large:
    """A value too large to copy: its shape and min/max/mean, taken when computed."""

    __slots__ = ("shape", "summary")

    def __init__(self, tensor: torch.Tensor):
        self.shape = list(tensor.shape)
        self.summary = describe(tensor, 0)["summary"]


def snapshot(value):
    """The value now: a copy when small, else a summary (see MAX_NODE_ELEMENTS)."""
    if not isinstance(value, torch.Tensor):
        return value
    if value.requires_grad and torch.is_grad_enabled():  # (the recorder copies with grad off)
        value = value.detach()
    if value.numel() <= MAX_NODE_ELEMENTS:
        return value.clone()
    return Large(value)


def tensors_in(args, kwargs=None) -> list:
    """The tensors among an op's arguments, in pytree order: a quick walk of the flat and
    list cases aten ops take, `tree_leaves` for anything deeper (it was ~5 % of a loop)."""
    found = []
    for value in (*args, *(kwargs.values() if kwargs else ())):
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple, dict)):
            for item in (value.values() if isinstance(value, dict) else value):
                if isinstance(item, torch.Tensor):
                    found.append(item)
                elif isinstance(item, (list, tuple, dict)):
                    return [t for t in tree_leaves((args, kwargs or {}))
                            if isinstance(t, torch.Tensor)]
    return found


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class RecordingMode(TorchDispatchMode):
    """The tracer's dispatch mode: every aten-level output waits in `tracer.pending`."""

    def __init__(self, tracer):  # a recorder.GraphTracer
        super().__init__()
        self.tracer = tracer

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No torch.compile runs in a worker: torch's own opt-out of wrapping every dispatch
        in a dynamo-disable frame (about 7 % of a long loop's time, profiled)."""
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tracer = self.tracer
        if tracer.paused:
            return func(*args, **kwargs)
        if tracer.pending:
            tracer.flush(in_dispatch=True)
        out = func(*args, **kwargs)
        if not torch.is_grad_enabled():
            # No grad_fn can come of it (a backward pass without create_graph, no_grad
            # updates); a custom Function's output is stamped when the interpreter gets it.
            return out
        if isinstance(out, torch.Tensor):
            outputs = [] if out.is_meta else [out]
        else:
            outputs = [t for t in tensors_in((out,)) if not t.is_meta]
        if outputs:
            tracer.pending.append((outputs, func, args, kwargs, tracer.where()))
        return out


class Copying:
    """`no_grad` with the allocation guard off and, given `mode`, that dispatch mode set aside:
    for copying tensors that exist. Cheaper than the three `with`s it replaces (4 µs, measured)."""

    __slots__ = ("mode", "grad", "guard")

    def __init__(self, mode=None):
        self.mode = mode

    def __enter__(self):
        JOB.uninterrupted += 1  # the deadline waits: a cut here leaves torch switched off
        if self.mode is not None:  # _pop_mode / _push_mode for a mode without a dispatch key
            _pop_dispatch_stack(None)
        self.guard = torch._C.DisableTorchFunction()  # first: the grad switch is overridable
        self.guard.__enter__()
        self.grad = torch.is_grad_enabled()
        torch._C._set_grad_enabled(False)

    def __exit__(self, *exc):
        torch._C._set_grad_enabled(self.grad)
        self.guard.__exit__(*exc)
        if self.mode is not None:
            _push_dispatch_stack(self.mode)
        JOB.uninterrupted -= 1


def unguarded(hook):
    """A backward hook that copies what exists, without the allocation guard's sizing."""
    def run(*args):
        with torch._C.DisableTorchFunction():
            return hook(*args)
    return run


def output_nr(tensor) -> int:
    return getattr(tensor, "output_nr", 0)
