"""The sources spider: reads each source's listing (feed, sitemap or site pages), then fetches the pages
of entries not seen before. One spider serves every Scrapy-crawled source of a run."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from config.sources import Source
from crawlers.encoding import charset_from_content_type, decode_html
from crawlers.feeds import FeedEntry, FeedError, parse_feed
from crawlers.job import CrawlJob
from crawlers.records import RawItem, SourceReport
from crawlers.sitemaps import parse_sitemap
from crawlers.sites import LinkRules
from crawlers.state import CrawlState
from crawlers.urls import canonicalize

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
MAX_SITEMAP_DEPTH = 2
Output = Iterator[Request | dict[str, Any]]


class SourcesSpider(Spider):
    name = "opinionwatch"

    def __init__(self, job: CrawlJob, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.sources = {source.name: source for source in job.sources}
        self.reports = {name: SourceReport(source=name) for name in self.sources}
        self.started = {name: time.monotonic() for name in self.sources}
        self.state = CrawlState(job.state_db, readonly=True) if job.state_db.exists() else None
        self.now = datetime.now(UTC)
        self.rules = {s.name: LinkRules(s) for s in job.sources if s.type == "site"}
        self.queued: set[str] = set()
        self.taken: Counter[str] = Counter()
        self.pages: Counter[str] = Counter()

    async def start(self) -> AsyncIterator[Request]:
        for source in self.sources.values():
            if source.type == "site":
                for url in [source.endpoint, *source.start_urls]:
                    yield self._request(source.name, url, self.parse_site, depth=0)
            else:
                parse = self.parse_feed if source.type == "feed" else self.parse_sitemap
                yield self._conditional(self._request(source.name, source.endpoint, parse, depth=0))

    def _request(self, source: str, url: str, parse: Callable[..., Output], depth: int) -> Request:
        self.pages[source] += 1
        return Request(
            url,
            callback=parse,
            errback=self.listing_failed,
            cb_kwargs={"source": source, "depth": depth},
            dont_filter=depth == 0,
        )

    def _conditional(self, request: Request) -> Request:
        marks = self.job.marks.get(request.cb_kwargs["source"])
        headers = {}
        if marks and marks.etag:
            headers["If-None-Match"] = marks.etag
        if marks and marks.last_modified:
            headers["If-Modified-Since"] = marks.last_modified
        return request.replace(headers=headers, meta={"handle_httpstatus_list": [304]})

    def _listing_read(self, response: Response, source: str, depth: int) -> SourceReport | None:
        """Count the listing response; None when it is an unchanged (304) root listing."""
        report = self.reports[source]
        report.fetched += 1
        if depth == 0:
            report.listing_ok = True
        if response.status == 304:
            report.count("skipped", "not_modified")
            return None
        if depth == 0:
            report.marks.etag = _header(response, b"ETag")
            report.marks.last_modified = _header(response, b"Last-Modified")
        return report

    def parse_feed(self, response: Response, source: str, depth: int) -> Output:
        report = self._listing_read(response, source, depth)
        if report is None:
            return
        try:
            entries = parse_feed(response.body, response.url)
        except FeedError as exc:
            self._listing_unreadable(report, "malformed_feed", exc)
            return
        report.listed += len(entries)
        yield from self._take(source, entries)

    def parse_sitemap(self, response: Response, source: str, depth: int) -> Output:
        report = self._listing_read(response, source, depth)
        if report is None:
            return
        config = self.sources[source]
        try:
            sitemap = parse_sitemap(response.body, response.url, self.job.crawl.max_page_bytes)
        except FeedError as exc:
            self._listing_unreadable(report, "malformed_sitemap", exc)
            return
        oldest = self.now - timedelta(days=config.max_age_days)
        for url, modified in sitemap.children:
            if depth >= MAX_SITEMAP_DEPTH or (modified and modified < oldest):
                report.count("skipped", "old_or_deep_sitemap")
            else:
                yield self._request(source, url, self.parse_sitemap, depth + 1)
        report.listed += len(sitemap.entries)
        recent = [e for e in sitemap.entries if _wanted(e.link, config) and (e.published or oldest) >= oldest]
        if len(recent) < len(sitemap.entries):
            report.count("skipped", "old_or_unwanted", len(sitemap.entries) - len(recent))
        recent.sort(key=lambda e: e.published or self.now, reverse=True)
        yield from self._take(source, recent)

    def parse_site(self, response: Response, source: str, depth: int) -> Output:
        report = self._listing_read(response, source, depth)
        if report is None:
            return
        if not isinstance(response, TextResponse):
            report.count("errors", "not_html")
            return
        links = self.rules[source].links(response)
        report.listed += len(links.articles)
        yield from self._take(source, [FeedEntry(url, None, None, None) for url in links.articles])
        if depth + 1 < self.sources[source].max_depth:
            for url in links.listings:
                if self._page_budget_left(source):
                    yield self._request(source, url, self.parse_site, depth + 1)

    def _listing_unreadable(self, report: SourceReport, reason: str, problem: Exception) -> None:
        self.logger.warning("source %s: %s", report.source, problem)
        report.count("errors", reason)
        report.listing_ok = False

    def _take(self, source: str, entries: Iterable[FeedEntry]) -> Output:
        """Hand on entries not seen before, up to the source's ``max_items``, fetching pages if asked."""
        config, report = self.sources[source], self.reports[source]
        fresh = self._fresh_entries(entries, report)
        for url, entry in fresh.items():
            if self.taken[source] >= config.max_items:
                report.count("skipped", "max_items")
                continue
            if config.type == "site" or config.fetch_articles:
                if not self._page_budget_left(source):
                    continue
                self.taken[source] += 1
                self.pages[source] += 1
                yield Request(
                    url,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    cb_kwargs={"source": source, "entry": entry, "url": url},
                )
            else:
                self.taken[source] += 1
                report.new += 1
                yield self._item(config, url, entry).model_dump(mode="json")

    def _page_budget_left(self, source: str) -> bool:
        config = self.sources[source]
        if config.type == "site" and self.pages[source] >= config.max_pages:
            self.reports[source].count("skipped", "max_pages")
            return False
        return True

    def _fresh_entries(self, entries: Iterable[FeedEntry], report: SourceReport) -> dict[str, FeedEntry]:
        by_url: dict[str, FeedEntry] = {}
        for entry in entries:
            by_url.setdefault(canonicalize(entry.link), entry)
        elsewhere = [url for url in by_url if url in self.queued]
        if elsewhere:  # already taken this run, from another source or listing page
            report.count("skipped", "duplicate_in_run", len(elsewhere))
            by_url = {url: entry for url, entry in by_url.items() if url not in self.queued}
        seen = self.state.seen(by_url) if self.state else set()
        if seen:
            report.count("skipped", "already_seen", len(seen))
        fresh = {url: entry for url, entry in by_url.items() if url not in seen}
        self.queued.update(fresh)
        return fresh

    def parse_article(self, response: Response, source: str, entry: FeedEntry, url: str) -> Output:
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

    def article_failed(self, failure: Failure) -> Output:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        source, entry, url = kwargs["source"], kwargs["entry"], kwargs["url"]
        reason = _reason(failure)
        report = self.reports[source]
        report.count("skipped" if reason == "robots" else "errors", reason)
        if self.sources[source].type == "site" and not entry.title:
            return  # a site's link that could not be read leaves nothing to index; counted, not an item
        item = self._item(self.sources[source], url, entry)
        item.fetch_error = f"{reason}: {failure.getErrorMessage()}"[:500]
        item.retry_page = _is_transient(reason)
        report.new += 1
        yield item.model_dump(mode="json")

    def listing_failed(self, failure: Failure) -> None:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        self.reports[kwargs["source"]].count("errors", _reason(failure))
        if kwargs["depth"] == 0:
            self.reports[kwargs["source"]].listing_ok = False
        url = failure.request.url  # type: ignore[attr-defined]
        self.logger.warning("source %s: %s not fetched: %s", kwargs["source"], url, failure.getErrorMessage())

    def _item(self, source: Source, url: str, entry: FeedEntry) -> RawItem:
        return RawItem(
            source=source.name,
            url=url,
            feed_title=entry.title,
            feed_summary=entry.summary,
            feed_published=entry.published,
            feed_outlet=entry.outlet,
            language_hint=source.language,
            timezone=source.timezone,
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


def _wanted(url: str, source: Source) -> bool:
    if any(re.search(p, url) for p in source.deny):
        return False
    return not source.allow or any(re.search(p, url) for p in source.allow)


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
    name = failure.type.__name__.lower() if failure.type else "unknown"
    if "robots.txt" in message:
        return "robots"
    if message.startswith("blocked:"):
        return "blocked_address"
    if "max size" in message.lower() or "maxsize" in message.lower():
        return "too_large"
    if "max redirections" in message.lower():
        return "redirect_loop"
    if "timeout" in name or "timedout" in name:
        return "timeout"
    if name in CONNECTION_FAILURES or "refused" in name or "dnslookup" in name:
        return "connection_failed"
    return name


CONNECTION_FAILURES = frozenset(
    {
        "downloadfailederror",
        "responseneverreceived",
        "connectionlost",
        "connectionrefusederror",
        "downloadconnectionrefusederror",
        "connectionclosed",
        "connectiondone",
        "dnslookuperror",
    }
)
