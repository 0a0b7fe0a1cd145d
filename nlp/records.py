"""Typed records produced by the processing stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

Field_ = Literal["title", "body"]
StoryLevel = Literal["new", "known", "exact", "near", "semantic", "crosslingual"]
"""How an item joined its story: it started it, was seen before, or matched by hash, MinHash, embedding,
or embedding across languages confirmed by shared facts."""


class Mention(BaseModel):
    """Where a watchlist was hit: the term, the field and character offsets in that field."""

    watchlist: str
    term: str
    field: Field_
    start: int
    end: int
    via: str = Field(description="The entity name or `query` that produced this mention.")


class Rejection(BaseModel):
    """A candidate mention that was not counted, and why (exclusion context, missing co-term)."""

    watchlist: str
    term: str
    field: Field_
    start: int
    reason: str


SentimentLabel = Literal["negative", "neutral", "positive"]
RiskLevel = Literal["none", "low", "medium", "high", "critical"]
RISK_LEVELS: tuple[RiskLevel, ...] = ("none", "low", "medium", "high", "critical")


class Sentiment(BaseModel):
    """A label with the model's probability for it; ``reason`` says why a text got no real judgement."""

    label: SentimentLabel = "neutral"
    confidence: float = 0.0
    reason: str = ""


class EntitySentiment(BaseModel):
    """The sentiment toward one watched entity, judged from the clauses around its mentions."""

    watchlist: str
    entity: str
    label: SentimentLabel
    confidence: float
    passages: int = Field(description="Clauses it was judged from.")


class Risk(BaseModel):
    """A risk level, its points and the reasons in words, e.g. "`召回` in the title"."""

    level: RiskLevel = "none"
    points: int = 0
    reasons: list[str] = Field(default_factory=list)
    watchlist: str = ""


class Item(BaseModel):
    """A processed item, ready for embedding, story assignment and indexing."""

    id: str
    url: str
    source: str
    domain: str
    kind: Literal["article", "post"] = "article"
    title: str
    text: str
    published: datetime | None = Field(
        description="Publication time in UTC; empty when the page gives none (see `date_precision`)."
    )
    date_precision: Literal["datetime", "date", "none"] = Field(
        default="datetime",
        description="`datetime`: a time of day; `date`: a day only (local midnight); `none`: undated.",
    )
    fetched_at: datetime
    canonical_url: str | None = Field(
        default=None, description="The page's own canonical link, if it has one."
    )
    author: str | None = None
    site_name: str | None = None
    language: str = "und"
    extraction: str = Field(default="trafilatura", description="Which extractor produced the text.")
    problems: list[str] = Field(default_factory=list, description="Counted outcomes, e.g. `no_date`.")
    mentions: list[Mention] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)
    content_hash: str = ""
    story_id: str | None = None
    story_level: StoryLevel = "new"
    topic_id: int | None = Field(
        default=None, description="The topic of its story at the latest fit, or nearest."
    )
    topic_label: str = ""
    sentiment: Sentiment = Field(default_factory=Sentiment)
    entity_sentiments: list[EntitySentiment] = Field(default_factory=list)
    risk_terms: list[Mention] = Field(
        default_factory=list, description="Risk terms of the watchlists it hits (``via`` is `risk`)."
    )
    risk: Risk = Field(default_factory=Risk)
    _text_log_probs: Any = PrivateAttr(default=None)
    """The text part of the document's sentiment, between the processing stage and the encoder."""
    _passages: list[Any] = PrivateAttr(default_factory=list)
    """Clauses around watched entities (``nlp.sentiment.Passage``), between the same two stages."""

    @property
    def filed_at(self) -> datetime:
        """The time the item is searched, sorted and reported by: published, else first seen."""
        return self.published or self.fetched_at

    @property
    def watchlists(self) -> list[str]:
        return sorted({mention.watchlist for mention in self.mentions})
