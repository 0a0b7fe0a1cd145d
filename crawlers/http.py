"""The safe HTTP client of the API pollers (httpx, async): the same rules as the Scrapy side.

Only http(s); every hop of a redirect checked against private addresses; bodies capped after
decompression; timeouts; 429/503 wait for ``Retry-After`` (capped) and are retried a few times.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from config.settings import CrawlSettings
from crawlers.retry_after import DEFAULT_429_WAIT_S, retry_after_seconds
from crawlers.urls import BlockedURL, check_fetchable, parse_networks

MAX_REDIRECTS = 5
RETRIES = 2
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A request that gave nothing usable; ``reason`` is the counted reason in the run report."""

    def __init__(self, reason: str, message: str, retry_later: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_later = retry_later


@dataclass
class Fetched:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            snippet = self.body[:200].decode("utf-8", "replace").strip()
            raise FetchError("not_json", f"{self.url}: answer is not JSON: {snippet!r}") from None


class SafeClient:
    """Use as ``async with SafeClient(crawl_settings) as client``."""

    def __init__(self, crawl: CrawlSettings) -> None:
        self.crawl = crawl
        self.allowed = parse_networks(crawl.allow_private)
        self.client = httpx.AsyncClient(
            headers={"User-Agent": crawl.full_user_agent, "Accept": "application/json"},
            timeout=httpx.Timeout(crawl.download_timeout_s, connect=min(10.0, crawl.download_timeout_s)),
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self) -> SafeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get_json(self, url: str, params: dict[str, str] | None = None) -> Any:
        """GET ``url`` and decode JSON; any HTTP error status raises :class:`FetchError`."""
        fetched = await self.get(url, params)
        if fetched.status >= 400:
            retry_later = fetched.status in RETRIED_STATUSES
            detail = fetched.body[:200].decode("utf-8", "replace").strip()
            message = f"{fetched.url}: HTTP {fetched.status}: {detail}"
            raise FetchError(f"http_{fetched.status}", message, retry_later)
        return fetched.json()

    async def get(self, url: str, params: dict[str, str] | None = None) -> Fetched:
        """GET with retries for 429/5xx, honouring ``Retry-After`` up to ``crawl.retry_after_max_s``."""
        for attempt in range(RETRIES + 1):
            fetched = await self._follow(url, params)
            if fetched.status not in RETRIED_STATUSES or attempt == RETRIES:
                return fetched
            wait = retry_after_seconds(fetched.headers.get("Retry-After"))
            if wait is None:
                wait = DEFAULT_429_WAIT_S if fetched.status == 429 else float(attempt + 1)
            if wait > self.crawl.retry_after_max_s:
                raise FetchError(
                    f"http_{fetched.status}",
                    f"{fetched.url}: asked to retry after {wait:.0f}s, more than crawl.retry_after_max_s; "
                    "next run tries again",
                    retry_later=True,
                )
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _follow(self, url: str, params: dict[str, str] | None) -> Fetched:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                await asyncio.to_thread(check_fetchable, url, self.allowed)
            except BlockedURL as exc:
                raise FetchError("blocked_address", str(exc)) from None
            try:
                async with self.client.stream("GET", url, params=params) as response:
                    if response.is_redirect and "location" in response.headers:
                        url, params = urljoin(str(response.url), response.headers["location"]), None
                        continue
                    body = await self._read_capped(response)
                    return Fetched(str(response.url), response.status_code, response.headers, body)
            except httpx.TimeoutException as exc:
                raise FetchError("timeout", f"{url}: {type(exc).__name__}", retry_later=True) from None
            except httpx.TransportError as exc:
                message = f"{url}: {type(exc).__name__}: {exc}"
                raise FetchError("connection_failed", message, retry_later=True) from None
        raise FetchError("redirect_loop", f"{url}: more than {MAX_REDIRECTS} redirects")

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.crawl.max_page_bytes
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError("too_large", f"{response.url}: body over {cap} bytes decompressed; skipped")
            chunks.append(chunk)
        return b"".join(chunks)
