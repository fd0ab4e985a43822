"""Run a program as real CPython under a tracer: the one place chainrule executes user text.

The program (language/open_python.py read it) is compiled and executed with `exec`, in a
job's child process that confine.py and isolation.py wall in, or in a process whose
owner trusts the text (`CHAINRULE_TRUSTED=1`: the CLI on loopback, a notebook). What the
interpreter gave students comes from watching it run, as Python Tutor does:

- names: at each line event of the program's own frames, the locals that now hold a
  different tensor are reported to the tracer (`assigned`), as the interpreter did at
  each assignment;
- lines and columns: the innermost program frame's current instruction
  (`co_positions`), read when PyTorch records an op;
- loop budgets: line events at a loop's header count its turns, and the loops running
  now are kept for the deadline's "stopped in the loop on line 3, after 41,233 turns";
- `backward()`, `torch.autograd.backward` and `torch.autograd.grad` are wrapped while the
  program runs, so the tracer hears of each pass (and names made inside a custom
  Function's backward are not the forward graph's);
- prints, and the value of the last line.
"""
from __future__ import annotations

import ast
import contextlib
import random
import sys

import torch

from ...errors import ChainruleError, limit
from ...language.loop_exits import ACTIVE_LOOPS
from ...language.names import leaf_names
from ...language.scopes import Observer

from . import permission
from .compiled import FILENAME, OUTPUT, compiled
from .said import check_showable, placed, said
from .modules import MAX_MODULES, parameters_of, submodules_of, watched_modules, watched_steps
from .world import program_globals, wrapped_backward



class _Values:
    """`scope.values` as the interpreter offered it (checks.py reads the program's defs)."""

    def __init__(self, values: dict):
        self.values = values


class CPythonRunner:
    """The interpreter's interface (`run`, `named`, `prints`, `last_value`, …), by CPython."""

    def __init__(self, limits, observer: Observer | None = None, loops: dict | None = None):
        self.limits = limits
        self.observer = observer or Observer()
        self.prints: list[dict] = []
        self.named: list[tuple[str, torch.Tensor]] = []
        self.ran_backward = False
        self.last_value = None
        self.last_line = None
        self.quiet = 0  # > 0 inside a backward pass the program runs (world.wrapped_backward)
        self.scope = _Values({})
        self.loops = loops or {}
        self.turns = 0
        self.frame = None  # the innermost frame of the program's own code
        self._seen: dict = {}  # frame -> {name: (id, grad_fn)} of the tensors it held
        self._positions: dict = {}
        self._names: dict = {}
        self._local_named: list = []  # names inside the program's own functions: a fallback
        self.module_paths: dict = {}  # id(module) -> its path from a module-level name
        self.module_kinds: dict = {}  # path -> the module's class name (the drawing's boxes)
        self._modules_now: list = []  # the modules whose forward is running, innermost last
        self.updates: list[dict] = []  # each optimizer.step() (modules.watched_steps)
        self.updates_total = 0

    # -- where --------------------------------------------------------------------
    def where(self) -> tuple:
        """(line, column) of the program's instruction running now."""
        frame = self.frame
        if frame is None:
            return None, None
        code = frame.f_code
        positions = self._positions.get(code)
        if positions is None:
            positions = self._positions[code] = list(code.co_positions())
        index = frame.f_lasti // 2
        if 0 <= index < len(positions) and positions[index][0] is not None:
            line, _, col, _ = positions[index]
            return line, (col if col is not None else -1) + 1
        return frame.f_lineno, None

    def where_and_module(self) -> tuple:
        """(line, column, module path): the recorder's stamp for the op running now; the
        module is the innermost named one whose forward is running (None: outside any)."""
        line, col = self.where()
        return line, col, self._modules_now[-1] if self._modules_now else None

    # -- running ------------------------------------------------------------------
    def run(self, tree: ast.Module, inputs: dict):
        """Execute the program; the output as the interpreter chose it (see API.md)."""
        if not permission.allowed_here():
            raise RuntimeError("user text may run only in a confined worker")  # a bug of ours
        code, output_of = compiled(tree)
        names = self._names = program_globals(self)
        for name, value in inputs.items():
            names[name] = value
            self.named.append((name, value))
        random.seed(0)
        self._base = set(names)
        self._inputs_seen = {name: (id(value), value.grad_fn) for name, value in inputs.items()
                             if isinstance(value, torch.Tensor)}
        try:
            with self._watching(), wrapped_backward(self), watched_modules(self), \
                    watched_steps(self):
                exec(code, names)  # noqa: S102 - the sandbox's one exec of user text
        except ChainruleError as error:
            raise error if error.line is not None else placed(error, self.where())
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:  # the program's own error, said at its line
            raise said(exc, [*self._names], tree) from None
        finally:
            self.frame = None
            ACTIVE_LOOPS.clear()
            self.named = leaf_names(self.named, len(inputs)) + self._local_named
        self.scope = _Values({k: v for k, v in names.items() if k not in self._base
                              or k in inputs})
        check_showable(names.get(OUTPUT), tree.body[-1])
        for name, value in self.named:
            check_showable(value, None, name)
        last = tree.body[-1]
        self.last_line = last.lineno
        kind, target = output_of
        if kind == "value":
            self.last_value = names.get(OUTPUT)
            return self.last_value
        if kind == "root":  # `y.backward()`: the output is y
            self.last_value = None
            return names.get(OUTPUT)
        if kind == "name":
            self.last_value = names.get(target)
            return self.last_value
        self.last_value = None
        return None

    @contextlib.contextmanager
    def _watching(self):
        previous = sys.gettrace()
        sys.settrace(self._on_call)
        try:
            yield
        finally:
            sys.settrace(previous)

    def _on_call(self, frame, event, arg):
        if frame.f_code.co_filename != FILENAME:
            return None  # torch and the standard library run untraced
        self.frame = frame
        if frame.f_code.co_name == "<module>":
            self._seen[frame] = dict(self._inputs_seen)  # the inputs are leaves, not new names
        else:
            self._seen[frame] = {k: (id(v), v.grad_fn) for k, v in frame.f_locals.items()
                                 if isinstance(v, torch.Tensor)}  # arguments are not new names
        return self._on_event

    def _on_event(self, frame, event, arg):
        if event == "line":
            self.frame = frame
            self._report_names(frame)
            self._count_turn(frame)
        elif event == "return":
            self._report_names(frame)
            self._seen.pop(frame, None)
            if isinstance(arg, torch.Tensor) and not self.quiet and frame.f_code.co_name != "<module>":
                self.observer.returned(frame.f_code.co_name, arg)
            while ACTIVE_LOOPS and ACTIVE_LOOPS[-1][0].frame is frame:
                ACTIVE_LOOPS.pop()
            back = frame.f_back
            while back is not None and back.f_code.co_filename != FILENAME:
                back = back.f_back
            self.frame = back
        return self._on_event

    def _report_names(self, frame) -> None:
        """Tell the tracer of each local that now holds another tensor."""
        if self.quiet:
            return
        seen = self._seen.setdefault(frame, {})
        module = frame.f_code.co_name == "<module>"
        for name, value in (frame.f_globals if module else frame.f_locals).items():
            # A tensor, or the same tensor changed in place (`y += 1`: a new grad_fn).
            if isinstance(value, torch.Tensor) and seen.get(name) != (id(value), value.grad_fn):
                seen[name] = (id(value), value.grad_fn)
                if name == OUTPUT:
                    continue
                (self.named if module else self._local_named).append((name, value))
                self.observer.assigned(name, value)
            elif module and isinstance(value, torch.nn.Module) and seen.get(name) != (id(value), None):
                seen[name] = (id(value), None)
                # Parameters by their module path, as torchviz's `params=` names them.
                for path, module in submodules_of(value)[:MAX_MODULES]:
                    path = f"{name}.{path}" if path else name
                    self.module_paths.setdefault(id(module), path)
                    self.module_kinds.setdefault(path, type(module).__name__)
                for path, parameter in parameters_of(value):
                    self.named.append((f"{name}.{path}", parameter))  # noqa: the module's path
                    self.observer.assigned(f"{name}.{path}", parameter)

    def _count_turn(self, frame) -> None:
        line = frame.f_lineno
        while ACTIVE_LOOPS and ACTIVE_LOOPS[-1][0].frame is frame \
                and not ACTIVE_LOOPS[-1][0].lineno <= line <= ACTIVE_LOOPS[-1][0].end_lineno:
            ACTIVE_LOOPS.pop()
        loop = self.loops.get(line)
        if loop is None:
            return
        self.turns += 1
        if self.turns > self.limits.max_loop_iterations:
            raise limit(f"The loops ran more than {self.limits.max_loop_iterations:,} times in "
                        "all, the most a function here may take: is a loop missing its exit?",
                        loop)
        top = ACTIVE_LOOPS[-1] if ACTIVE_LOOPS else None
        if top is not None and top[0].frame is frame and top[0].lineno == line:
            top[1] += 1
        else:
            ACTIVE_LOOPS.append([_Loop(loop, frame), 0])

    # -- errors ---------------------------------------------------------------------


class _Loop:
    """A loop running now, as job_state.JOB.innermost_loop reads it (lineno, col_offset) and by frame."""

    __slots__ = ("lineno", "end_lineno", "col_offset", "frame")

    def __init__(self, node, frame):
        self.lineno, self.end_lineno = node.lineno, node.end_lineno
        self.col_offset, self.frame = node.col_offset, frame
