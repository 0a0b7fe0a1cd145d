"""Evaluation of the boolean query language (see :mod:`config.query` for its grammar) over plain text.

Watchlists and the offsets that explain a match use :func:`find_term`; both index backends compile the
same trees, and their analysers split text where :data:`nlp.normalize.WORD_JOINER` says words end, so
the three agree on what a term matches.
"""

from __future__ import annotations

import re
from functools import lru_cache

from config.query import (
    FIELD_ALIASES,
    KEYWORD_FIELDS,
    TEXT_FIELDS,
    And,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    QuerySyntaxError,
    Term,
    field_names,
    parse,
)
from nlp.normalize import CJK, WORD_JOINER, fold, joins_words

__all__ = [
    "FIELD_ALIASES",
    "KEYWORD_FIELDS",
    "TEXT_FIELDS",
    "And",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "QuerySyntaxError",
    "Term",
    "field_names",
    "find_term",
    "has_term",
    "matches",
    "parse",
    "positive_terms",
    "term_at",
]


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


def term_at(folded: str, term: str, start: int) -> int | None:
    """The end of ``term`` matched at ``start`` of ``folded`` under the whole-word rule, else None."""
    pattern = _term_pattern(term)
    found = pattern.match(folded, start) if pattern else None
    return found.end() if found else None


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    """The one whole-word rule: a term that starts (ends) with a letter or digit of a spaced script must
    not have one before (after) it; Han, kana and Hangul around a Latin term are boundaries (华为5G芯片
    has ``5G``), and a term that starts or ends in those scripts matches anywhere."""
    needle = fold(term.strip())
    if not needle:
        return None
    pattern = r"\s+".join(re.escape(part) for part in needle.split())
    if joins_words(needle[0]):
        pattern = rf"(?<!{WORD_JOINER})" + pattern
    if joins_words(needle[-1]):
        pattern += rf"(?!{WORD_JOINER})"
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
