"""Typed records that leave the collection layer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class RawItem(BaseModel):
    """One collected thing (an article page or a post) before processing."""

    source: str
    url: str = Field(description="Canonical URL (tracking parameters stripped), the item's identity.")
    fetched_url: str | None = Field(default=None, description="Address actually fetched, after redirects.")
    kind: Literal["article", "post"] = "article"
    feed_title: str | None = None
    feed_summary: str | None = None
    feed_published: datetime | None = None
    feed_outlet: str | None = Field(
        default=None,
        description="The listing's name for the item's site (a feed's title for its own site's entries, a "
        "news sitemap's publication name): the outlet where the page names none.",
    )
    html: str | None = Field(default=None, description="Decoded page, when the article page was fetched.")
    text: str | None = Field(
        default=None, description="Plain text of a post or API item (no HTML to extract)."
    )
    author: str | None = Field(default=None, description="Author or account of a post or API item.")
    encoding: str | None = Field(default=None, description="Encoding the page was decoded with.")
    language_hint: str | None = None
    timezone: str | None = Field(
        default=None, description="The source's zone for times written without an offset, if it sets one."
    )
    fetched_at: datetime
    fetch_error: str | None = Field(default=None, description="Why the page is missing, if it is.")
    retry_page: bool = Field(
        default=False, description="The page failed for a passing reason (5xx, timeout): fetch it next run."
    )


class SourceMarks(BaseModel):
    """Where a source's next run starts: its listing's validators and the API since-cursor."""

    etag: str | None = Field(default=None, description="The listing's ETag, for the next conditional GET.")
    last_modified: str | None = Field(default=None, description="The listing's Last-Modified, likewise.")
    cursor: str | None = Field(default=None, description="API sources: where the next poll starts.")

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified or self.cursor)


class SourceReport(BaseModel):
    """What one run did with one source."""

    source: str
    listing_ok: bool = Field(
        default=False,
        description="The feed, sitemap, start page or API answered and was read (or was unchanged).",
    )
    listed: int = Field(default=0, description="Entries the listing offered (before skipping seen ones).")
    fetched: int = 0
    new: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)
    duration_s: float = 0.0
    marks: SourceMarks = Field(
        default_factory=SourceMarks, description="Saved once every item of this run is durably handed on."
    )

    def count(self, table: Literal["skipped", "errors"], reason: str, n: int = 1) -> None:
        counts = getattr(self, table)
        counts[reason] = counts.get(reason, 0) + n
