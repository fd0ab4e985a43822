"""Record every tensor at the level PyTorch produces it, and one backward pass.

`GraphTracer` is active while the interpreter runs a program. Its `TorchDispatchMode`
sees every aten-level output, composite ops' inner ones included (`1/x` is a
reciprocal, then a multiplication). An output is kept pending until the next dispatch
(or the end): by then autograd has set `.grad_fn` on the same tensor object, and the
tracer stamps that node's `metadata` with the order it was computed in, a snapshot of
its value (and tangent), the source position and the constants among the op's inputs;
names come from the interpreter (`assigned`).

The backward pass shown is recorded by hooks (pass_hooks.py). `close()` drops every hook
and reference when the job ends.
"""
from __future__ import annotations

import torch
import torch.autograd.forward_ad as forward_ad
from torch.utils._python_dispatch import _disable_current_modes, _get_current_dispatch_mode

from .aten_ops import constants, op_facts
from .job_state import JOB
from .snapshots import (Copying, RecordingMode, output_nr as _output_nr, snapshot, tensors_in,
                        unguarded as _unguarded)
from ..language.interpreter import Observer
from .pass_hooks import PassHooks

KEY = "chainrule"


def close_later(tracer: "GraphTracer", graph_of=()) -> None:
    """tracer.close(graph_of) now, or in a worker once the job's answer is written
    (job_state.JOB.close_after_answer)."""
    if JOB.close_after_answer:
        tracer.graph_of = list(graph_of)
        JOB.closing.append(tracer)
    else:
        tracer.close(graph_of)


def close_open_tracers() -> None:
    """Release every tracer still open; the worker calls this when a job ends (after the
    answer: those close_later kept, and a safety net, since hooks left on grad_fn would keep
    a graph for good)."""
    for tracer in list(JOB.tracers):
        tracer.close(tracer.graph_of)
    JOB.closing.clear()


def _unchanged(known, tensor) -> bool:
    """Whether a leaf still holds the snapshot taken of it (a summary of a large one is
    taken as unchanged: comparing it would cost a copy)."""
    if not isinstance(known, torch.Tensor):
        return True
    return known.shape == tensor.shape and bool(torch.equal(known, tensor.detach()))


class GraphTracer(PassHooks, Observer):
    """Listens to PyTorch (dispatch mode, hooks) and to the interpreter (names)."""

    def __init__(self, where=None, tangents: bool = False):
        JOB.tracers.add(self)
        self.where = where or (lambda: (None, None))
        self.tangents = tangents
        self.sequence = 0
        self.paused = 0
        self.pending: list = []
        self.tangent_pending: list = []
        self.leaf_order: dict[int, tuple[int, torch.Tensor]] = {}
        self.leaf_values: dict[tuple, object] = {}  # (id, version, state) -> snapshot
        self.leaf_keys: dict[int, tuple] = {}  # id -> the key of the leaf's latest state
        self.constant_names: dict[int, tuple[str, torch.Tensor]] = {}
        self.roots: list | None = None
        self.graph_of: list = []  # tensors whose graphs close() also clears (close_later)
        self.passes = 0
        self.pass_end = None  # the sequence number when the program's last backward returned
        self.pass_start = None  # … and when it began
        self.in_pass = False  # inside one of the program's backward passes
        self.grad_after_pass: dict = {}  # id(leaf) -> its .grad as the program's last pass left it
        self._reset_pass()
        self.mode = RecordingMode(self)

    def _reset_pass(self):
        self.hooks: list = []
        self.engine_order: list = []
        self.upstream: dict = {}       # grad_fn -> gradients arriving at it
        self.contributions: dict = {}  # grad_fn -> gradients it sends to its inputs
        self.locals: dict = {}         # grad_fn -> its backward applied to ones, before freeing
        self.later_locals: set = set()  # grad_fns whose `locals` wait for local_of (retained)
        self.leaf_roots: dict = {}     # id of a leaf that is a root -> the gradient it got
        self.walked = None             # (root grad_fns, every grad_fn below them) of this pass

    # -- lifetime ------------------------------------------------------------------
    def __enter__(self):
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.flush()
        self.mode.__exit__(*exc)

    def close(self, graph_of=()):
        """Drop every hook, snapshot and reference, so nothing outlives the job; the records
        on the graphs of `graph_of` (tensors that live on, like the output) too."""
        for handle in self.hooks:
            handle.remove()
        stack = [t.grad_fn for t in [*graph_of, *(self.roots or [])]
                 if isinstance(t, torch.Tensor) and t.grad_fn is not None]
        # The last pass's walk holds every node below its own: no need to walk them again.
        seen = set(self.walked[1]) if self.walked else set()
        for fn in seen:
            fn.metadata.pop(KEY, None)
        while stack:
            fn = stack.pop()
            if fn in seen:
                continue
            seen.add(fn)
            fn.metadata.pop(KEY, None)
            stack.extend(n for n, _ in fn.next_functions if n is not None)
        self._reset_pass()
        self.pending, self.tangent_pending, self.roots, self.graph_of = [], [], None, []
        self.leaf_order, self.leaf_values, self.constant_names = {}, {}, {}
        self.leaf_keys = {}

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    # -- recording -----------------------------------------------------------------
    def note_leaf(self, tensor: torch.Tensor) -> None:
        if tensor.requires_grad and tensor.grad_fn is None and id(tensor) not in self.leaf_order:
            self.leaf_order[id(tensor)] = (self._next(), tensor)

    def flush(self, in_dispatch: bool = False):
        """Stamp the grad_fn of every output computed since the last dispatch; tangents are
        read outside a dispatch only (below autograd, `unpack_dual` cannot run)."""
        if not self.pending and (in_dispatch or not self.tangent_pending):
            return
        pending, self.pending = self.pending, []
        self.paused += 1
        try:
            # Copies of tensors that exist: the guard need not size them (most of a long loop's
            # time, profiled). Outside a dispatch, this mode steps aside too: each copy would
            # pass through it (paused).
            ours = not in_dispatch and _get_current_dispatch_mode() is self.mode
            with Copying(self.mode if ours else None):
                for item in pending:
                    if not self._stamp(*item) and not in_dispatch:
                        # Inside a custom Function's forward: its output gets a grad_fn later.
                        self.pending.append(item)
                if not in_dispatch:
                    for tangents, tensors in self.tangent_pending:
                        tangents.update({_output_nr(t): self._tangent(t) for t in tensors})
                    self.tangent_pending = []
        finally:
            self.paused -= 1

    def _stamp(self, outputs, func, args, kwargs, where) -> bool:
        """Stamp the new grad_fns among `outputs`; False when they have none yet."""
        if len(outputs) == 1:  # most ops: no list of candidates to build
            tensor = outputs[0]
            fn = tensor.grad_fn
            if fn is None:
                self.note_leaf(tensor)
                candidates = []
            else:
                candidates = [(fn, outputs)]
            if tensor._is_view() and tensor._base is not None:
                base = tensor._base  # an in-place change of a view (y[0] = 0) rewrites its base
                base_fn = base.grad_fn
                if base_fn is not None and base_fn is not fn:
                    candidates.append((base_fn, [base]))
        else:
            candidates = self._candidates(outputs)
        fresh = [(fn, tensors) for fn, tensors in candidates if KEY not in fn.metadata]
        if not fresh:
            return bool(candidates) or any(t.requires_grad for t in outputs)
        versions = {}
        leaf_order, leaf_values = self.leaf_order, self.leaf_values
        for tensor in tensors_in(args, kwargs):
            if tensor.requires_grad and tensor.grad_fn is None:  # a leaf (note_leaf, inline)
                if id(tensor) not in leaf_order:
                    leaf_order[id(tensor)] = (self._next(), tensor)
                key = self.leaf_keys.get(id(tensor))
                if key is None or key[1] != tensor._version or \
                        not _unchanged(leaf_values[key], tensor):
                    # A new state of the leaf: a new version, or `w.data -= …`, which changes
                    # it without one (a descent loop's leaf was drawn with its first value).
                    key = (id(tensor), tensor._version, len(leaf_values))
                    leaf_values[key] = snapshot(tensor)
                    self.leaf_keys[id(tensor)] = key
                versions[id(tensor)] = key
        op = op_facts(func) if func is not None else None
        for fn, tensors in fresh:
            custom = isinstance(fn, torch.autograd.function.BackwardCFunction)
            if len(tensors) == 1:
                value = snapshot(tensors[0])
                values = {_output_nr(tensors[0]): value}
            else:
                values = {_output_nr(t): snapshot(t) for t in tensors}
                value = values[min(values)] if len(values) == 1 else None
            record = fn.metadata[KEY] = {
                "seq": self._next(), "name": None, "names": {}, "origin": None,
                "line": where[0], "col": where[1], "aten": op[0] if func else None,
                "pointwise": func is not None and op[1],
                "values": values,
                "tangents": {} if self.tangents else None,
                "constants": [] if custom or func is None else
                constants(op, args, kwargs, self._constant_name),
                "leaf_versions": versions,
                "value": value,
            }
            if self.in_pass:  # recorded by a backward pass run with create_graph=True
                record["derivative"] = True
            elif len(where) > 2 and where[2] is not None:  # inside a named module's forward
                record["module"] = where[2]
            if self.tangents:
                self.tangent_pending.append((record["tangents"], tensors))
        return True

    def _candidates(self, outputs) -> list:
        """(grad_fn, its outputs) of several outputs, and the base a view's change rewrites."""
        candidates, seen = [], set()
        for tensor in outputs:
            fn = tensor.grad_fn
            if fn is None:
                self.note_leaf(tensor)
            elif fn not in seen:
                seen.add(fn)
                candidates.append((fn, [t for t in outputs if t.grad_fn is fn]))
            if tensor._is_view() and tensor._base is not None:
                base = tensor._base
                base_fn = base.grad_fn
                if base_fn is not None and base_fn not in seen:
                    seen.add(base_fn)
                    candidates.append((base_fn, [base]))
        return candidates

    @staticmethod
    def _tangent(tensor):
        with _disable_current_modes():  # unpack_dual must reach autograd, not this mode
            tangent = forward_ad.unpack_dual(tensor).tangent
        return None if tangent is None else snapshot(tangent)

    def _constant_name(self, value):
        if isinstance(value, torch.Tensor):
            named = self.constant_names.get(id(value))
            return named[0] if named and named[1] is value else None
        return None

    # -- interpreter callbacks -------------------------------------------------------
    @_unguarded  # the callbacks read and copy what exists: nothing for the guard to size
    def result(self, value, node, operands):
        """A value the interpreter produced (a tensor, or a custom Function's outputs): stamp
        its node if no op output carried it (a custom Function's forward returning tensors
        it computed earlier), every output's value at once."""
        self.flush()
        values = list(value) if isinstance(value, (tuple, list)) else [value]
        fresh = [v for v in values if isinstance(v, torch.Tensor) and v.grad_fn is not None
                 and KEY not in v.grad_fn.metadata]
        if fresh:
            self.paused += 1
            try:
                with Copying():
                    self._stamp(fresh, None, tuple(operands), {}, self.where())
            finally:
                self.paused -= 1

    @_unguarded
    def assigned(self, name, value):
        self.flush()
        fn = value.grad_fn
        if fn is not None and KEY in fn.metadata:
            record = fn.metadata[KEY]
            record["names"].setdefault(_output_nr(value), name)
            if record["name"] is None:
                record["name"] = name
        elif fn is None:
            self.note_leaf(value)
            if not value.requires_grad and len(self.constant_names) < 10_000:
                self.constant_names.setdefault(id(value), (name, value))

    @_unguarded
    def returned(self, function_name, value):
        self.flush()
        fn = value.grad_fn
        if fn is not None and KEY in fn.metadata and fn.metadata[KEY]["origin"] is None:
            fn.metadata[KEY]["origin"] = function_name
