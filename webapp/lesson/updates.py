"""One sentence for each `optimizer.step()`: the update it is, in the program's numbers.

A step runs under no_grad, so it adds nothing to the graph; the graph shows one forward
pass, and these sentences say what moved the parameters between passes. The rule is
written out (p ← p − lr × p.grad) only for plain SGD, and only when the first entry's
numbers, as PyTorch left them, agree with it; any other optimiser is named with what it
keeps, and its numbers are shown as they were before and after.
"""
from __future__ import annotations

import math

from ..formatting import format_number, format_value
from ..model import Summary, Trace, Update

# Settings a student reads; the rest (foreach, fused, capturable, …) are how PyTorch runs it.
SHOWN_SETTINGS = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize",
                  "betas", "eps", "alpha", "amsgrad", "lr_decay", "rho", "centered")
KEEPS = {"Adam": "the running averages of each gradient and of its square",
         "AdamW": "the running averages of each gradient and of its square, and a decay of the weights",
         "RMSprop": "a running average of each gradient's square",
         "Adagrad": "the sum of each gradient's squares so far",
         "Adadelta": "running averages of the squared gradients and of the squared steps"}


def add_update_texts(trace: Trace) -> None:
    """`text` and `settings_text` on each of `trace.updates`, and each parameter's texts (in place)."""
    for update in trace.updates or []:
        update.settings_text = settings_text(update.settings)
        update.text = update_text(update)
        for parameter in update.parameters:
            parameter.before_text = _shown(parameter.before, parameter.shape)
            parameter.grad_text = _shown(parameter.grad, parameter.shape)
            parameter.after_text = _shown(parameter.after, parameter.shape)


def _shown(value, shape) -> str:
    if value is None:
        return "–"
    if isinstance(value, Summary):  # a large tensor's summary
        return format_value(None, shape, value.to_json())
    return format_value(value, shape)


def settings_text(settings: dict) -> str:
    shown = [(key, settings[key]) for key in SHOWN_SETTINGS if key in settings]
    return ", ".join(f"{key} {_setting(value)}" for key, value in shown
                     if not (key != "lr" and value in (0, False)))


def _setting(value) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_setting(v) for v in value) + ")"
    if isinstance(value, bool):
        return "on" if value else "off"
    return format_number(value)


def update_text(update: Update) -> str:
    where = f"Line {update.line}: " if update.line else ""
    name = update.optimizer
    head = f"{where}optimizer.step() ({name}) changed {_count(update)} in place, under no_grad, " \
           "so the graph records nothing for it."
    example = _first_entry(update)
    if example is None:
        return head
    label, before, grad, after = example
    lr = update.settings.get("lr")
    if _plain_sgd(update) and _agrees(before, grad, after, lr):
        return (f"{head} Plain SGD moves every parameter against its gradient, "
                f"p ← p − {format_number(lr)} × p.grad: {label} became "
                f"{_n(before)} − {format_number(lr)} × {_paren(grad)} = {_n(after)}.")
    kept = KEEPS.get(name)
    how = f"{name} moves each parameter by a step it makes from {kept}" if kept else \
        f"{name} moves each parameter by its own rule"
    if name == "SGD":
        how = "SGD with these settings also uses " + \
              ("a momentum buffer, a running sum of past gradients" if
               update.settings.get("momentum") else "more than the gradient")
    grad_text = f" (its .grad was {_n(grad)})" if grad is not None else " (it had no .grad)"
    return f"{head} {how}: {label} went from {_n(before)} to {_n(after)}{grad_text}."


def _count(update: Update) -> str:
    total = update.parameters_total
    return "1 parameter" if total == 1 else f"{total:,} parameters"


def _first_entry(update: Update):
    """(label, before, grad, after) of the first listed parameter's first entry."""
    for parameter in update.parameters:
        before, after = _first(parameter.before), _first(parameter.after)
        if before is None or after is None:
            continue
        name = parameter.name or "a parameter"
        label = name if not parameter.shape else f"{name}[{', '.join('0' for _ in parameter.shape)}]"
        return label, before, _first(parameter.grad), after
    return None


def _first(value):
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _plain_sgd(update: Update) -> bool:
    settings = update.settings
    return update.optimizer == "SGD" and not settings.get("momentum") \
        and not settings.get("weight_decay") and not settings.get("maximize")


def _agrees(before, grad, after, lr) -> bool:
    """Whether float32's p − lr × g is the value PyTorch left (so the sentence is true)."""
    if grad is None or not isinstance(lr, (int, float)):
        return False
    expected = before - lr * grad
    return math.isclose(expected, after, rel_tol=1e-5, abs_tol=1e-6)


def _n(value) -> str:
    return "–" if value is None else format_value(value, [])


def _paren(value) -> str:
    text = _n(value)
    return f"({text})" if text.startswith(("−", "-")) else text
