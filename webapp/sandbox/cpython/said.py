"""A program's exception, said as one sentence at the line of the program it came from."""
from __future__ import annotations

import difflib

import torch

from ...errors import ChainruleError, limit, runtime
from ...language.calls import TORCH_ERRORS, explain_torch_error, raised_for_the_program
from .compiled import FILENAME
from .world import FILES


def placed(error: ChainruleError, where: tuple) -> ChainruleError:
    """chainrule's own refusal (a limit, the allocation guard) at the program's line."""
    line, col = _program_position(error.__traceback__)
    if line is None:
        line, col = where
    error.line, error.col = line, col
    return error


def said(exc: Exception, known: list) -> ChainruleError:
    """The program's exception as one sentence at the program's line it came from."""
    line, col = _program_position(exc.__traceback__)
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)) or \
            isinstance(exc, OSError) and exc.errno in (30, 27, 13, 2) or \
            any(sign in str(exc) for sign in FILE_SIGNS):  # EROFS, EFBIG, EACCES, ENOENT
        return _at(runtime(FILES), line, col)
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None) or ""
        known = [*known, *_frame_names(exc.__traceback__)]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        return _at(runtime(f"`{name}` is used on this line but never given a value.{hint}"),
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
    found = (None, None)
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_filename == FILENAME:
            positions = list(frame.f_code.co_positions())
            index = traceback.tb_lasti // 2
            if 0 <= index < len(positions) and positions[index][0] is not None:
                found = positions[index][0], (positions[index][2] or 0) + 1
            else:
                found = traceback.tb_lineno, None
        traceback = traceback.tb_next
    return found


def _frame_names(traceback):
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == FILENAME:
            yield from traceback.tb_frame.f_locals
        traceback = traceback.tb_next
