"""One error type for every refusal, with one JSON shape (see API.md)."""
from __future__ import annotations

#: HTTP status for each error kind; everything a user typed is a 400.
STATUS_BY_KIND = {
    "syntax": 400,
    "unsupported": 400,
    "input": 400,
    "limit": 400,
    "runtime": 400,
    "busy": 429,
    "internal": 500,
}


class ChainruleError(Exception):
    """A refusal with a sentence a student understands, and where it happened."""

    def __init__(self, kind: str, message: str, line: int | None = None,
                 col: int | None = None, status: int | None = None, input_name: str | None = None):
        super().__init__(message)
        self.kind = kind
        self._status = status
        self.message = message
        self.line = line
        self.col = col
        self.input_name = input_name  # the value refused (kind "input"): the page marks its box

    @property
    def status(self) -> int:
        return self._status or STATUS_BY_KIND.get(self.kind, 400)

    def at(self, node) -> "ChainruleError":
        """Attach the position of an AST node unless a position is already known."""
        if self.line is None and node is not None and hasattr(node, "lineno"):
            self.line = node.lineno
            self.col = node.col_offset + 1
        return self

    def to_dict(self) -> dict:
        body = {"kind": self.kind, "message": self.message}
        if self.line is not None:
            body["line"] = self.line
            body["col"] = self.col
        if self.input_name is not None:
            body["input"] = self.input_name
        if getattr(self, "guards", None):  # misconceptions the failing program shows
            body["guards"] = self.guards
        return {"error": body}

    @classmethod
    def from_dict(cls, data: dict) -> "ChainruleError":
        body = data["error"]
        return cls(body["kind"], body["message"], body.get("line"), body.get("col"),
                   input_name=body.get("input"))


def unwrap(answer: dict):
    """A job's answer `{"ok": value}` as its value; `{"error": {...}}` raised as the error."""
    if "error" in answer:
        raise ChainruleError.from_dict(answer)
    return answer["ok"]


def syntax(message, node=None):
    return ChainruleError("syntax", message).at(node)


def unsupported(message, node=None):
    return ChainruleError("unsupported", message).at(node)


def slip(message, node=None):
    """A refusal that names the student's slip (`x^2`, `sni(x)`, `tourch`): final, where
    another refusal of the interpreter's language lets the program run as CPython."""
    error = unsupported(message, node)
    error.final = True
    return error


def interpreter_only(message, node=None):
    """A bound of chainrule's interpreter alone (a long string): the program then runs as
    CPython instead (engine/jobs.py)."""
    error = limit(message, node)
    error.interpreter_only = True
    return error


def limit(message, node=None):
    return ChainruleError("limit", message).at(node)


# The two limits every side reports (worker, pool, interpreter), written once.
OUT_OF_MEMORY = "This function needs more memory than a student's share."


def out_of_time(seconds: float, loop: tuple | None = None) -> ChainruleError:
    """`loop`: (line, col, turns) of the innermost loop running when time ran out, if any:
    the student is shown which loop to look at, and the editor marks it."""
    message = f"This function took longer than {seconds:g} seconds, so it was stopped"
    if loop is None:
        return limit(message + ".")
    line, col, turns = loop
    error = limit(f"{message} in the loop on line {line}, after {turns:,} "
                  f"turn{'s' * (turns != 1)}.")
    error.line, error.col = line, col
    return error


def runtime(message, node=None):
    return ChainruleError("runtime", message).at(node)


def bad_input(message, input_name: str | None = None):
    """A refused request; `input_name` names the input whose value is refused, if one is."""
    return ChainruleError("input", message, input_name=input_name)


def busy(message="The server is busy with other students' functions; try again in a moment."):
    return ChainruleError("busy", message)
