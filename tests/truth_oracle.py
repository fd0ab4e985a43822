"""The oracle: run a program as real Python with real PyTorch and record what PyTorch did.

Independent of webapp: the same source text runs under `exec` in the (trusted) test
process, with a TorchDispatchMode that sees every aten output (each new grad_fn gets
its order and value), and hooks on every grad_fn of each backward pass (the last pass
wins: the engine's order, what reached each node, what each node sent along each edge).
"""
from __future__ import annotations

import ast
import math

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

# Names the function language offers without `torch.` (real Python needs them imported).
BARE = ["sin", "cos", "tan", "exp", "log", "log10", "log2", "log1p", "sqrt", "tanh", "sigmoid",
        "relu", "abs", "square", "maximum", "minimum", "clamp", "where", "atan", "sinh", "cosh",
        "asin", "acos", "erf", "sign", "reciprocal", "rsqrt", "exp2", "softplus"]


def namespace(inputs: dict) -> dict:
    names = {"torch": _Torch(), "math": math, "F": F}
    for name in BARE:
        names[name] = _numbers_as_tensors(getattr(torch, name, None) or getattr(F, name))
    for name in PAIRS:
        names[name] = _pair(getattr(torch, name))
    names.update({k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in inputs.items()})
    return names


def _numbers_as_tensors(function):
    """The language's `sin(0.5)`: a number alone becomes a 0-d tensor (API.md)."""
    def call(*args, **kwargs):
        if args and isinstance(args[0], (int, float)) and \
                not any(isinstance(a, torch.Tensor) for a in args):
            args = (torch.tensor(float(args[0])), *args[1:])
        return function(*args, **kwargs)
    return call


PAIRS = ("maximum", "minimum")


def _pair(function):
    """The language's `maximum(x, 0)`: numbers beside tensors become tensors (API.md)."""
    def call(*args, **kwargs):
        return function(*[torch.tensor(float(a)) if isinstance(a, (int, float)) else a for a in args],
                        **kwargs)
    return call


class _Torch:
    """`torch`, with the language's conveniences for maximum/minimum on numbers."""

    def __getattr__(self, name):
        return _pair(getattr(torch, name)) if name in PAIRS else getattr(torch, name)


class Oracle(TorchDispatchMode):
    """Every grad_fn PyTorch made: its order and the value of each of its outputs."""

    def __init__(self):
        super().__init__()
        self.order: dict = {}    # grad_fn -> position
        self.values: dict = {}   # grad_fn -> {output_nr: value}
        self.waiting: list = []
        self.roots = None
        self.hooks, self.engine, self.upstream, self.sent = [], [], {}, {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.settle()
        out = func(*args, **(kwargs or {}))
        self.waiting.append([t for t in tree_leaves(out) if isinstance(t, torch.Tensor)])
        return out

    def settle(self):
        """Autograd has set grad_fn on the last op's outputs (and on a view's base)."""
        waiting, self.waiting = self.waiting, []
        for outputs in waiting:
            new = set()
            for tensor in outputs:
                owners = [tensor] + ([tensor._base] if tensor._is_view() else [])
                for owner in owners:
                    fn = owner.grad_fn
                    if fn is None:
                        continue
                    if fn not in self.order:
                        self.order[fn] = len(self.order)
                        self.values[fn] = {}
                        new.add(fn)
                    if fn in new:
                        self.values[fn].setdefault(getattr(owner, "output_nr", 0), owner.detach().clone())

    def settled_count(self) -> int:
        self.settle()
        return len(self.order)

    def hook(self, roots):
        """Before a backward pass: hook every node reachable from all its roots."""
        self.settle()
        for handle in self.hooks:
            handle.remove()
        self.roots = [t for t in tree_leaves(roots) if isinstance(t, torch.Tensor) and t.requires_grad]
        self.hooks, self.engine, self.upstream, self.sent = [], [], {}, {}
        for fn in reachable(self.roots):
            self.hooks.append(fn.register_prehook(lambda g, fn=fn: self._arrived(fn, g)))
            if not hasattr(fn, "variable"):
                self.hooks.append(fn.register_hook(lambda gi, go, fn=fn: self.sent.__setitem__(
                    fn, [None if g is None else g.detach().clone() for g in gi])))

    def _arrived(self, fn, grads):
        if fn not in self.upstream:
            self.engine.append(fn)
        self.upstream[fn] = [None if g is None else g.detach().clone() for g in grads]


def reachable(roots) -> list:
    seen, stack, order = set(), [r.grad_fn for r in roots if r.grad_fn is not None], []
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        order.append(fn)
        stack.extend(n for n, _ in fn.next_functions if n is not None)
    return order


def run(source: str, inputs: dict, grad_output=None):
    """Execute `source` as Python; returns (oracle, names, last value, roots of the pass shown)."""
    tree = ast.parse(source)
    names = namespace(inputs)
    oracle = Oracle()
    real = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
    ran, started = [], []  # started: how many grad_fns existed when each pass began

    def tensor_backward(self, *args, **kwargs):
        oracle.hook(self)
        ran.append(self)
        started.append(oracle.settled_count())
        return real[0](self, *args, **kwargs)

    def autograd_backward(tensors, *args, **kwargs):
        oracle.hook(tensors)
        ran.append(tensors)
        started.append(oracle.settled_count())
        return real[1](tensors, *args, **kwargs)

    def autograd_grad(outputs, *args, **kwargs):
        oracle.hook(outputs)
        ran.append(outputs)
        started.append(oracle.settled_count())
        return real[2](outputs, *args, **kwargs)

    torch.random.default_generator.manual_seed(0)
    last = None
    torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = \
        tensor_backward, autograd_backward, autograd_grad
    try:
        with oracle:
            body, final = tree.body[:-1], tree.body[-1]
            exec(compile(ast.Module(body=body, type_ignores=[]), "<oracle>", "exec"), names)  # noqa: S102 trusted test text
            if isinstance(final, ast.Expr):
                last = eval(compile(ast.Expression(final.value), "<oracle>", "eval"), names)  # noqa: S307
            else:
                exec(compile(ast.Module(body=[final], type_ignores=[]), "<oracle>", "exec"), names)  # noqa: S102
                if isinstance(final, ast.Assign) and isinstance(final.targets[-1], ast.Name):
                    last = names[final.targets[-1].id]
                elif isinstance(final, ast.AugAssign) and isinstance(final.target, ast.Name):
                    last = names[final.target.id]
            oracle.settle()
    finally:
        torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = real
    after_pass = ran and isinstance(last, torch.Tensor) and last.grad_fn is not None \
        and oracle.order.get(last.grad_fn, -1) >= started[-1]
    if (not ran and isinstance(last, torch.Tensor) and last.requires_grad) or after_pass:
        # No backward in the program, or an output computed after its last pass began, by it
        # (create_graph) or after it (API.md): chainrule runs one from it.
        gradient = None if last.numel() == 1 and grad_output is None else (
            torch.ones_like(last) if grad_output == "ones" else torch.tensor(grad_output))
        # After the program's own pass, .grad stays as the program left it (API.md's
        # additions): only the hooks see this pass.
        kept = [(t, None if t.grad is None else t.grad.clone()) for t in names.values()
                if isinstance(t, torch.Tensor) and t.is_leaf and t.requires_grad] if after_pass else []
        oracle.hook(last)
        real[0](last, gradient, retain_graph=True)
        for tensor, grad in kept:
            tensor.grad = grad
    for handle in oracle.hooks:
        handle.remove()
    return oracle, names, last
