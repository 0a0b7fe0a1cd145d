"""The feed spider: reads each source's feed, then fetches the pages of entries not seen before."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from config.settings import Source
from crawlers.encoding import charset_from_content_type, decode_html
from crawlers.feeds import FeedEntry, FeedError, parse_feed
from crawlers.job import CrawlJob
from crawlers.records import RawItem, SourceReport
from crawlers.state import CrawlState
from crawlers.urls import canonicalize

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


class FeedSpider(Spider):
    name = "opinionwatch-feeds"

    def __init__(self, job: CrawlJob, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.sources = {source.name: source for source in job.sources}
        self.reports = {name: SourceReport(source=name) for name in self.sources}
        self.started = {name: time.monotonic() for name in self.sources}
        self.state = CrawlState(job.state_db, readonly=True) if job.state_db.exists() else None

    async def start(self) -> AsyncIterator[Request]:
        for source in self.sources.values():
            etag, modified = self.job.validators.get(source.name, (None, None))
            headers = {"If-None-Match": etag} if etag else {}
            if modified:
                headers["If-Modified-Since"] = modified
            yield Request(
                source.url,
                callback=self.parse_feed,
                errback=self.feed_failed,
                cb_kwargs={"source": source.name},
                dont_filter=True,
                headers=headers,
                meta={"handle_httpstatus_list": [304]},
            )

    def parse_feed(self, response: Response, source: str) -> Iterator[Request | dict[str, Any]]:
        report = self.reports[source]
        report.fetched += 1
        if response.status == 304:
            report.count("skipped", "not_modified")
            return
        report.etag = _header(response, b"ETag")
        report.last_modified = _header(response, b"Last-Modified")
        try:
            entries = parse_feed(response.body, response.url)
        except FeedError as exc:
            self.logger.warning("source %s: %s", source, exc)
            report.count("errors", "malformed_feed")
            return
        config = self.sources[source]
        fresh = self._fresh_entries(entries[: config.max_items], report)
        for url, entry in fresh.items():
            if config.fetch_articles:
                yield Request(
                    url,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    cb_kwargs={"source": source, "entry": entry, "url": url},
                )
            else:
                report.new += 1
                yield self._item(config, url, entry).model_dump(mode="json")

    def _fresh_entries(self, entries: list[FeedEntry], report: SourceReport) -> dict[str, FeedEntry]:
        by_url: dict[str, FeedEntry] = {}
        for entry in entries:
            by_url.setdefault(canonicalize(entry.link), entry)
        seen = self.state.seen(by_url) if self.state else set()
        if seen:
            report.count("skipped", "already_seen", len(seen))
        return {url: entry for url, entry in by_url.items() if url not in seen}

    def parse_article(
        self, response: Response, source: str, entry: FeedEntry, url: str
    ) -> Iterator[dict[str, Any]]:
        report = self.reports[source]
        report.fetched += 1
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0].strip()
        item = self._item(self.sources[source], url, entry)
        if content_type.lower() not in HTML_TYPES:
            report.count("errors", "not_html")
            item.fetch_error = f"not an HTML page (Content-Type {content_type})"
        else:
            declared = charset_from_content_type(response.headers.get("Content-Type"))
            item.html, item.encoding = decode_html(response.body, declared)
        item.fetched_url = response.url
        report.new += 1
        yield item.model_dump(mode="json")

    def article_failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        source, entry, url = kwargs["source"], kwargs["entry"], kwargs["url"]
        reason = _reason(failure)
        report = self.reports[source]
        report.count("skipped" if reason == "robots" else "errors", reason)
        item = self._item(self.sources[source], url, entry)
        item.fetch_error = f"{reason}: {failure.getErrorMessage()}"[:500]
        item.retry_page = _is_transient(reason)
        report.new += 1
        yield item.model_dump(mode="json")

    def feed_failed(self, failure: Failure) -> None:
        source = failure.request.cb_kwargs["source"]  # type: ignore[attr-defined]
        self.reports[source].count("errors", _reason(failure))
        self.logger.warning("source %s: feed not fetched: %s", source, failure.getErrorMessage())

    def _item(self, source: Source, url: str, entry: FeedEntry) -> RawItem:
        return RawItem(
            source=source.name,
            url=url,
            feed_title=entry.title,
            feed_summary=entry.summary,
            feed_published=entry.published,
            language_hint=source.language,
            fetched_at=datetime.now(UTC),
        )

    def closed(self, reason: str) -> None:
        for name, report in self.reports.items():
            report.duration_s = round(time.monotonic() - self.started[name], 3)
        self.job.report_path.write_text(
            "[" + ",".join(r.model_dump_json() for r in self.reports.values()) + "]", encoding="utf-8"
        )
        if self.state:
            self.state.close()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


PERMANENT = ("robots", "blocked_address", "too_large", "http_4")


def _is_transient(reason: str) -> bool:
    """5xx, 429, timeouts and connection failures pass; robots, blocks, size and other 4xx do not."""
    return reason == "http_429" or not reason.startswith(PERMANENT)


def _reason(failure: Failure) -> str:
    if isinstance(failure.value, HttpError):
        return f"http_{failure.value.response.status}"
    message = failure.getErrorMessage()
    if "robots.txt" in message:
        return "robots"
    if message.startswith("blocked:"):
        return "blocked_address"
    if "max size" in message.lower() or "maxsize" in message.lower():
        return "too_large"
    return failure.type.__name__.lower() if failure.type else "unknown"
