"""The description of one crawl run, handed from the parent to the Scrapy child process as JSON."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from config.settings import CrawlSettings, Source


class CrawlJob(BaseModel):
    sources: list[Source]
    crawl: CrawlSettings
    state_db: Path
    items_path: Path
    report_path: Path
    validators: dict[str, tuple[str | None, str | None]] = {}
    """Per source: the (ETag, Last-Modified) of the feed as last handed on, for conditional GETs."""
