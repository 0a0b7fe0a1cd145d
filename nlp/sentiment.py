"""Sentiment of an item and toward each watched entity it mentions.

Two plain functions, split so that the encoder never waits:

- :func:`read_sentiments` (extraction thread, a chunk, before the encoder): the text model's judgement of
  the document and of the clauses around each watched entity's mentions, cut at contrasts ("NovaMart
  fined; rival praised" is negative for NovaMart and positive for the rival);
- :func:`settle_sentiments` (after the encoder, a batch): each judgement fused with the vector head, over
  the item's embedding that the pipeline computed anyway, and over each clause's own (short and cached).

Text with no words (empty, one character, emoji only) is neutral with confidence 0 and a counted reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nlp.records import EntitySentiment, Item, Mention, Sentiment
from nlp.sentiment_model import LABELS, SentimentModel

Embed = Callable[[list[str]], np.ndarray]

LEAD_CHARS = 500
"""Characters of body text read for the document's sentiment, after the title."""
MAX_PASSAGES = 8
"""Clauses per entity at most (the title's and the first ones of the body)."""
TITLE_WEIGHT = 2.0
"""A clause of the title counts as much as this many clauses of the body."""
SUBJECT_WEIGHT = 1.0
"""The item's own tone counts as this many clauses toward its subject: the one watched entity its title
names ("Regulators probe NovaMart over counterfeit listings" is news about NovaMart as a whole, though
each clause alone reads as neutral reporting). A title naming two entities ("NovaMart fined as Apple wins
praise") has no subject: there the clauses alone decide. On the news world's single-entity events, the
planted negative ones negative toward their entity: 4 of 5 before, 5 of 5 after; the others unchanged in
polarity; the contrast articles unchanged by construction."""
NO_WORDS = "sentiment_no_words"
RISK_TERM_LEAN = np.array([np.log(4.0), 0.0, 0.0], dtype=np.float32)
"""Added to the log-probabilities (negative, neutral, positive) of an entity named in a clause that holds
one of its watchlist's risk terms ("NovaMart recalls power banks"): such a clause reports an adverse event
for the entity, which a model trained on tweets, reviews and financial sentences often reads as neutral
news."""
CLAUSE_BREAK = re.compile(
    r"[。！？!?；;\n]"
    r"|\.(?=\s)"
    r"|[,，:：]?\s*\b(?:[Bb]ut|[Ww]hile|[Ww]hereas|[Aa]lthough|[Tt]hough|[Yy]et)\b"
    r"|,?\s+as\s+(?=[A-Z])"  # "NovaMart fined as Apple wins praise"
    r"|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"  # a space between Chinese clauses of a title
    r"|[,，]\s*(?=而|但|却|不过|与此同时|相比之下|反观)"
)
WORD = re.compile(r"[^\W\d_]{2,}|[\u3400-\u9fff]")


def has_words(text: str) -> bool:
    """Whether ``text`` holds a word of two letters or a Han character (emoji, digits and marks do not)."""
    return WORD.search(text) is not None


@dataclass(frozen=True)
class Passage:
    """A clause that mentions a watched entity, and the text part of its judgement."""

    watchlist: str
    entity: str
    field: str
    text: str
    risky: bool
    text_log_probs: np.ndarray


def read_sentiments(items: list[Item], model: SentimentModel) -> None:
    """The text parts of each item's sentiment and of the clauses around its entities' mentions, kept on
    the items for :func:`settle_sentiments` (one call of the text model per language: a call's fixed cost
    is larger than a text's)."""
    by_language: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_language[item.language].append(item)
    for language, group in by_language.items():
        documents = {item.id: _document_text(item) for item in group}
        readable = [item for item in group if has_words(documents[item.id])]
        for item in group:
            if not has_words(documents[item.id]):
                item.sentiment = Sentiment(reason=NO_WORDS)
                item.problems.append(NO_WORDS)
        found = [(item, where) for item in group for where in entity_passages(item)]
        texts = [documents[item.id] for item in readable] + [where[3] for _, where in found]
        scores = model.text_log_probs(texts, language) if texts else np.zeros((0, len(LABELS)))
        for row, item in enumerate(readable):
            item._text_log_probs = scores[row]
        for row, (item, where) in enumerate(found, start=len(readable)):
            item._passages.append(Passage(*where, scores[row]))


def settle_sentiments(
    items: list[Item], model: SentimentModel, vectors: np.ndarray | None, embed: Embed | None = None
) -> None:
    """Each item's sentiment, the text part fused with the vector head over its embedding, and its
    entities': each clause fused the same way over its own embedding (``embed``: one call for all the
    clauses of ``items``; short, and cached, so reprints cost nothing), averaged per entity."""
    own_tone: dict[str, np.ndarray] = {}
    for row, item in enumerate(items):
        if item._text_log_probs is not None:
            vector = vectors[row] if vectors is not None and len(vectors) else None
            fused = _fused(model, item.language, item._text_log_probs, vector)
            item.sentiment = model.judge(fused, item.language)
            own_tone[item.id] = np.exp(fused)
    passages = [(item, passage) for item in items for passage in item._passages]
    clause_vectors = embed([passage.text for _, passage in passages]) if embed and passages else None
    judged: dict[str, dict[tuple[str, str], list[tuple[float, np.ndarray, bool]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row, (item, passage) in enumerate(passages):
        vector = clause_vectors[row] if clause_vectors is not None else None
        weight = TITLE_WEIGHT if passage.field == "title" else 1.0
        probs = np.exp(_fused(model, item.language, passage.text_log_probs, vector))
        judged[item.id][(passage.watchlist, passage.entity)].append((weight, probs, passage.risky))
    for item in items:
        subject = _subject(item)
        item.entity_sentiments = [
            _entity_sentiment(
                model,
                item.language,
                watchlist,
                entity,
                found,
                own_tone.get(item.id) if entity == subject else None,
            )
            for (watchlist, entity), found in judged.get(item.id, {}).items()
        ]


def _subject(item: Item) -> str | None:
    """The one watched entity the title names (None where it names none, or two)."""
    named = {mention.via for mention in item.mentions if mention.field == "title" and mention.via != "query"}
    return named.pop() if len(named) == 1 else None


def _fused(
    model: SentimentModel, language: str, text_part: np.ndarray, vector: np.ndarray | None
) -> np.ndarray:
    """Log-probabilities over :data:`LABELS`: the vector head's plus ``text_weight`` times the text part's
    (the text part alone without a vector or a head for this embedding model)."""
    head = model.head(language)
    columns = [LABELS.index(label) for label in head.classes]
    fused = np.full(len(LABELS), -np.inf, dtype=np.float32)
    fused[columns] = head.fuse(text_part[None, columns], None if vector is None else vector[None, :])[0]
    return fused


def _entity_sentiment(
    model: SentimentModel,
    language: str,
    watchlist: str,
    entity: str,
    found: list[tuple[float, np.ndarray, bool]],
    own_tone: np.ndarray | None,
) -> EntitySentiment:
    """The clauses' probabilities averaged (a title's weighs :data:`TITLE_WEIGHT`; the item's ``own_tone``,
    for its subject, :data:`SUBJECT_WEIGHT`), leaning negative when one of them names a risk term of the
    watchlist."""
    weighted = found + ([(SUBJECT_WEIGHT, own_tone, False)] if own_tone is not None else [])
    weights = np.array([weight for weight, _, _ in weighted])
    mean = (np.stack([probs for _, probs, _ in weighted]) * weights[:, None]).sum(axis=0) / weights.sum()
    with np.errstate(divide="ignore"):
        log_probs = np.log(mean) + (RISK_TERM_LEAN if any(risky for _, _, risky in found) else 0.0)
        sentiment = model.judge(log_probs, language)
    return EntitySentiment(
        watchlist=watchlist,
        entity=entity,
        label=sentiment.label,
        confidence=sentiment.confidence,
        passages=len(found),
    )


def _document_text(item: Item) -> str:
    return f"{item.title}\n{item.text[:LEAD_CHARS]}".strip()


def entity_passages(item: Item) -> list[tuple[str, str, str, str, bool]]:
    """``(watchlist, entity, field, clause, risky)`` for each distinct clause that mentions a watched entity
    (a query's hits count for the watchlist itself), at most :data:`MAX_PASSAGES` per entity; ``risky``:
    the clause holds one of the watchlist's risk terms (``item.risk_terms``)."""
    fields = {"title": item.title, "body": item.text}
    clauses: dict[tuple[str, str], dict[tuple[str, int], tuple[str, bool]]] = defaultdict(dict)
    for mention in item.mentions:
        entity = (mention.watchlist, mention.watchlist if mention.via == "query" else mention.via)
        text = fields[mention.field]
        start, end = clause_span(text, mention.start, mention.end)
        clause = text[start:end].strip()
        if has_words(clause) and len(clauses[entity]) < MAX_PASSAGES:
            risky = any(
                term.watchlist == mention.watchlist
                and term.field == mention.field
                and start <= term.start < end
                for term in item.risk_terms
            )
            clauses[entity].setdefault((mention.field, start), (clause, risky))
    return [
        (watchlist, entity, field, clause, risky)
        for (watchlist, entity), found in clauses.items()
        for (field, _), (clause, risky) in found.items()
    ]


def clause_around(text: str, mention: Mention) -> tuple[int, str]:
    """The clause of ``text`` that holds the mention: ``(start, clause)``, cut at sentence ends and at
    contrasts (";", ", but", "，而"), so that a rival's praise in the next clause is not read as the
    entity's."""
    start, end = clause_span(text, mention.start, mention.end)
    return start, text[start:end].strip()


def clause_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the clause of ``text`` around ``text[start:end]`` (at most 400 characters either side)."""
    begin = 0
    for found in CLAUSE_BREAK.finditer(text, max(0, start - 400), start + 1):  # + 1: lookaheads see it
        if found.end() <= start:
            begin = found.end()
    after = CLAUSE_BREAK.search(text, end, end + 400)
    return begin, after.start() if after else min(len(text), end + 400)
