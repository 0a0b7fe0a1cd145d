"""Watchlist matching: every alias of every entity at once (Aho-Corasick), plus boolean queries.

Each hit records the term, the field and its offsets; each candidate that was
dropped (exclusion context, missing co-term, not a whole word) is kept as a
rejection with its reason, so every match explains itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import ahocorasick

from config.watchlist_settings import Entity, Watchlist
from nlp.normalize import fold
from nlp.query import Node, find_term, has_term, matches, parse, positive_terms, term_at
from nlp.records import Field_, Mention, Rejection


@dataclass(frozen=True)
class _Alias:
    watchlist: str
    entity: Entity
    term: str
    ambiguous: bool


class WatchlistMatcher:
    """Built once from the settings; ``match`` is a plain function over one item's title and text."""

    def __init__(self, watchlists: list[Watchlist]) -> None:
        self.automaton = ahocorasick.Automaton()
        entries: dict[str, list[_Alias]] = {}
        for watchlist in watchlists:
            for entity in watchlist.entities:
                for term, ambiguous in _terms(entity):
                    entries.setdefault(fold(term), []).append(_Alias(watchlist.name, entity, term, ambiguous))
        for key, aliases in entries.items():
            self.automaton.add_word(key, (key, aliases))
        if entries:
            self.automaton.make_automaton()
        self.has_aliases = bool(entries)
        self.queries: list[tuple[str, Node]] = [(w.name, parse(w.query)) for w in watchlists if w.query]

    def match(self, title: str, body: str) -> tuple[list[Mention], list[Rejection]]:
        mentions: list[Mention] = []
        rejections: list[Rejection] = []
        fields: dict[Field_, str] = {"title": title, "body": body}
        folded: dict[str, str] = {name: fold(text) for name, text in fields.items()}
        whole = folded["title"] + "\n" + folded["body"]
        if self.has_aliases:
            for name, text in fields.items():
                self._aliases(name, text, folded[name], whole, mentions, rejections)
        for watchlist, node in self.queries:
            if matches(node, {"title": title, "body": body}, folded=folded):
                mentions.extend(_query_mentions(watchlist, node, fields, folded))
        return _longest_only(mentions), rejections

    def _aliases(
        self,
        field: Field_,
        text: str,
        folded: str,
        whole: str,
        mentions: list[Mention],
        rejections: list[Rejection],
    ) -> None:
        for end_index, (key, aliases) in self.automaton.iter(folded):
            start, end = end_index - len(key) + 1, end_index + 1
            for alias in aliases:
                reason = _rejection(alias, folded, start, end, whole)
                found = {
                    "watchlist": alias.watchlist,
                    "term": text[start:end],
                    "field": field,
                    "start": start,
                }
                if reason:
                    rejections.append(Rejection(**found, reason=reason))
                else:
                    mentions.append(Mention(**found, end=end, via=alias.entity.name))


def _terms(entity: Entity) -> list[tuple[str, bool]]:
    terms = [(entity.name, False)] + [(alias, False) for alias in entity.aliases]
    return terms + [(alias, True) for alias in entity.ambiguous]


def _rejection(alias: _Alias, folded: str, start: int, end: int, whole: str) -> str | None:
    if term_at(folded, alias.term, start) != end:
        return "not a whole word"
    entity = alias.entity
    window = folded[max(0, start - entity.exclude_window) : end + entity.exclude_window]
    for context in entity.exclude:
        if has_term(window, context):
            return f"exclusion context {context!r} within {entity.exclude_window} characters"
    needs_coterm = alias.ambiguous or (entity.require_any and not entity.ambiguous)
    if (
        needs_coterm
        and entity.require_any
        and not any(has_term(whole, coterm) for coterm in entity.require_any)
    ):
        return f"ambiguous name without a co-term ({', '.join(entity.require_any)})"
    return None


def _query_mentions(
    watchlist: str, node: Node, fields: dict[Field_, str], folded: dict[str, str]
) -> list[Mention]:
    found = []
    for term in positive_terms(node):
        for name, text in fields.items():
            for start, end in find_term(folded[name], term):
                found.append(
                    Mention(
                        watchlist=watchlist,
                        term=text[start:end],
                        field=name,
                        start=start,
                        end=end,
                        via="query",
                    )
                )
    return found


def _longest_only(mentions: list[Mention]) -> list[Mention]:
    """Drop a mention inside a longer one of the same watchlist (苹果 inside 苹果公司)."""
    kept = []
    for mention in mentions:
        inside = any(
            other is not mention
            and other.watchlist == mention.watchlist
            and other.field == mention.field
            and other.start <= mention.start
            and mention.end <= other.end
            and (other.end - other.start) > (mention.end - mention.start)
            for other in mentions
        )
        if not inside:
            kept.append(mention)
    return sorted(kept, key=lambda m: (m.field != "title", m.start))
