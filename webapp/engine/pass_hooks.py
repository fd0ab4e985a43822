"""The backward pass shown, as the engine runs it (a part of recorder.GraphTracer).

`before_backward` hooks every node reachable from all the roots of a backward pass; the
last pass the program ran is the one shown, with what the engine passed along each edge
and into each node, and each edge's local derivative computed while the node's saved
tensors exist: before the node runs, or after it when the pass retains the graph
(chainrule's own pass), where one hook does the work of two.
"""
from __future__ import annotations

import functools

import torch
from torch.utils._pytree import tree_leaves

from .snapshots import Copying, unguarded as _unguarded


class PassHooks:
    """Hooks on grad_fns filling `engine_order`, `upstream`, `contributions` and `locals`."""

    def after_backward(self):
        """Remember where the program's pass ended: later nodes are the program's forward again;
        and each leaf's `.grad` as the pass left it, before later lines change it (`zero_()`,
        a descent step): the panel's last line tells what the pass made of `.grad`."""
        from ..limits import MAX_NODE_ELEMENTS
        from torch.utils._python_dispatch import _get_current_dispatch_mode
        self.flush()
        self.in_pass = False
        self.pass_end = self.sequence
        self.grad_after_pass = {}
        ours = _get_current_dispatch_mode() is self.mode
        with Copying(self.mode if ours else None):
            for fn in self.walked[1] if self.walked else ():
                grad = getattr(getattr(fn, "variable", None), "grad", None)
                if grad is not None and grad.numel() <= MAX_NODE_ELEMENTS:
                    self.grad_after_pass[id(fn.variable)] = grad.detach().clone()

    def before_backward(self, roots, retained: bool = False):
        """Hook every grad_fn reachable from all `roots`; the last pass is the one shown.
        `retained`: the pass keeps saved tensors (retain_graph=True)."""
        from ..limits import MAX_GRAPH_NODES
        from .tracing import walk
        self.flush()
        self.pass_start = self.sequence  # what is stamped after this was made by or after the pass
        self.in_pass = not retained  # chainrule's own pass (retained) records nothing new
        # Only roots that require grad: the others leave PyTorch's own refusal ("element 0
        # of tensors does not require grad") to the student, not a failed hook of chainrule's.
        roots = [t for t in tree_leaves(roots) if isinstance(t, torch.Tensor) and t.requires_grad]
        for handle in self.hooks:
            handle.remove()
        self._reset_pass()
        self.roots = roots
        self.passes += 1
        for tensor in roots:
            if tensor.grad_fn is None:  # a leaf as the root: it receives the starting gradient
                self.hooks.append(tensor.register_hook(
                    lambda g, key=id(tensor): self.leaf_roots.__setitem__(key, g.detach().clone())))
        # evaluation.trace_program allows more when the graph will be folded (folding.py)
        root_fns = [t.grad_fn for t in roots]
        self.walked = (root_fns, walk(root_fns, getattr(self, "max_nodes", MAX_GRAPH_NODES)))
        for fn in self.walked[1]:
            if hasattr(fn, "variable"):
                self.hooks.append(fn.register_prehook(self._prehook(fn)))
            elif retained and not isinstance(fn, torch.autograd.function.BackwardCFunction):
                # The engine calls a node's pre hooks, the node, then its post hooks, one node
                # at a time: the post hook sees the same order and the same inputs. (A user's
                # backward could change its input in place: it keeps the pre hook.)
                self.hooks.append(fn.register_hook(functools.partial(self._after, fn)))
            else:
                self.hooks.append(fn.register_prehook(self._prehook(fn)))
                self.hooks.append(fn.register_hook(self._posthook(fn)))

    def _arrived(self, fn, grad_outputs):
        if fn not in self.upstream:
            self.engine_order.append(fn)
        self.upstream[fn] = tuple(None if g is None else g.detach().clone() for g in grad_outputs)
        if not hasattr(fn, "variable"):
            self.locals[fn] = self._local(fn, grad_outputs)

    def local_of(self, fn):
        """The node's backward applied to ones (None when it cannot be run). A node of a pass
        that retained the graph runs it now, on the same saved tensors, and only when asked:
        a folded loop shows a few of its nodes (this was a tenth of its trace, profiled)."""
        if fn in self.later_locals:
            self.later_locals.discard(fn)
            self.locals[fn] = self._local(fn, self.upstream[fn])
        return self.locals.get(fn)

    def _prehook(self, fn):
        @_unguarded
        def record(grad_outputs):
            self._arrived(fn, grad_outputs)
        return record

    def _posthook(self, fn):
        @_unguarded
        def record(grad_inputs, grad_outputs):
            self.contributions[fn] = tuple(None if g is None else g.detach().clone()
                                           for g in grad_inputs)
        return record

    def _after(self, fn, grad_inputs, grad_outputs):
        """A node's post hook on a pass that retains the graph: what arrived, what it sent
        (its local derivative waits for local_of). One partial per node, not two closures."""
        with torch._C.DisableTorchFunction():  # copies of what exists: nothing for the guard to size
            sent = tuple([None if g is None else _copy(g) for g in grad_inputs])  # no generator
            if fn not in self.upstream:
                self.engine_order.append(fn)
            self.upstream[fn] = tuple([None if g is None else _copy(g) for g in grad_outputs])
            self.later_locals.add(fn)
            self.contributions[fn] = sent

    def _local(self, fn, grad_outputs):
        """The node's backward applied to ones, while its saved tensors still exist."""
        if isinstance(fn, torch.autograd.function.BackwardCFunction) or \
                any(g is None for g in grad_outputs):
            return None  # a user's backward is not run twice; derived from the ratio instead
        self.paused += 1
        try:
            with Copying():
                result = fn(*[torch.ones_like(g) for g in grad_outputs])
            return tuple(r.detach() if r is not None and r.requires_grad else r for r in
                         (result if isinstance(result, tuple) else (result,)))
        except Exception:  # a node that cannot be re-run
            return None
        finally:
            self.paused -= 1


def _copy(grad):
    """A gradient as the engine passed it, copied (the engine may add into it afterwards);
    detached first only when it is part of a graph (create_graph)."""
    return grad.detach().clone() if grad.requires_grad else grad.clone()
