"""Split R source into tokens, each with its line and column in the R text.

Only what an R torch autograd lesson needs is read; anything else (backticks, `@`,
raw strings) is refused here by name, pointing at the character.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ChainruleError

# Longest first, so `<-` wins over `<` and `%/%` over `%`.
OPERATORS = ("<<-", "->>", "%/%", "%*%", "%%", "<-", "->", "<=", ">=", "==", "!=", "&&", "||",
             "::", "[[", "+", "-", "*", "/", "^", "<", ">", "!", "&", "|", "=", "(", ")",
             "{", "}", "[", "]", ",", ";", ":", "$", "~", "?", "@")
NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)(L|i)?")
NAME = re.compile(r"[A-Za-z.][A-Za-z0-9._]*")
SPECIAL_OPERATOR = re.compile(r"%[^%\n]*%")
ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "r": "\r", "0": "\0"}


@dataclass(frozen=True)
class Token:
    kind: str    # "num", "str", "name", "op", "newline", "end"
    text: str    # the token as written (a string's value once unescaped)
    line: int
    col: int     # 1-based, as in every error of the project


def error(kind: str, message: str, line: int, col: int) -> ChainruleError:
    return ChainruleError(kind, message, line, col)


def tokenize(source: str) -> list[Token]:
    """Tokens of `source`; newlines are kept, since they end R statements."""
    tokens: list[Token] = []
    line, line_start, i = 1, 0, 0
    while i < len(source):
        char = source[i]
        col = i - line_start + 1
        if char == "\n":
            tokens.append(Token("newline", "\n", line, col))
            line, line_start, i = line + 1, i + 1, i + 1
        elif char in " \t\r\f":
            i += 1
        elif char == "#":
            end = source.find("\n", i)
            i = len(source) if end < 0 else end
        elif char.isdigit() or (char == "." and source[i + 1:i + 2].isdigit()):
            match = NUMBER.match(source, i)
            if match.group(4) == "i":
                raise error("unsupported", "Complex numbers are not part of the language.", line, col)
            tokens.append(Token("num", match.group(0), line, col))
            i = match.end()
        elif char.isascii() and char.isalpha() or char == ".":  # NAME reads ASCII only
            match = NAME.match(source, i)
            tokens.append(Token("name", match.group(0), line, col))
            i = match.end()
        elif char in "\"'":
            text, i, end_line, line_start = _string(source, i, line, line_start, col)
            tokens.append(Token("str", text, line, col))
            line = end_line
        elif char == "`":
            raise error("unsupported", "Backtick names (`like this`) are not part of the language.",
                        line, col)
        elif char == "%" and (match := SPECIAL_OPERATOR.match(source, i)) \
                and match.group(0) not in OPERATORS:
            raise error("unsupported", f"The {match.group(0)} operator is not part of the language; "
                        "it reads %%, %/% and %*%.", line, col)
        else:
            op = next((o for o in OPERATORS if source.startswith(o, i)), None)
            if op is None:
                what = f"'{char}'" if char.isprintable() else f"U+{ord(char):04X}"
                raise error("syntax", f"R cannot read the character {what} here.", line, col)
            if op == "*" and source.startswith("**", i):  # R reads ** as ^
                tokens.append(Token("op", "^", line, col))
                i += 2
                continue
            tokens.append(Token("op", op, line, col))
            i += len(op)
    tokens.append(Token("end", "", line, len(source) - line_start + 1))
    return tokens


def _string(source, i, line, line_start, col):
    """Read a quoted string starting at `i`; return (value, next index, line, line start)."""
    quote, start_line = source[i], line
    parts, i = [], i + 1
    while i < len(source) and source[i] != quote:
        if source[i] == "\\":
            escape = source[i + 1:i + 2]
            if escape not in ESCAPES:
                raise error("syntax", f"The escape \\{escape} is not understood in an R string.",
                            line, i - line_start + 1)
            parts.append(ESCAPES[escape])
            i += 2
            continue
        if source[i] == "\n":
            line, line_start = line + 1, i + 1
        parts.append(source[i])
        i += 1
    if i >= len(source):
        raise error("syntax", "This string is never closed: a quote is missing.", start_line, col)
    return "".join(parts), i + 1, line, line_start
