"""The description of one crawl run, handed from the parent to the Scrapy child process as JSON."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from config.settings import CrawlSettings, Source
from crawlers.records import SourceMarks


class CrawlJob(BaseModel):
    sources: list[Source]
    crawl: CrawlSettings
    state_db: Path
    items_path: Path
    report_path: Path
    marks: dict[str, SourceMarks] = {}
    """Per source: where the last run that was handed on ended (listing validators, API cursor)."""
