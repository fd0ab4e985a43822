"""JSON in and out for documented dataclasses (webapp/model.py's): each field's type checked
on reading, fields written in order, and the JSON Schema, all from the fields' type hints.

A field is `doc("…")` (always in the JSON) or `optional("…")` (left out while ABSENT; JSON's
null is None). Besides Python's types a field may be a `Number`, a `Value` (a tensor's
numbers) or any `JSON`. A class may write its JSON in more than one order (`JSON_FORMS`).
Reading and writing are compiled once per class: a trace has thousands of nodes.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import field
from typing import Literal, Union


class _Absent:
    """The marker of a field the JSON leaves out (JSON's null is None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT = _Absent()


def doc(text: str):
    """A field the JSON always has, with its one-line description."""
    return field(metadata={"doc": text})


def optional(text: str):
    """A field the JSON may leave out (ABSENT until set), with its one-line description."""
    return field(default=ABSENT, metadata={"doc": text})


class TraceError(ValueError):
    """Data that is not a trace, and where: `trace.nodes[3].kind: expected …`."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.message, self.path = message, path

    def at(self, step: str) -> "TraceError":
        self.path = step + self.path
        return self

    def __str__(self) -> str:
        return f"trace{self.path}: {self.message}"


# -- values that are JSON of a known shape, not a class of their own -------------------------
class Number:
    """A number as JSON: an int, a float, or "NaN", "Infinity", "-Infinity" (what JS's Number()
    reads; JSON has no such numbers)."""


class Value:
    """A tensor's numbers: a Number (or a bool) for a scalar, nested lists for a tensor, null
    when it is too large to list (then a `summary` says its min, max and mean)."""


class JSON:
    """Any JSON value (a program's own data: its last line, an optimiser's settings)."""


NON_FINITE = ("NaN", "Infinity", "-Infinity")


# -- the base of every documented class -----------------------------------------------------
class Model:
    """JSON in and out for a dataclass, from its fields' types (see plan_of)."""

    __slots__ = ()

    @classmethod
    def from_json(cls, data):
        """The object this JSON describes; a TraceError names the first field that is wrong."""
        return _read(cls, _PLANS.get(cls) or plan_of(cls), data)

    def to_json(self) -> dict:
        """The JSON data, fields in order, ABSENT ones left out."""
        return (_PLANS.get(type(self)) or plan_of(type(self))).write(self)


def _read(cls, plan, data):
    """from_json one field at a time, so that a TraceError says which."""
    if type(data) is not dict:
        raise TraceError(f"expected an object ({cls.__name__}), got {_kind(data)}")
    readers, values = plan.readers, {}
    for key, value in data.items():
        read = readers.get(key)
        if read is None:
            raise TraceError(f"{cls.__name__} has no field {key!r}")
        try:
            values[key] = read(value)
        except TraceError as error:
            raise error.at(f".{key}") from None
    for name in plan.required:
        if name not in values:
            raise TraceError(f"{cls.__name__} needs {name!r}")
    return cls(**values)


class _Plan:
    __slots__ = ("readers", "required", "write", "forms")


_PLANS: dict = {}


def plan_of(cls) -> _Plan:
    """Each field's reader and the class's writers, built once per class from its type hints."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    plan = _Plan()
    plan.readers = {f.name: _reader(hints[f.name]) for f in fields}
    plan.required = tuple(f.name for f in fields if f.default is dataclasses.MISSING)
    plan.write = _compile_write([f.name for f in fields], fields, hints)
    every = [f.name for f in fields]  # a field a form does not list goes last
    plan.forms = {form: _compile_write(_whole(order, every), fields, hints)
                  for form, order in getattr(cls, "JSON_FORMS", {}).items()}
    _PLANS[cls] = plan
    return plan


def _whole(order: tuple, every: list) -> list:
    return [*order, *(name for name in every if name not in order)]


def _compile_write(order, fields, hints):
    """`write(self)`: the fields in `order` into a dict, ABSENT optional ones left out."""
    optional_ = {f.name for f in fields if f.default is not dataclasses.MISSING}
    plan = [(name, name in optional_, _writer(hints[name])) for name in order]

    def write(self):
        out = {}
        for name, optional_field, writer in plan:
            value = getattr(self, name)
            if optional_field and value is ABSENT:
                continue
            out[name] = value if writer is None else writer(value)
        return out
    return write


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a bool", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _is_model(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, Model)


def _args(tp) -> tuple:
    return typing.get_args(tp)


def _is_union(tp) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _reader(tp):
    """A function checking one JSON value against `tp`, returning what the field holds."""
    if _is_model(tp):
        return tp.from_json
    if tp in _SIMPLE:
        accepted, said = _SIMPLE[tp]

        def read_simple(value):
            if type(value) not in accepted:
                raise TraceError(f"expected {said}, got {_kind(value)}")
            return value
        return read_simple
    if tp is Number:
        return _read_number
    if tp is Value:
        return _read_value
    if tp is JSON:
        return _identity
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = _args(tp)

        def read_literal(value):
            if value not in allowed or type(value) is bool:
                raise TraceError(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")
            return value
        return read_literal
    if _is_union(tp):
        readers = [_reader(arg) for arg in _args(tp) if arg is not type(None)]
        if len(readers) == 1 and len(_args(tp)) == 2:  # X | None, the common union
            read_one = readers[0]

            def read_or_null(value):
                return None if value is None else read_one(value)
            return read_or_null
        if len(readers) < len(_args(tp)):
            readers.insert(0, _reader(type(None)))

        def read_union(value):
            error = None
            for read in readers:
                try:
                    return read(value)
                except TraceError as failed:
                    error = failed
            raise error
        return read_union
    if origin is list:
        item = _reader(_args(tp)[0])

        def read_list(value):
            if type(value) is not list:
                raise TraceError(f"expected a list, got {_kind(value)}")
            out = []
            for index, entry in enumerate(value):
                try:
                    out.append(item(entry))
                except TraceError as error:
                    raise error.at(f"[{index}]") from None
            return out
        return read_list
    if origin is dict:
        item = _reader(_args(tp)[1])

        def read_dict(value):
            if type(value) is not dict:
                raise TraceError(f"expected an object, got {_kind(value)}")
            out = {}
            for key, entry in value.items():
                if type(key) is not str:
                    raise TraceError(f"expected string keys, got {key!r}")
                try:
                    out[key] = item(entry)
                except TraceError as error:
                    raise error.at(f"[{key!r}]") from None
            return out
        return read_dict
    raise TypeError(f"no reader for {tp!r}")


_SIMPLE = {str: ((str,), "a string"), int: ((int,), "an integer"), float: ((int, float), "a number"),
           bool: ((bool,), "true or false"), type(None): ((type(None),), "null")}


def _identity(value):
    return value


def _read_number(value):
    kind = type(value)
    if kind is int or kind is float or (kind is str and value in NON_FINITE):
        return value
    raise TraceError(f"expected a number, got {_kind(value)}")


def _read_value(value):
    """A tensor's numbers, checked at the top only: the numbers are PyTorch's, and a large
    trace holds millions of them (the schema test checks them all)."""
    kind = type(value)
    if kind in (int, float, bool, list) or value is None or (kind is str and value in NON_FINITE):
        return value
    raise TraceError(f"expected numbers, got {_kind(value)}")


def _writer(tp):
    """How a field's value becomes JSON: None when it already is (most fields)."""
    if not _contains_model(tp):
        return None
    origin, args = typing.get_origin(tp), _args(tp)
    if _is_model(tp):
        return _to_json
    if origin is list and _is_model(args[0]):
        return _list_to_json
    if origin is dict and _is_model(args[1]):
        return _dict_to_json
    if _is_union(tp) and len(args) == 2 and type(None) in args:
        return _optional_to_json
    return _dump


def _to_json(value):
    return value.to_json()


def _list_to_json(value):
    return [item.to_json() for item in value]


def _dict_to_json(value):
    return {key: item.to_json() for key, item in value.items()}


def _optional_to_json(value):
    return None if value is None else value.to_json()


def _contains_model(tp) -> bool:
    return _is_model(tp) or any(_contains_model(arg) for arg in _args(tp) if arg is not Ellipsis)


def _dump(value):
    if isinstance(value, Model):
        return value.to_json()
    if type(value) is list:
        return [_dump(item) for item in value]
    if type(value) is dict:
        return {key: _dump(item) for key, item in value.items()}
    return value


def schema_of(root, classes: tuple, identifier: str) -> dict:
    """The JSON Schema (draft 2020-12) of `root`, with a definition for each of `classes`."""
    # `pattern` constrains strings only: the three words JSON lacks numbers for
    finite_words = "^(NaN|Infinity|-Infinity)$"
    defs = {
        "Number": {"description": _one_line(Number.__doc__), "type": ["number", "string"],
                   "pattern": finite_words},
        "Value": {"description": _one_line(Value.__doc__),
                  "type": ["number", "string", "boolean", "null", "array"], "pattern": finite_words,
                  "items": {"$ref": "#/$defs/Value"}},
    }
    for cls in classes:
        if cls is not root:
            defs[cls.__name__] = _object_schema(cls)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": identifier,
            "title": root.__name__, **_object_schema(root), "$defs": defs}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _object_schema(cls) -> dict:
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    return {"description": _one_line(cls.__doc__), "type": "object",
            "properties": {f.name: {"description": f.metadata["doc"], **_type_schema(hints[f.name])}
                           for f in fields},
            "required": [f.name for f in fields if f.default is dataclasses.MISSING],
            "additionalProperties": False}


def _type_schema(tp) -> dict:
    if _is_model(tp) or tp in (Number, Value):
        return {"$ref": f"#/$defs/{tp.__name__}"}
    if tp is JSON:
        return {}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}
    if tp in simple:
        return {"type": simple[tp]}
    origin = typing.get_origin(tp)
    if origin is Literal:
        return {"enum": list(_args(tp))}
    if _is_union(tp):
        return {"anyOf": [_type_schema(arg) for arg in _args(tp)]}
    if origin is list:
        return {"type": "array", "items": _type_schema(_args(tp)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(_args(tp)[1])}
    raise TypeError(f"no schema for {tp!r}")
