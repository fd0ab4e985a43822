"""Count and cap the work a program does: loop turns, calls, tensor sizes, integers.

Sizes are checked *before* an allocation wherever the size can be known from the
arguments (creation functions, broadcasting, matrix products), so a bomb is refused
instead of allocated; every result is checked again after it is made.
"""
from __future__ import annotations

import math

import torch

from ..errors import limit
from ..limits import Limits
from .loop_exits import ACTIVE_LOOPS


class Budget:
    """The running totals of one evaluation, raising `limit` errors past the caps."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.loop_iterations = 0
        self.call_depth = 0
        self.elements = 0

    def loop_turn(self, node=None) -> None:
        self.loop_iterations += 1
        if ACTIVE_LOOPS:
            ACTIVE_LOOPS[-1][1] += 1
        if self.loop_iterations > self.limits.max_loop_iterations:
            raise limit(f"The loops ran more than {self.limits.max_loop_iterations:,} times in all, "
                        "the most a function here may take: is a loop missing its exit?", node)

    def loop_length(self, turns: int, node=None) -> None:
        """Refuse, before its first turn, a loop that must turn `turns` times (it has no
        `break` or `return`) when that is more than the budget has left."""
        most = self.limits.max_loop_iterations
        if turns > most:
            raise limit(f"This loop would turn {turns:,} times; the loops may run {most:,} "
                        "times in all.", node)
        if turns > most - self.loop_iterations:  # an inner loop, after its outer loop's turns
            raise limit(f"This loop would turn {turns:,} more times after the {self.loop_iterations:,} "
                        f"turns the loops already took: more than the {most:,} they may take in all.",
                        node)

    def enter_call(self, node=None) -> None:
        self.call_depth += 1
        if self.call_depth > self.limits.max_call_depth:
            raise limit(f"Functions called each other more than {self.limits.max_call_depth} deep; "
                        "is a recursion missing its base case?", node)

    def leave_call(self) -> None:
        self.call_depth -= 1

    def tensor_size(self, numel: int, node=None) -> None:
        """Refuse a tensor of `numel` elements before or after it is made."""
        if numel > self.limits.max_tensor_elements:
            raise limit(f"A tensor of {numel:,} elements is larger than the "
                        f"{self.limits.max_tensor_elements:,} allowed.", node)

    def produced(self, value, node=None, inputs=()) -> None:
        """Account for every new tensor in a result (an in-place result is not new)."""
        for tensor in ((value,) if isinstance(value, torch.Tensor) else _tensors_in(value)):
            if any(tensor is given for given in inputs):
                continue
            with torch._C.DisableTorchFunction():  # a size read: nothing for the guard to size
                numel = tensor.numel()
            self.tensor_size(numel, node)
            self.elements += numel
            if self.elements > self.limits.max_total_elements:
                raise limit("This function computes too many numbers in all "
                            f"(more than {self.limits.max_total_elements:,}).", node)

    def sequence(self, length: int, node=None) -> None:
        if length > self.limits.max_sequence_len:
            raise limit(f"Lists are limited to {self.limits.max_sequence_len:,} items.", node)

    def integer(self, value, node=None):
        if isinstance(value, int) and not isinstance(value, bool) \
                and value.bit_length() > self.limits.max_int_bits:
            raise limit("This integer is too large.", node)
        return value

    def power(self, base, exponent, node=None) -> None:
        """Refuse integer powers whose result would be huge before computing them."""
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
            if exponent * base.bit_length() > self.limits.max_int_bits:
                raise limit("This power is too large to compute.", node)


def _tensors_in(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            if isinstance(item, torch.Tensor):
                yield item


def numel_of_size(args) -> int | None:
    """Elements of a tensor created with sizes `args` (`zeros(2, 3)` or `zeros((2, 3))`)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)):
        args = tuple(args[0])
    if not args or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return None
    if any(a < 0 for a in args):
        return None  # torch refuses negative sizes itself
    return math.prod(args)


def nested_numel(data, seen: dict | None = None, tensor_items: bool = True) -> int:
    """Elements in nested lists, counting shared sub-lists without walking them twice.

    With `tensor_items=False` a tensor counts as one item (the length of a list),
    otherwise as its number of elements (the size of `torch.tensor(data)`).
    """
    if seen is None:
        seen = {}
    if isinstance(data, (list, tuple)):
        key = id(data)
        if key not in seen:
            seen[key] = sum(nested_numel(item, seen, tensor_items) for item in data)
        return seen[key]
    if isinstance(data, torch.Tensor) and tensor_items:
        return data.numel()
    return 1
