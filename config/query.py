"""The grammar of the boolean query language shared by watchlists and search: a pure parser.

It lives below every stage, so that the settings can validate a watchlist's query where it is read
(with the file and line) and ``nlp.query`` evaluates the same trees. Grammar (case-insensitive
operators; adjacent terms are ANDed)::

    query    := or
    or       := and ("OR" and)*
    and      := not (["AND"] not)*
    not      := ("NOT" | "-") not | near            # -term, -"phrase", -(group)
    near     := primary ("NEAR/" N primary)*
    primary  := "(" or ")" | FIELD ":" primary | '"' phrase '"' | TERM

A word written ``name:value`` whose ``name`` is not a known field is an error (quote it, ``"a:b"``, to
search for the text itself), and so is ``NEAR/`` without a whole number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEXT_FIELDS = ("title", "body")
KEYWORD_FIELDS = (
    "id",
    "source",
    "domain",
    "lang",
    "watchlist",
    "story",
    "kind",
    "topic",
    "sentiment",
    "risk",
    "toward",
)
FIELD_ALIASES = {"text": "body", "language": "lang", "site": "source"}
TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|(NEAR/\S*)|(-)(?=["(])|([^\s()"]+))', re.IGNORECASE)
FIELD_PREFIX = re.compile(r"[A-Za-z_]+:(?!//)")
NEAR = re.compile(r"NEAR/(\d+)$", re.IGNORECASE)


class QuerySyntaxError(ValueError):
    """The query does not parse; the message says what and at which position."""


@dataclass(frozen=True)
class Term:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int


Node = Term | Phrase | And | Or | Not | Near


def field_names() -> list[str]:
    """Every field a query may name, with its aliases."""
    return sorted({*TEXT_FIELDS, *KEYWORD_FIELDS, *FIELD_ALIASES})


def parse(text: str) -> Node:
    """Parse ``text``; raise :class:`QuerySyntaxError` naming the problem and its position."""
    parser = _Parser(_lex(text), text)
    node = parser.parse_or()
    extra = parser.peek()
    if extra is not None:
        raise QuerySyntaxError(f"unexpected {extra[1]!r} at position {extra[2]} in {text!r}")
    return node


def _lex(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None:
            raise QuerySyntaxError(f"unbalanced quote at position {position} in {text!r}")
        start = match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
        tokens.append(_token(match, start, text))
        position = match.end()
    return tokens


def _token(match: re.Match[str], start: int, text: str) -> tuple[str, str, int]:
    if match.group(1):
        return ("(", "(", start)
    if match.group(2):
        return (")", ")", start)
    if match.group(3) is not None:
        return ("phrase", match.group(3), start)
    if match.group(4):
        if not NEAR.match(match.group(4)):
            raise QuerySyntaxError(
                f"{match.group(4)!r} at position {start} in {text!r}: NEAR takes a whole number of "
                "words, e.g. NEAR/5"
            )
        return ("near", match.group(4), start)
    if match.group(5):
        return ("NOT", "-", start)
    word = match.group(6)
    if word == "-":
        raise QuerySyntaxError(f"'-' at position {start} in {text!r} excludes nothing: write -term")
    return (word.upper() if word.upper() in ("AND", "OR", "NOT") else "word", word, start)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens = _split_dashes(tokens)
        self.text = text
        self.at = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError(f"query ends too early: {self.text!r}")
        self.at += 1
        return token

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (token := self.peek()) is not None and token[0] == "OR":
            self.take()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_not()]
        while (token := self.peek()) is not None and token[0] not in ("OR", ")"):
            if token[0] == "AND":
                self.take()
            children.append(self.parse_not())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_not(self) -> Node:
        token = self.peek()
        if token is not None and token[0] == "NOT":
            self.take()
            return Not(self.parse_not())
        return self.parse_near()

    def parse_near(self) -> Node:
        node = self.parse_primary()
        while (token := self.peek()) is not None and token[0] == "near":
            self.take()
            node = Near(node, self.parse_primary(), int(token[1].split("/")[1]))
        return node

    def parse_primary(self) -> Node:
        kind, value, position = self.take()
        if kind == "(":
            node = self.parse_or()
            if self.peek() is None or self.take()[0] != ")":
                raise QuerySyntaxError(f"missing ')' for '(' at position {position} in {self.text!r}")
            return node
        if kind == "phrase":
            return Phrase(value)
        if kind == "word":
            return self._word(value, position)
        raise QuerySyntaxError(f"unexpected {value!r} at position {position} in {self.text!r}")

    def _word(self, value: str, position: int) -> Node:
        if not FIELD_PREFIX.match(value):
            return Term(value)
        field, _, rest = value.partition(":")
        name = FIELD_ALIASES.get(field.lower(), field.lower())
        if name not in TEXT_FIELDS + KEYWORD_FIELDS:
            raise QuerySyntaxError(
                f"unknown field {field!r} at position {position} in {self.text!r}; fields: "
                f"{', '.join(field_names())} (quote the word to search for it as text)"
            )
        operand = Term(rest) if rest else self.parse_primary()
        return _with_field(operand, name, position, self.text)


def _split_dashes(tokens: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """A word written ``-term`` was lexed as NOT plus the whole word; keep the word without its dash."""
    out: list[tuple[str, str, int]] = []
    for kind, value, position in tokens:
        while kind == "word" and value.startswith("-") and len(value) > 1:
            out.append(("NOT", "-", position))
            value, position = value[1:], position + 1
        out.append((kind, value, position))
    return out


def _with_field(node: Node, field: str, position: int, text: str) -> Node:
    if isinstance(node, Term):
        return Term(node.text, field)
    if isinstance(node, Phrase):
        return Phrase(node.text, field)
    if isinstance(node, Or | And):
        return type(node)(tuple(_with_field(child, field, position, text) for child in node.children))
    raise QuerySyntaxError(
        f"field {field}: takes a term, a phrase or a group (position {position} in {text!r})"
    )
