"""What the tracer reads from an aten op's schema: its name, whether it is pointwise, and
which of its arguments are operands (numbers and tensors without gradient show as constants).

A schema is read once per op, not per call: reading it each time was a tenth of the
recording of a long loop (profiled).
"""
from __future__ import annotations

import torch

from .snapshots import is_number, snapshot

# Schema types of an aten op's operands (not dims, sizes or flags): these show as constants.
OPERAND_TYPES = frozenset({"Tensor", "number", "Optional[number]", "Optional[Tensor]", "List[Tensor]",
                           "List[Optional[Tensor]]"})
# id of an aten op -> (the op, its op_facts): a fixed set of ops, no bound needed. Keyed by id
# because an OpOverload's __hash__ is Python code; the op kept beside its facts checks the id.
_FACTS: dict = {}


def op_facts(func) -> tuple:
    """(name, pointwise, operand positions, position of each argument name) of an aten op."""
    known = _FACTS.get(id(func))
    if known is not None and known[0] is func:
        return known[1]
    schema = func._schema.arguments
    facts = (str(func), torch.Tag.pointwise in func.tags,
             frozenset(i for i, a in enumerate(schema) if str(a.type) in OPERAND_TYPES),
             {a.name: i for i, a in enumerate(schema)})
    _FACTS[id(func)] = (func, facts)
    return facts


def constants(facts: tuple, args, kwargs, name_of) -> list:
    """Numbers and tensors needing no gradient among the op's operands, copied now;
    `name_of(tensor)` is the name the program gave a tensor, if any (a number has none)."""
    found = []
    operands = facts[2]
    given = enumerate(args)
    if kwargs:  # in the schema's order, as the operands are numbered
        positions = facts[3]
        given = [*given, *sorted(((positions[name], value) for name, value in kwargs.items()
                                  if name in positions), key=lambda pair: pair[0])]
    for position, value in given:
        if position not in operands:
            continue
        for item in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(item, torch.Tensor):
                if not item.requires_grad:
                    found.append({"value": snapshot(item), "name": name_of(item), "position": position})
            elif is_number(item):
                found.append({"value": item, "name": None, "position": position})  # snapshot(item)
    return found
