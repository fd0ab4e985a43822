"""A hand-written Pratt parser for the R that torch lessons use, into a small R tree.

Precedence follows R's own table (`?Syntax`): `^` binds tighter than unary minus,
which binds tighter than `:`, then `%op%`, `* /`, `+ -`, comparisons, `!`, `& &&`,
`| ||`, `->`, `<-`, `=`. Newlines end a statement except inside ( ) and [ ], or after
an operator that still wants its right side.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .r_lexer import Token, error, tokenize

from ..limits import MAX_R_NESTING as MAX_DEPTH
# operator: (left binding power, right binding power); right-associative ones have rbp < lbp.
INFIX = {"=": (10, 9), "<-": (20, 19), "<<-": (20, 19), "->": (30, 31), "->>": (30, 31),
         "~": (35, 36), "||": (40, 41), "|": (40, 41), "&&": (50, 51), "&": (50, 51),
         "==": (60, 61), "!=": (60, 61), "<": (60, 61), ">": (60, 61), "<=": (60, 61),
         ">=": (60, 61), "+": (70, 71), "-": (70, 71), "*": (80, 81), "/": (80, 81),
         "%%": (90, 91), "%/%": (90, 91), "%*%": (90, 91), ":": (100, 101), "^": (110, 109)}
POSTFIX = 120
UNARY_MINUS, UNARY_NOT = 105, 55
KEYWORDS = {"if", "else", "for", "while", "repeat", "function", "break", "next", "in",
            "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA"}


@dataclass
class Node:
    """One R construct. `kind` says which; `value` holds its text or operator."""

    kind: str
    line: int
    col: int
    value: object = None
    children: list = field(default_factory=list)
    names: list = field(default_factory=list)  # argument names of a call (None: positional)


class Parser:
    def __init__(self, source: str):
        self.tokens = tokenize(source)
        self.at = 0
        self.nesting = [False]  # True inside ( ) and [ ]: newlines do not end anything there
        self.depth = 0

    # -- tokens ----------------------------------------------------------------
    def peek(self) -> Token:
        if self.nesting[-1]:
            while self.tokens[self.at].kind == "newline":
                self.at += 1
        return self.tokens[self.at]

    def next(self) -> Token:
        token = self.peek()
        if token.kind != "end":  # the end token stays, so every look-ahead finds it
            self.at += 1
        return token

    def skip_newlines(self) -> None:
        while self.tokens[self.at].kind == "newline" or self.tokens[self.at].text == ";":
            self.at += 1

    def is_op(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text == text

    def expect(self, text: str, what: str) -> Token:
        token = self.peek()
        if token.kind != "op" or token.text != text:
            found = "the end of the text" if token.kind == "end" else \
                "a new line" if token.kind == "newline" else f"'{token.text}'"
            raise error("syntax", f"Expected '{text}' {what}, found {found}.", token.line, token.col)
        return self.next()

    # -- statements --------------------------------------------------------------
    def program(self) -> list[Node]:
        body = self.statements(until="end")
        return body

    def statements(self, until: str) -> list[Node]:
        body = []
        self.skip_newlines()
        while not (self.tokens[self.at].kind == until or
                   (until == "}" and self.tokens[self.at].text == "}")):
            if self.tokens[self.at].kind == "end":
                token = self.tokens[self.at]
                raise error("syntax", "A '{' is never closed: a '}' is missing.", token.line, token.col)
            body.append(self.expression(0))
            token = self.tokens[self.at]
            if token.kind not in ("newline", "end") and token.text not in (";", "}"):
                raise error("syntax", f"Unexpected '{token.text}': R expects a new line or ';' "
                            "between two statements.", token.line, token.col)
            self.skip_newlines()
        return body

    # -- expressions -------------------------------------------------------------
    def expression(self, min_bp: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            token = self.peek()
            raise error("limit", "This function is nested too deeply to read.", token.line, token.col)
        try:
            left = self.prefix()
            while True:
                token = self.peek()
                if token.kind != "op":
                    break
                if token.text in ("(", "[", "[[", "$", "@", "::"):
                    left = self.postfix(left)
                    continue
                if token.text not in INFIX or INFIX[token.text][0] <= min_bp:
                    break
                self.next()
                self.skip_newlines_inside_operator()
                right = self.expression(INFIX[token.text][1])
                left = Node("binary", token.line, token.col, token.text, [left, right])
            return left
        finally:
            self.depth -= 1

    def skip_newlines_inside_operator(self) -> None:
        while self.tokens[self.at].kind == "newline":
            self.at += 1

    def prefix(self) -> Node:
        token = self.next()
        if token.kind == "num":
            return Node("num", token.line, token.col, token.text)
        if token.kind == "str":
            return Node("str", token.line, token.col, token.text)
        if token.kind == "name":
            return self.keyword(token) if token.text in KEYWORDS else \
                Node("name", token.line, token.col, token.text)
        if token.kind == "op":
            if token.text in ("-", "+"):
                return Node("unary", token.line, token.col, token.text, [self.expression(UNARY_MINUS)])
            if token.text == "!":
                return Node("unary", token.line, token.col, "!", [self.expression(UNARY_NOT)])
            if token.text == "(":
                self.nesting.append(True)
                inner = self.expression(0)
                self.expect(")", "to close this bracket")
                self.nesting.pop()
                return Node("paren", token.line, token.col, None, [inner])
            if token.text == "{":
                self.nesting.append(False)
                body = self.statements(until="}")
                self.nesting.pop()
                self.expect("}", "to close this block")
                return Node("block", token.line, token.col, None, body)
        found = "the end of the text" if token.kind == "end" else \
            "a new line" if token.kind == "newline" else f"'{token.text}'"
        raise error("syntax", f"R cannot read this: unexpected {found}.", token.line, token.col)

    def keyword(self, token: Token) -> Node:
        word, line, col = token.text, token.line, token.col
        if word in ("TRUE", "FALSE", "NULL", "Inf", "NaN", "NA"):
            return Node("const", line, col, word)
        if word in ("break", "next"):
            return Node(word, line, col)
        if word == "function":
            return self.function(token)
        if word == "if":
            condition = self.condition("if")
            body = self.body()
            save = self.at
            self.skip_newlines_inside_operator()
            if self.peek().kind == "name" and self.peek().text == "else":
                self.next()
                return Node("if", line, col, None, [condition, body, self.body()])
            self.at = save
            return Node("if", line, col, None, [condition, body])
        if word == "for":
            self.expect("(", "after for")
            self.nesting.append(True)
            variable = self.next()
            if variable.kind != "name" or variable.text in KEYWORDS:
                raise error("syntax", "A for loop needs a variable name: for (i in 1:n).",
                            variable.line, variable.col)
            keyword = self.next()
            if keyword.text != "in":
                raise error("syntax", "Expected 'in' in the for loop: for (i in 1:n).",
                            keyword.line, keyword.col)
            sequence = self.expression(0)
            self.expect(")", "to close the for loop's header")
            self.nesting.pop()
            return Node("for", line, col, variable.text, [sequence, self.body()])
        if word == "while":
            return Node("while", line, col, None, [self.condition("while"), self.body()])
        if word == "repeat":
            return Node("repeat", line, col, None, [self.body()])
        raise error("syntax", f"'{word}' cannot start an expression here.", line, col)

    def condition(self, word: str) -> Node:
        self.expect("(", f"after {word}")
        self.nesting.append(True)
        condition = self.expression(0)
        self.expect(")", f"to close the {word} condition")
        self.nesting.pop()
        return condition

    def body(self) -> Node:
        self.skip_newlines_inside_operator()
        return self.expression(0)

    def function(self, token: Token) -> Node:
        self.expect("(", "after function")
        self.nesting.append(True)
        params, defaults = [], []
        while not self.is_op(")"):
            name = self.next()
            if name.kind != "name" or name.text in KEYWORDS:
                raise error("syntax", "A function's arguments are names: function(x, y).",
                            name.line, name.col)
            params.append(Node("name", name.line, name.col, name.text))
            defaults.append(self.expression(0) if self.is_op("=") and self.next() else None)
            if not self.is_op(")"):
                self.expect(",", "between arguments")
        self.expect(")", "to close the arguments")
        self.nesting.pop()
        body = self.body()
        return Node("function", token.line, token.col, defaults, [*params, body])

    def postfix(self, left: Node) -> Node:
        token = self.next()
        if token.text == "(":
            args, names = self.arguments(")")
            return Node("call", left.line, left.col, None, [left, *args], names)
        if token.text in ("[", "[["):
            args, names = self.arguments("]")
            if token.text == "[[":
                self.expect("]", "to close [[")
            return Node("index" if token.text == "[" else "index2", token.line, token.col,
                        None, [left, *args], names)
        if token.text == "$":
            name = self.next()
            if name.kind not in ("name", "str"):
                raise error("syntax", "Expected a name after $.", name.line, name.col)
            return Node("dollar", token.line, token.col, name.text, [left])
        raise error("unsupported", f"The {token.text} operator is not part of the language"
                    + (" (S4 slots are not read)." if token.text == "@" else " (no packages)."),
                    token.line, token.col)

    def arguments(self, closing: str):
        """Comma-separated arguments up to `closing`; `name = value` gives a named one."""
        self.nesting.append(True)
        args, names = [], []
        while not self.is_op(closing):
            token = self.peek()
            if token.kind == "op" and token.text == ",":  # an empty argument: x[, 1]
                args.append(Node("empty", token.line, token.col))
                names.append(None)
                self.next()
                continue
            following = self.tokens[min(self.at + 1, len(self.tokens) - 1)]
            if token.kind in ("name", "str") and following.kind == "op" and following.text == "=":
                self.next(), self.next()
                names.append(token.text)
            else:
                names.append(None)
            args.append(self.expression(10))
            if not self.is_op(closing):
                self.expect(",", "between arguments")
                if self.is_op(closing):
                    args.append(Node("empty", token.line, token.col))
                    names.append(None)
        self.nesting.pop()
        self.expect(closing, "to close the arguments")
        return args, names


def parse_r(source: str) -> list[Node]:
    """The statements of an R program, or a ChainruleError pointing into the text."""
    try:
        return Parser(source).program()
    except RecursionError:
        raise error("limit", "This function is nested too deeply to read.", 1, 1) from None
