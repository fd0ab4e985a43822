"""A program's exception, said as one sentence at the line of the program it came from."""
from __future__ import annotations

import ast
import builtins

import torch

from ...errors import ChainruleError, limit, runtime
from ...language.calls import TORCH_ERRORS, explain_torch_error, raised_for_the_program
from ...language.names import LANGUAGE_NAMES
from ...language.student_terms import (grad_is_none, grad_owner, grad_reads, never_given,
                                  power_hint, shape_mismatch, use_of)
from .compiled import FILENAME
from .world import FILES


def placed(error: ChainruleError, where: tuple) -> ChainruleError:
    """chainrule's own refusal (a limit, the allocation guard) at the program's line."""
    line, col = _program_position(error.__traceback__)
    if line is None:
        line, col = where
    error.line, error.col = line, col
    return error


def said(exc: Exception, known: list, tree=None) -> ChainruleError:
    """The program's exception as one sentence at the program's line it came from; with the
    program's `tree`, a mistake of the student's is said in their terms (student_terms.py)."""
    line, col = _program_position(exc.__traceback__)
    mistake = _in_student_terms(exc, tree)
    if mistake is not None:
        return mistake
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)) or \
            isinstance(exc, OSError) and exc.errno in (30, 27, 13, 2) or \
            any(sign in str(exc) for sign in FILE_SIGNS):  # EROFS, EFBIG, EACCES, ENOENT
        return _at(runtime(FILES), line, col)
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None) or ""
        known = [*known, *_frame_names(exc.__traceback__)]
        return _at(runtime(never_given(name, _use_at(exc, tree, name), _own_names(known, tree))),
                   line, col)
    if isinstance(exc, AttributeError) and getattr(exc, "obj", 0) is None:
        return _at(runtime(f"{exc}: the value is None here (is it a `.grad` read before "
                           "`backward()` has run?)."), line, col)
    if isinstance(exc, (RuntimeError, TypeError, ValueError, IndexError, ZeroDivisionError)) or \
            isinstance(exc, TORCH_ERRORS) and raised_for_the_program(exc):  # torch's own asserts
        return _at(runtime(explain_torch_error(exc)), line, col)
    text = str(exc).strip().split("\n")[0]
    return _at(runtime(f"{type(exc).__name__}: {text}" if text else type(exc).__name__),
               line, col)


def check_showable(value, node, name: str | None = None, depth: int = 0) -> None:
    """What the page shows must be readable: a tensor with data on the CPU, an integer
    JSON can carry. Said here, rather than failing in chainrule's own code later."""
    if isinstance(value, torch.Tensor) and value.device.type != "cpu":
        raise runtime(f"chainrule shows tensors on the CPU; {name or 'this value'} is on "
                      f"`{value.device.type}`.", node)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4000:
        raise limit("This integer has more digits than chainrule shows.", node)
    if isinstance(value, (list, tuple)) and depth < 4:
        for item in value[:1000]:
            check_showable(item, node, name, depth + 1)


def _at(error: ChainruleError, line, col) -> ChainruleError:
    error.line, error.col = line, col
    return error


# PyTorch's C++ words for a file it could not write or read (torch.save, torch.load).
FILE_SIGNS = ("iostream error", "PytorchStreamWriter failed", "PytorchStreamReader failed",
              "open file failed")


def _program_position(traceback) -> tuple:
    """(line, col) of the innermost program frame in a traceback."""
    frame, span, line = _innermost_program_frame(traceback)
    if frame is None:
        return None, None
    return (span[0], (span[2] or 0) + 1) if span and span[0] is not None else (line, None)


def _in_student_terms(exc: Exception, tree) -> ChainruleError | None:
    """A gradient read while still None, or two tensors whose sizes cannot be multiplied,
    said with the student's names (the interpreter says them with the same sentences)."""
    frame, span = _program_frame(exc.__traceback__)
    node = _node_at(tree, span)
    if node is None:
        return None
    names = frame.f_locals if frame is not None else {}
    text = str(exc)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor) and \
            ("bitwise_xor" in text or "for ^:" in text):  # `x^2` on floats: a power was meant
        return runtime(power_hint(node).strip(), node)
    if "NoneType" in text or isinstance(exc, AttributeError) and getattr(exc, "obj", 0) is None:
        for read in grad_reads(node):
            owner = _value_of(grad_owner(read), names)
            if owner is not None and getattr(owner, "grad", 0) is None:
                return runtime(grad_is_none(read, owner), read)
        return None
    if isinstance(exc, RuntimeError) and isinstance(node, (ast.BinOp, ast.Call)):
        operands = [_value_of(n, names) for n in _operands(node)]
        if len(operands) == 2 and all(isinstance(v, torch.Tensor) for v in operands):
            sentence = shape_mismatch(text, node, operands)
            if sentence:
                return runtime(sentence, node)
    return None


def _operands(node) -> list:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id not in ("torch", "F") and len(node.args) == 1:
        return [node.func.value, node.args[0]]  # `W.mv(v)`
    return list(node.args)


def _value_of(node, names: dict):
    """The value of a plain name in the program's frame (read, never evaluated)."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def _node_at(tree, span):
    """The expression of the program at a code position's exact span."""
    if tree is None or span is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.expr) and (node.lineno, node.end_lineno, node.col_offset,
                                           node.end_col_offset) == span:
            return node
    return None


def _program_frame(traceback) -> tuple:
    """(frame, (line, end line, col, end col)) of the innermost program frame."""
    frame, span, _ = _innermost_program_frame(traceback)
    return frame, (span if span and None not in span else None)


def _innermost_program_frame(traceback) -> tuple:
    """(frame, its code position (line, end line, col, end col; parts may be None) or None,
    its traceback line) of the innermost frame of the program's own code."""
    found = (None, None, None)
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_filename == FILENAME:
            positions = list(frame.f_code.co_positions())
            index = traceback.tb_lasti // 2
            span = positions[index] if 0 <= index < len(positions) else None
            found = frame, span, traceback.tb_lineno
        traceback = traceback.tb_next
    return found


def _use_at(exc, tree, name: str) -> str:
    """How the program uses the missing name on the failing line (`loss.backward()`)."""
    frame, span = _program_frame(exc.__traceback__)
    if tree is None or span is None:
        return name
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and node.lineno == span[0]:
            return use_of(node, tree)
    return name


def _own_names(known, tree) -> list:
    """The names the program itself gives values to (for "did you mean"), else `known`."""
    if tree is None:
        return list(known)
    known = set(known) - set(dir(builtins)) - LANGUAGE_NAMES
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and (
        isinstance(n.ctx, ast.Store) or n.id in known)] + \
        [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def _frame_names(traceback):
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == FILENAME:
            yield from traceback.tb_frame.f_locals
        traceback = traceback.tb_next
