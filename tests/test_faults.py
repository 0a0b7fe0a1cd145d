"""The crawlers against the local fault server: every fault is a counted reason, never a crash or a lost item."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import CrawlSettings, Source
from crawlers.http import FetchError, SafeClient
from crawlers.run import crawl
from tests.fault_server import GBK_TEXT, FaultServer

FAST = {"download_delay_s": 0, "concurrency_per_domain": 8, "time_budget_s": 60, "download_timeout_s": 1.5}
SAFE = CrawlSettings(allow_private=["127.0.0.1"], max_page_bytes=200_000, **FAST)


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def fault_crawl(faults: FaultServer, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("faults")
    sources = [
        Source(name="faults", url=faults.url("feed.xml")),
        Source(name="cut-feed", url=faults.url("malformed-feed")),
        Source(name="gone", url=faults.url("status/410")),
    ]
    return crawl(sources, SAFE, folder / "state.sqlite", folder)


def test_every_fault_is_a_counted_reason(fault_crawl) -> None:  # type: ignore[no-untyped-def]
    reports = {r.source: r for r in fault_crawl.reports}
    faults = reports["faults"]
    assert faults.listing_ok and faults.listed == 12
    assert faults.skipped == {"robots": 1}
    assert faults.errors == {
        "http_404": 1,
        "http_500": 1,
        "timeout": 1,
        "connection_failed": 1,
        "too_large": 2,
        "redirect_loop": 1,
        "blocked_address": 1,
    }
    assert reports["cut-feed"].errors == {"malformed_feed": 1} and not reports["cut-feed"].listing_ok
    assert reports["gone"].errors == {"http_410": 1} and not reports["gone"].listing_ok


def test_good_pages_survive_their_neighbours(fault_crawl, faults: FaultServer) -> None:  # type: ignore[no-untyped-def]
    pages = {item.url.removeprefix(faults.base): item for item in fault_crawl.items}
    assert "Good page 1" in (pages["/ok/1"].html or "") and "Good page 2" in (pages["/ok/2"].html or "")
    assert (
        GBK_TEXT[:20] in (pages["/lying-charset"].html or "")
        and pages["/lying-charset"].encoding == "gb18030"
    )
    # failed pages still arrive with their feed text; passing failures are fetched again next run
    assert pages["/status/500"].retry_page and not pages["/status/404"].retry_page
    assert pages["/hang"].retry_page and pages["/huge"].fetch_error and not pages["/huge"].retry_page
    assert pages["/redirect-private"].fetch_error.startswith("blocked_address")  # type: ignore[union-attr]
    assert "/private/secret" in pages and pages["/private/secret"].html is None
    assert faults.hits["/private/secret"] == 0 and faults.hits["/status/404"] == 1  # 4xx not retried


def test_retry_after_pauses_the_site_then_retries(faults: FaultServer, tmp_path: Path) -> None:
    items = [
        _feed_source(faults, "retry-after/1/scrapy"),
        _feed_source(faults, "retry-date/scrapy"),
        _feed_source(faults, "retry-after/3600/scrapy"),
    ]
    result = crawl(items, SAFE, tmp_path / "state.sqlite", tmp_path)
    by_path = {item.url.removeprefix(faults.base): item for item in result.items}
    short, dated = faults.times["/retry-after/1/scrapy"], faults.times["/retry-date/scrapy"]
    assert len(short) == 2 and short[1] - short[0] >= 0.9
    assert len(dated) == 2 and dated[1] - dated[0] >= 0.9
    assert "Page after waiting" in (by_path["/retry-after/1/scrapy"].html or "")
    assert faults.hits["/retry-after/3600/scrapy"] == 1  # too long to wait: given up at once, not hammered
    assert by_path["/retry-after/3600/scrapy"].retry_page


def _feed_source(faults: FaultServer, route: str) -> Source:
    """A one-entry JSON Feed pointing at ``route``, served by the fault server's feed route family."""
    return Source(name=route.replace("/", "-"), url=faults.url(f"one-entry/{route}"))


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ("redirect-private", "blocked_address"),
        ("redirect-loop", "redirect_loop"),
        ("huge", "too_large"),
        ("gzip-bomb", "too_large"),
        ("hang", "timeout"),
        ("reset", "connection_failed"),
    ],
)
def test_api_client_refuses_what_the_spider_refuses(faults: FaultServer, route: str, reason: str) -> None:
    async def fetch() -> None:
        async with SafeClient(SAFE) as client:
            await client.get(faults.url(route))

    with pytest.raises(FetchError) as caught:
        asyncio.run(fetch())
    assert caught.value.reason == reason, caught.value


def test_api_client_waits_for_retry_after_and_gives_up_on_long_waits(faults: FaultServer) -> None:
    async def fetch(route: str) -> int:
        async with SafeClient(SAFE) as client:
            return (await client.get(faults.url(route))).status

    assert asyncio.run(fetch("retry-after/1/api")) == 200
    times = faults.times["/retry-after/1/api"]
    assert len(times) == 2 and times[1] - times[0] >= 0.9
    with pytest.raises(FetchError) as caught:
        asyncio.run(fetch("retry-after/3600/api"))
    assert caught.value.reason == "http_429" and caught.value.retry_later
    assert faults.hits["/retry-after/3600/api"] == 1


@pytest.mark.parametrize(
    ("robots", "fetched"),
    [("allow", True), ("disallow-all", False), ("garbage", True), ("disallow-private", True)],
)
def test_robots_variants(robots: str, fetched: bool, tmp_path: Path) -> None:
    with FaultServer(robots=robots) as server:
        source = Source(name="robots", url=server.url("one-entry/ok/7"))
        result = crawl([source], SAFE, tmp_path / "state.sqlite", tmp_path)
        assert server.hits["/robots.txt"] == 1
        assert (server.hits["/ok/7"] == 1) is fetched
        if not fetched:  # the feed itself is forbidden: the source cannot be read, an error
            assert result.reports[0].errors == {"robots": 1} and not result.reports[0].listing_ok
