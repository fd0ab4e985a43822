"""Modules and optimisers as the program uses them: which module's forward made each op,
and what each `optimizer.step()` did to the parameters.

Both come from PyTorch's own global hooks, registered only while the program runs:
`register_module_forward_pre_hook`/`register_module_forward_hook` keep a stack of the
modules whose forward is running (the recorder stamps each op with the innermost named
one, so the drawing can box a module's ops as torchview does), and
`register_optimizer_step_pre_hook`/`…post_hook` copy each parameter, its `.grad` and its
new value around the step, which runs under no_grad and so records no graph.
"""
from __future__ import annotations

import contextlib

import torch
from torch.nn.modules import module as nn_module
from torch.optim import optimizer as optim_module
from torch.utils._python_dispatch import _disable_current_modes

from ...limits import MAX_MODULES, MAX_NODE_ELEMENTS, MAX_PARAMETERS_KEPT, MAX_UPDATES_KEPT

__all__ = ["MAX_MODULES", "parameters_of", "submodules_of", "watched_modules", "watched_steps"]


def parameters_of(module) -> list:
    """A model's named parameters; none from one its own code left half-built."""
    try:
        return list(module.named_parameters())
    except Exception:  # noqa: BLE001 - the program's own class, whatever it does
        return []


def submodules_of(module) -> list:
    """(path, module) for the model and every module inside it ("" for the model)."""
    try:
        return list(module.named_modules())
    except Exception:  # noqa: BLE001 - the program's own class, whatever it does
        return []


@contextlib.contextmanager
def watched_modules(runner):
    """Keep `runner._modules_now`: the named modules whose forward runs now, innermost last.
    A module the program never bound to a name (made inside a function) is not boxed."""
    stack = runner._modules_now

    def before(module, args):
        stack.append(runner.module_paths.get(id(module)) or (stack[-1] if stack else None))

    def after(module, args, output):
        if stack:
            stack.pop()

    handles = [nn_module.register_module_forward_pre_hook(before),
               nn_module.register_module_forward_hook(after, always_call=True)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
        stack.clear()


@contextlib.contextmanager
def watched_steps(runner):
    """Record each `optimizer.step()` in `runner.updates`: the optimiser, its settings, the
    line, and every parameter before, its `.grad`, and after (copies, taken as PyTorch
    left them)."""
    taken = {"count": 0, "before": None}

    def names() -> dict:
        return {id(tensor): name for name, tensor in runner.named}

    def before(optimizer, args, kwargs):
        with _quiet():
            taken["before"] = [(p, _kept(p), _kept(p.grad)) for p in _parameters(optimizer)]

    def after(optimizer, args, kwargs):
        with _quiet():
            taken["count"] += 1
            runner.updates_total = taken["count"]
            known = names()
            kept = taken["before"] or []
            update = {"step": taken["count"], "line": runner.where()[0],
                      "optimizer": type(optimizer).__name__,
                      "settings": settings(optimizer), "parameters_total": len(kept),
                      "parameters": [{"name": known.get(id(p)), "shape": list(p.shape),
                                      "before": old, "grad": grad, "after": _kept(p)}
                                     for p, old, grad in kept[:MAX_PARAMETERS_KEPT]]}
            taken["before"] = None
            updates = runner.updates
            if len(updates) > MAX_UPDATES_KEPT:
                updates[-1] = update  # the latest step stands for those left out
            else:
                updates.append(update)

    handles = [optim_module.register_optimizer_step_pre_hook(before),
               optim_module.register_optimizer_step_post_hook(after)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def settings(optimizer) -> dict:
    """The first parameter group's numeric settings (lr, momentum, betas, …)."""
    groups = getattr(optimizer, "param_groups", None) or [{}]
    kept = {}
    for key, value in groups[0].items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, (bool, int, float)) or (
                isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value)):
            kept[key] = list(value) if isinstance(value, tuple) else value
    return kept


def _parameters(optimizer) -> list:
    return [p for group in getattr(optimizer, "param_groups", [])
            for p in group.get("params", []) if isinstance(p, torch.Tensor)]


def _kept(tensor):
    """A copy of a small tensor; min, max and mean of a large one (no copy)."""
    if tensor is None:
        return None
    data = tensor.detach()
    if data.numel() <= MAX_NODE_ELEMENTS:
        return data.clone()
    data = data.double()
    return {"min": data.min().item(), "max": data.max().item(), "mean": data.mean().item()}


@contextlib.contextmanager
def _quiet():
    """Copies made outside the recorder and the allocation guard: they are chainrule's."""
    with _disable_current_modes(), torch._C.DisableTorchFunction(), torch.no_grad():
        yield
