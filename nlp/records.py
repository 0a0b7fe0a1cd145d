"""Typed records produced by the processing stages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

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

    @property
    def filed_at(self) -> datetime:
        """The time the item is searched, sorted and reported by: published, else first seen."""
        return self.published or self.fetched_at

    @property
    def watchlists(self) -> list[str]:
        return sorted({mention.watchlist for mention in self.mentions})
