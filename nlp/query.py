"""The boolean query language shared by watchlists and search.

Grammar (case-insensitive operators; adjacent terms are ANDed)::

    query    := or
    or       := and ("OR" and)*
    and      := not (["AND"] not)*
    not      := ("NOT" | "-") not | near
    near     := primary ("NEAR/" N primary)*
    primary  := "(" or ")" | FIELD ":" primary | '"' phrase '"' | TERM

Fields: ``title``, ``body``, ``source``, ``domain``, ``lang``, ``watchlist``, ``story``.
Each backend compiles the tree; :func:`matches` evaluates it over plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.normalize import CJK, fold, has_cjk

TEXT_FIELDS = ("title", "body")
KEYWORD_FIELDS = ("source", "domain", "lang", "watchlist", "story", "kind")
FIELD_ALIASES = {"text": "body", "language": "lang", "site": "source"}
TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|(NEAR/\d+)|([^\s()"]+))', re.IGNORECASE)


class QuerySyntaxError(ValueError):
    """The query does not parse; the message says where."""


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
        if match.group(1):
            tokens.append(("(", "(", start))
        elif match.group(2):
            tokens.append((")", ")", start))
        elif match.group(3) is not None:
            tokens.append(("phrase", match.group(3), start))
        elif match.group(4):
            tokens.append(("near", match.group(4), start))
        else:
            word = match.group(5)
            kind = word.upper() if word.upper() in ("AND", "OR", "NOT") else "word"
            tokens.append((kind, word, start))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens = tokens
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
        if token is not None and (
            token[0] == "NOT" or (token[0] == "word" and token[1].startswith("-") and len(token[1]) > 1)
        ):
            if token[0] == "NOT":
                self.take()
                return Not(self.parse_not())
            self.tokens[self.at] = ("word", token[1][1:], token[2] + 1)
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
            field, sep, rest = value.partition(":")
            name = FIELD_ALIASES.get(field.lower(), field.lower())
            if sep and name in TEXT_FIELDS + KEYWORD_FIELDS:
                return _with_field(self._field_operand(rest, position), name, position, self.text)
            return Term(value)
        raise QuerySyntaxError(f"unexpected {value!r} at position {position} in {self.text!r}")

    def _field_operand(self, rest: str, position: int) -> Node:
        if rest:
            return Term(rest)
        return self.parse_primary()


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


def positive_terms(node: Node) -> list[str]:
    """Terms and phrases that count towards a match (not under NOT), for highlighting."""
    if isinstance(node, Term | Phrase):
        return [node.text] if node.field in (None, *TEXT_FIELDS) else []
    if isinstance(node, And | Or):
        return [term for child in node.children for term in positive_terms(child)]
    if isinstance(node, Near):
        return positive_terms(node.left) + positive_terms(node.right)
    return []


def find_term(folded: str, term: str) -> list[tuple[int, int]]:
    """Offsets of ``term`` in ``folded`` (a text in :func:`fold` form, whose offsets are the original's);
    Latin on word boundaries."""
    pattern = _term_pattern(term)
    return [(m.start(), m.end()) for m in pattern.finditer(folded)] if pattern else []


def has_term(folded: str, term: str) -> bool:
    """Whether ``term`` occurs in ``folded`` (as :func:`find_term` finds it), stopping at the first."""
    pattern = _term_pattern(term)
    return pattern is not None and pattern.search(folded) is not None


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    needle = fold(term.strip())
    if not needle:
        return None
    pattern = r"\s+".join(re.escape(part) for part in needle.split())
    if not has_cjk(needle[0]):
        pattern = r"(?<![^\W_])" + pattern
    if not has_cjk(needle[-1]):
        pattern += r"(?![^\W_])"
    return re.compile(pattern)


def matches(
    node: Node,
    fields: dict[str, str],
    keywords: dict[str, list[str]] | None = None,
    folded: dict[str, str] | None = None,
) -> bool:
    """Evaluate ``node`` over text ``fields`` (``title``, ``body``) and keyword values; ``folded`` holds
    the fields in :func:`fold` form if the caller has them already."""
    folded = folded or {name: fold(value) for name, value in fields.items()}
    return _eval(node, folded, keywords or {})


def _eval(node: Node, folded: dict[str, str], keywords: dict[str, list[str]]) -> bool:
    if isinstance(node, Term | Phrase):
        if node.field in KEYWORD_FIELDS:
            return node.text.lower() in {value.lower() for value in keywords.get(node.field, [])}
        names = [node.field] if node.field else list(folded)
        return any(has_term(folded[name], node.text) for name in names if name in folded)
    if isinstance(node, And):
        return all(_eval(child, folded, keywords) for child in node.children)
    if isinstance(node, Or):
        return any(_eval(child, folded, keywords) for child in node.children)
    if isinstance(node, Not):
        return not _eval(node.child, folded, keywords)
    return any(_near(node, text) for text in folded.values())


def _near(node: Near, folded: str) -> bool:
    left = [hit for term in positive_terms(node.left) for hit in find_term(folded, term)]
    right = [hit for term in positive_terms(node.right) for hit in find_term(folded, term)]
    if not left or not right:
        return False
    starts = _token_starts(folded)
    for a in left:
        for b in right:
            first, second = (a, b) if a[0] <= b[0] else (b, a)
            gap = _tokens_between(starts, first[1], second[0])
            if gap <= node.distance:
                return True
    return False


def _token_starts(folded: str) -> list[int]:
    return [m.start() for m in re.finditer(CJK.pattern + r"|[^\W_]+", folded)]


def _tokens_between(starts: list[int], end: int, start: int) -> int:
    return sum(1 for position in starts if end <= position < start)
