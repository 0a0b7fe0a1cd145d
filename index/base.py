"""The ``Index`` interface every backend implements, and the records it takes and gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import numpy as np

from nlp.records import RISK_LEVELS, Item

FACET_FIELDS = (
    "source", "domain", "language", "watchlists", "kind", "story_id", "topic_id",
    "sentiment", "risk", "toward",
)  # fmt: skip
KEYWORD_FIELDS = {
    "id": "id",
    "source": "source",
    "domain": "domain",
    "lang": "language",
    "watchlist": "watchlists",
    "story": "story_id",
    "kind": "kind",
    "topic": "topic_id",
    "sentiment": "sentiment",
    "risk": "risk",
    "toward": "toward",
}
"""Query-language fields (``lang:zh``) and the index fields they filter on exactly."""
COLLAPSE_FIELDS = ("story_id", "topic_id", "source", "domain", "language", "kind", "sentiment", "risk")
"""Single-valued keyword fields that :attr:`SearchRequest.collapse` may name."""


class IndexError_(Exception):
    """The index cannot do what was asked; the message says why."""


@dataclass(frozen=True)
class IndexDoc:
    id: str
    url: str
    source: str
    domain: str
    kind: str
    title: str
    body: str
    published: datetime
    """The time the item is filed under: its publication time, else (undated) when it was first seen."""
    language: str
    watchlists: tuple[str, ...]
    story_id: str
    vector: np.ndarray | None = None
    date_precision: str = "datetime"
    """``datetime``, ``date`` (a day only) or ``none`` (undated: ``published`` is when it was first seen)."""
    outlet: str = ""
    """The publication's own name (``og:site_name``, JSON-LD publisher), else its domain."""
    matched: tuple[dict[str, str], ...] = ()
    """Why it matched: one ``{"watchlist", "term", "via", "field"}`` per distinct reason."""
    topic_id: str = ""
    """The topic of its story (``nlp.topic_daily``), empty when it has none."""
    topic_label: str = ""
    sentiment: str = "neutral"
    sentiment_confidence: float = 0.0
    entity_sentiments: tuple[dict[str, Any], ...] = ()
    """``{"watchlist", "entity", "label", "confidence", "passages"}`` per watched entity it mentions."""
    risk: str = "none"
    risk_points: int = 0
    risk_reasons: tuple[str, ...] = ()

    @property
    def first_of_story(self) -> bool:
        """Whether it started its story (a story's id is the id of the item that started it)."""
        return self.story_id == self.id

    @property
    def toward(self) -> tuple[str, ...]:
        """Keywords ``entity:label`` (and ``watchlist:label``) for the query ``toward:NovaMart:negative``."""
        found = {f"{e['entity']}:{e['label']}" for e in self.entity_sentiments}
        found |= {f"{e['watchlist']}:{e['label']}" for e in self.entity_sentiments}
        return tuple(sorted(found))

    @classmethod
    def from_item(cls, item: Item, vector: np.ndarray | None) -> IndexDoc:
        return cls(
            id=item.id,
            url=item.url,
            source=item.source,
            domain=item.domain,
            kind=item.kind,
            title=item.title,
            body=item.text,
            published=item.filed_at,
            language=item.language,
            watchlists=tuple(item.watchlists),
            story_id=item.story_id or item.id,
            vector=vector,
            date_precision=item.date_precision,
            outlet=item.site_name or item.domain,
            matched=match_reasons(item),
            topic_id="" if item.topic_id is None else str(item.topic_id),
            topic_label=item.topic_label,
            sentiment=item.sentiment.label,
            sentiment_confidence=item.sentiment.confidence,
            entity_sentiments=tuple(entity.model_dump() for entity in item.entity_sentiments),
            risk=item.risk.level,
            risk_points=item.risk.points,
            risk_reasons=tuple(item.risk.reasons),
        )


def match_reasons(item: Item) -> tuple[dict[str, str], ...]:
    """One entry per watchlist, term as written, entity (or ``query``) and field: the item's explanation."""
    seen: dict[tuple[str, str, str, str], None] = {}
    for mention in item.mentions:
        seen.setdefault((mention.watchlist, mention.term, mention.via, mention.field), None)
    return tuple({"watchlist": w, "term": t, "via": v, "field": f} for w, t, v, f in seen)


def stored_form(doc: IndexDoc) -> dict[str, Any]:
    """The fields both backends keep with a document (JSON-ready); ``doc_from_stored`` reads them back."""
    return {
        "id": doc.id,
        "url": doc.url,
        "source": doc.source,
        "domain": doc.domain,
        "kind": doc.kind,
        "title": doc.title,
        "body": doc.body,
        "published": doc.published.astimezone(UTC).isoformat(),
        "language": doc.language,
        "watchlists": list(doc.watchlists),
        "story_id": doc.story_id,
        "date_precision": doc.date_precision,
        "outlet": doc.outlet,
        "matched": [dict(reason) for reason in doc.matched],
        "topic_id": doc.topic_id,
        "topic_label": doc.topic_label,
        "sentiment": doc.sentiment,
        "sentiment_confidence": doc.sentiment_confidence,
        "entity_sentiments": [dict(entity) for entity in doc.entity_sentiments],
        "toward": list(doc.toward),
        "risk": doc.risk,
        "risk_points": doc.risk_points,
        "risk_reasons": list(doc.risk_reasons),
    }


def doc_from_stored(stored: dict[str, Any], vector: np.ndarray | None) -> IndexDoc:
    """Rebuild an ``IndexDoc`` from the stored form both backends keep (for migration)."""
    return IndexDoc(
        id=str(stored["id"]),
        url=str(stored["url"]),
        source=str(stored["source"]),
        domain=str(stored["domain"]),
        kind=str(stored["kind"]),
        title=str(stored["title"]),
        body=str(stored["body"]),
        published=datetime.fromisoformat(str(stored["published"])),
        language=str(stored["language"]),
        watchlists=tuple(stored["watchlists"]),
        story_id=str(stored["story_id"]),
        vector=vector,
        date_precision=str(stored.get("date_precision", "datetime")),
        outlet=str(stored.get("outlet", "")),
        matched=tuple(stored.get("matched", ())),
        topic_id=str(stored.get("topic_id", "")),
        topic_label=str(stored.get("topic_label", "")),
        sentiment=str(stored.get("sentiment", "neutral")),
        sentiment_confidence=float(stored.get("sentiment_confidence", 0.0)),
        entity_sentiments=tuple(stored.get("entity_sentiments", ())),
        risk=str(stored.get("risk", "none")),
        risk_points=int(stored.get("risk_points", 0)),
        risk_reasons=tuple(stored.get("risk_reasons", ())),
    )


@dataclass(frozen=True)
class SearchRequest:
    query: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    watchlists: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    """Risk levels to keep, e.g. ``("high", "critical")`` (:func:`risk_at_least` gives a level and above)."""
    sort: Literal["relevance", "date", "risk"] = "relevance"
    """``risk``: highest risk points first, then newest."""
    limit: int = 10
    offset: int = 0
    facets: tuple[str, ...] = ()
    date_histogram: str | None = None
    """Fixed interval such as ``1d`` or ``1h`` for a histogram over ``published``."""
    histogram_split: str | None = None
    """A facet field (e.g. ``sentiment``) to split the date histogram by, in the same pass: one histogram
    per value, of its non-empty buckets, in :attr:`SearchResult.split_histograms` (instead of
    :attr:`SearchResult.histogram`)."""
    first_of_story: bool = False
    """Only the items that started their stories: counting them counts new stories (a wire story reprinted
    on 40 sites is one)."""
    collapse: str | None = None
    """A keyword field (``story_id``): only the best-ranked hit of each value is returned, and ``limit`` and
    ``offset`` count those (``total`` still counts every matching document). Not with ``vector``."""
    vector: np.ndarray | None = None
    """When set, results are the k nearest neighbours (k = ``limit``) among documents passing the filters."""


def collapse_field(request: SearchRequest) -> str | None:
    """The request's collapse field, checked: single-valued, and not with a vector (kNN) search."""
    if request.collapse is None:
        return None
    if request.collapse not in COLLAPSE_FIELDS:
        raise IndexError_(
            f"cannot collapse on {request.collapse!r}; single-valued fields: {', '.join(COLLAPSE_FIELDS)}"
        )
    if request.vector is not None:
        raise IndexError_("collapse is for text and filter searches, not with a vector")
    return request.collapse


def risk_at_least(level: str) -> tuple[str, ...]:
    """``level`` and every level above it, for :attr:`SearchRequest.risks`."""
    if level not in RISK_LEVELS:
        raise ValueError(f"unknown risk level {level!r}; one of {', '.join(RISK_LEVELS)}")
    return RISK_LEVELS[RISK_LEVELS.index(level) :]


@dataclass(frozen=True)
class TopicTags:
    """The topics of stories after a fit, for the documents filed in its window."""

    since: datetime
    until: datetime
    by_story: dict[str, tuple[str, str]]
    """Story id -> ``(topic_id, topic_label)``."""

    def tag(self, stored: dict[str, Any]) -> bool:
        """Set the topic fields of one stored document; whether they changed."""
        topic_id, label = self.by_story.get(str(stored.get("story_id")), ("", ""))
        if (stored.get("topic_id", ""), stored.get("topic_label", "")) == (topic_id, label):
            return False
        stored["topic_id"], stored["topic_label"] = topic_id, label
        return True


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    doc: dict[str, object]
    highlights: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    histogram: list[tuple[datetime, int]] = field(default_factory=list)
    split_histograms: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)


class Index(Protocol):
    """A searchable store of items. Upserts are idempotent by ``IndexDoc.id``."""

    def upsert(self, docs: list[IndexDoc]) -> None: ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def count(self) -> int: ...

    def set_topics(self, topics: TopicTags) -> int:
        """Tag the documents filed in ``topics.since``..``topics.until`` with their story's topic (clearing
        it where the story has none); returns how many documents changed."""
        ...

    def close(self) -> None: ...
