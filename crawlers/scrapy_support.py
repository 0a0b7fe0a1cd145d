"""Small Scrapy adapters: the safety middleware, the JSON-lines item writer, and the settings."""

from __future__ import annotations

import json
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import call_later

from crawlers.job import CrawlJob
from crawlers.retry_after import DEFAULT_429_WAIT_S, retry_after_seconds
from crawlers.urls import BlockedURL, Network, check_fetchable, parse_networks


class SafetyMiddleware:
    """Refuse non-http(s) URLs and private addresses, on every request including each redirect hop."""

    def __init__(self, allowed: list[Network]) -> None:
        self.allowed = allowed
        self.verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> SafetyMiddleware:
        return cls(parse_networks(crawler.settings.getlist("OPINIONWATCH_ALLOW_PRIVATE")))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parts = urlsplit(request.url)
        cache_key = f"{parts.scheme}://{parts.netloc}"
        if cache_key not in self.verdicts:
            try:
                check_fetchable(request.url, self.allowed)
                self.verdicts[cache_key] = None
            except BlockedURL as exc:
                self.verdicts[cache_key] = str(exc)
        reason = self.verdicts[cache_key]
        if reason is not None:
            raise IgnoreRequest(f"blocked: {reason}")


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, but a 429 or 503 pauses the whole site for its ``Retry-After`` (capped) first.

    A wait longer than the cap is not waited for: the response goes on as an error and the page is
    fetched again next run. Scrapy itself retries such answers at once (scrapy/scrapy#3849).
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.cap_s = settings.getfloat("OPINIONWATCH_RETRY_AFTER_MAX_S")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if response.status not in (429, 503) or request.meta.get("dont_retry", False):
            return super().process_response(request, response)
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None:
            wait = DEFAULT_429_WAIT_S if response.status == 429 else 0.0
        if wait > self.cap_s:
            return response
        self._pause_site(request, wait)
        return super().process_response(request, response)

    def _pause_site(self, request: Request, wait: float) -> None:
        """Hold every queued request of this download slot (the site) for ``wait`` seconds."""
        downloader = self.crawler.engine.downloader if self.crawler.engine else None
        slot = downloader.slots.get(request.meta.get("download_slot", "")) if downloader else None
        if slot is None or wait <= 0:
            return
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = call_later(wait, downloader._latercall, slot)  # type: ignore[union-attr]


class JsonLinesWriter:
    """Append every item to the job's JSON-lines file as it arrives, flushed, so none is lost."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.handle: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> JsonLinesWriter:
        return cls(crawler.settings.get("OPINIONWATCH_ITEMS_PATH"))

    def open_spider(self, spider: Spider | None = None) -> None:
        self.handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close_spider

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.handle is not None:
            self.handle.close()

    def process_item(self, item: dict[str, Any], spider: Spider | None = None) -> dict[str, Any]:
        assert self.handle is not None
        self.handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        self.handle.flush()
        return item


def scrapy_settings(job: CrawlJob) -> dict[str, Any]:
    crawl = job.crawl
    return {
        "BOT_NAME": "opinionwatch",
        "USER_AGENT": crawl.full_user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "TELNETCONSOLE_ENABLED": False,
        "EXTENSIONS": {"scrapy.extensions.telnet.TelnetConsole": None},
        "COOKIES_ENABLED": False,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout_s,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_DELAY": crawl.download_delay_s,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": crawl.download_delay_s,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
        "RETRY_TIMES": 2,
        "OPINIONWATCH_RETRY_AFTER_MAX_S": crawl.retry_after_max_s,
        "REDIRECT_MAX_TIMES": 5,
        "CLOSESPIDER_TIMEOUT": crawl.time_budget_s,
        "LOG_LEVEL": "WARNING",
        "OPINIONWATCH_ALLOW_PRIVATE": crawl.allow_private,
        "OPINIONWATCH_ITEMS_PATH": str(job.items_path),
        "DOWNLOADER_MIDDLEWARES": {
            "crawlers.scrapy_support.SafetyMiddleware": 50,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawlers.scrapy_support.RetryAfterMiddleware": 550,
        },
        "ITEM_PIPELINES": {"crawlers.scrapy_support.JsonLinesWriter": 100},
    }
