"""What R prints for a value: a tensor as R torch prints it, numbers as R's `[1] …`, NULL.

A tensor's lines are libtorch's own printer (aten/src/ATen/core/Formatting.cpp, the one
R torch prints through: one scale, width and notation for all entries), under R torch's
`torch_tensor` and with its `[ requires_grad = TRUE ]` or `[ grad_fn = <…> ]` after the
type line (R torch's `Tensor$print`, which keeps 30 lines unless `n` says otherwise).
Here, not in lesson/: it reads tensors, and language/ may import only leaves besides torch.
"""
from __future__ import annotations

import math

import torch

from .r_runtime import RList, r_number

TYPE_NAMES = {torch.float32: "Float", torch.float64: "Double", torch.float16: "Half",
              torch.bfloat16: "BFloat16", torch.int64: "Long", torch.int32: "Int",
              torch.int16: "Short", torch.int8: "Char", torch.uint8: "Byte", torch.bool: "Bool",
              torch.complex64: "ComplexFloat", torch.complex128: "ComplexDouble"}
LINE_SIZE = 80  # libtorch's default line size, as R torch prints
LINES = 30  # R torch's print(n = 30)
R_WIDTH = 80  # R's getOption("width")
TRUNCATED = "... [the output was truncated (use n=-1 to disable)]"


def print_text(value, n=None) -> str:
    """What R's print(value) shows (without its final newline)."""
    if isinstance(value, torch.Tensor):
        return tensor_text(value, n)
    if value is None:
        return "NULL"
    if isinstance(value, RList) or isinstance(value, tuple) or \
            (isinstance(value, list) and any(isinstance(v, (torch.Tensor, list, tuple)) for v in value)):
        names = getattr(value, "names", ()) or (None,) * len(value)
        return "\n\n".join(f"${name}\n{print_text(v)}" if name else f"[[{i}]]\n{print_text(v)}"
                           for i, (name, v) in enumerate(zip(names, value), 1)) or "list()"
    items = value if isinstance(value, list) else [value]
    if all(isinstance(v, (bool, int, float, str)) for v in items):
        return vector_text(items)
    return f"<{type(value).__name__}>"


def tensor_text(tensor: torch.Tensor, n=None) -> str:
    """R torch's print of a tensor: `torch_tensor`, libtorch's lines, R torch's suffix."""
    kind = f"{tensor.device.type.upper()}{TYPE_NAMES.get(tensor.dtype, str(tensor.dtype))}Type"
    if tensor.is_complex():
        shape = ",".join(str(s) for s in tensor.shape)
        body = ("ℹ Use `$real` or `$imag` to print the contents of this tensor.\n"
                f"[ {kind}{{{shape}}} ]")
    else:
        body = _truncated(libtorch_text(tensor.detach().to("cpu", torch.float64), kind),
                          LINES if n is None else int(n))
    if tensor.grad_fn is not None:
        body += f"[ grad_fn = <{type(tensor.grad_fn).__name__}> ]"
    elif tensor.requires_grad:
        body += "[ requires_grad = TRUE ]"
    return "torch_tensor\n" + body


def _truncated(text: str, n: int) -> str:
    """R torch keeps the first n lines and the type line (cpp_torch_tensor_print)."""
    lines = text.split("\n")
    if len(lines) > n > 1:
        lines = lines[:n] + [TRUNCATED, lines[-1]]
    return "\n".join(lines)


def libtorch_text(data: torch.Tensor, kind: str) -> str:
    """`std::cout << tensor` for a float64 CPU copy; `kind` names the original type."""
    shape = list(data.shape)
    if not shape:
        return f"{_default(data.item())}\n[ {kind}{{}} ]"
    parts = []
    if len(shape) == 1:
        values = data.tolist()
        if values:
            scale, width, form = _format(values)
            if scale != 1:
                parts.append(f"{_default(scale)} *\n")
            parts += [form(v / scale, width) + "\n" for v in values]
    elif data.numel():
        parts.append(_matrix(data.tolist(), 0) if len(shape) == 2 else _slices(data))
    return "".join(parts) + f"[ {kind}{{{','.join(str(s) for s in shape)}}} ]"


def _default(value: float, width: int = 0) -> str:
    """C++'s default float output (6 significant digits, as %g), right-aligned to width."""
    return f"{value:>{width}g}"


def _fixed(value: float, width: int) -> str:
    return f"{value:>{width}.4f}"


def _scientific(value: float, width: int) -> str:
    return f"{value:>{width}.4e}"


def _format(values: list) -> tuple:
    """libtorch's __printFormat: (scale, width, how) shared by every entry printed together."""
    finite = [v for v in values if math.isfinite(v)]
    int_mode = all(v == math.ceil(v) for v in finite)
    exp_min = exp_max = 1.0
    if finite:
        first = values.index(finite[0])
        exp_min = exp_max = abs(values[first])
        for v in values[first:]:
            if math.isfinite(v):
                exp_min = min(exp_min, abs(v))
                if v > exp_max:  # libtorch compares the signed value here
                    exp_max = abs(v)
        exp_min = math.floor(math.log10(exp_min)) + 1 if exp_min != 0 else 1
        exp_max = math.floor(math.log10(exp_max)) + 1 if exp_max != 0 else 1
    if int_mode:
        return (1, 11, _scientific) if exp_max > 9 else (1, int(exp_max) + 1, _default)
    if exp_max - exp_min > 4:
        return 1, 12 if abs(exp_max) > 99 or abs(exp_min) > 99 else 11, _scientific
    if exp_max > 5 or exp_max < 0:
        return 10.0 ** (exp_max - 1), 7, _fixed
    return 1, 7 if exp_max == 0 else int(exp_max) + 6, _fixed


def _matrix(rows: list, indent: int) -> str:
    """libtorch's __printMatrix: columns split into blocks of what fits in LINE_SIZE."""
    scale, width, form = _format([v for row in rows for v in row])
    out = [" " * indent]
    per_line = (LINE_SIZE - indent) // (width + 1)
    columns, first = len(rows[0]), 0
    while first < columns:
        last = first + per_line - 1 if first + per_line <= columns else columns - 1
        if per_line < columns:
            if first != 0:
                out.append("\n")
            out.append(f"Columns {first + 1} to {last + 1}" + " " * indent)
        if scale != 1:
            out.append(f"{_default(scale)} *\n" + " " * indent)
        for r, row in enumerate(rows):
            for c in range(first, last + 1):
                out.append(form(row[c] / scale, width))
                if c == last:
                    out.append("\n")
                    if r != len(rows) - 1:
                        out.append(" " * indent + (" " if scale != 1 else ""))
                else:
                    out.append(" ")
        first = last + 1
    return "".join(out)


def _slices(data: torch.Tensor) -> str:
    """libtorch's __printTensor: each matrix `(i,j,.,.) = `, the first index fastest."""
    counter = [-1] + [0] * (data.dim() - 3)
    out, start = [], True
    while True:
        i = 0
        while True:
            counter[i] += 1
            if counter[i] < data.shape[i]:
                break
            if i == data.dim() - 3:
                return "".join(out)
            counter[i] = 0
            i += 1
        if not start:
            out.append("\n")
        start = False
        matrix = data
        for index in counter:
            matrix = matrix[index]
        out.append("(" + "".join(f"{index + 1}," for index in counter) + ".,.) = \n")
        out.append(_matrix(matrix.tolist(), 1))


def vector_text(values: list) -> str:
    """R's print of an atomic vector: `[1] 1.0 2.5`, one format for all, lines of R_WIDTH."""
    if not values:
        return "numeric(0)"
    if all(isinstance(v, str) for v in values):
        cells = ['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
        width = max(len(c) for c in cells)
        cells = [c.ljust(width) for c in cells]  # R pads quoted strings on the right
    elif all(isinstance(v, bool) for v in values):
        cells = ["TRUE" if v else "FALSE" for v in values]
    else:
        cells = _reals([float(v) for v in values])
    width = max(len(c) for c in cells)
    label_width = len(str(len(values))) + 2
    lines, line, used = [], f"{'[1]':>{label_width}}", label_width
    for i, cell in enumerate(cells):
        if i and used + width + 1 > R_WIDTH:
            lines.append(line)
            line, used = f"{f'[{i + 1}]':>{label_width}}", label_width
        line += " " + cell.rjust(width)
        used += width + 1
    return "\n".join(lines + [line])


def _reals(values: list) -> list[str]:
    """R's formatReal with 7 digits: fixed with the decimals the most precise entry needs,
    unless scientific is narrower."""
    finite = [v for v in values if math.isfinite(v) and v != 0]
    if not finite:
        return [r_number(v) for v in values]
    digits = []  # (exponent, significant digits) of each, at 7 significant digits
    for v in finite:
        mantissa, exponent = f"{abs(v):.6e}".split("e")
        digits.append((int(exponent), len(mantissa.replace(".", "").rstrip("0")) or 1))
    negative = any(v < 0 for v in values)
    right = max(max(0, sig - e - 1) for e, sig in digits)
    left = max(max(1, e + 1) for e, _ in digits)
    fixed_width = negative + left + (right + 1 if right else 0)
    significant = max(sig for _, sig in digits)
    big_exponent = any(abs(e) >= 100 for e, _ in digits)
    scientific_width = negative + (significant + 1 if significant > 1 else 1) + 4 + big_exponent
    if fixed_width <= scientific_width:
        return [r_number(v) if not math.isfinite(v) else f"{v:.{right}f}" for v in values]
    return [r_number(v) if not math.isfinite(v) else _r_scientific(v, significant - 1) for v in values]


def _r_scientific(value: float, decimals: int) -> str:
    mantissa, exponent = f"{value:.{decimals}e}".split("e")
    sign, digits = exponent[0], exponent[1:].lstrip("0")
    return f"{mantissa}e{sign}{digits.rjust(2, '0')}"
