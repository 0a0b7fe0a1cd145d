"""The API pollers against local servers that answer in each API's documented shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import CrawlSettings, Source
from crawlers.polling import poll_sources
from crawlers.records import RawItem, SourceReport
from crawlers.run import crawl
from crawlers.state import CrawlState
from opinionwatch.newsworld import NewsWorldServer, World
from tests.api_replay import Canned, ReplayPost, ReplayServer

SETTINGS = CrawlSettings(allow_private=["127.0.0.1"], download_timeout_s=5, time_budget_s=60)
NOW = datetime.now(UTC).replace(microsecond=0)


def _posts() -> list[ReplayPost]:
    texts = [
        ("en", "NovaMart recalls power banks", "NovaMart recalls 120,000 power banks after fires."),
        ("zh", "诺瓦商城召回充电宝", "诺瓦商城宣布召回十二万个充电宝。"),
        ("en", "Shoppers angry at NovaMart", "Shoppers say NovaMart refunds are late."),
        ("en", "NovaMart opens warehouse", "NovaMart opens a warehouse in Riverton."),
        ("zh", "诺瓦商城新仓库", "诺瓦商城在华南新建仓库。"),
    ]
    return [
        ReplayPost(i + 1, NOW - timedelta(hours=5 * i + 1), f"user{i}", title, text, lang)
        for i, (lang, title, text) in enumerate(texts)
    ]


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(_posts()) as server:
        yield server


def _source(replay: ReplayServer, kind: str) -> Source:
    paths = {
        "hackernews": "/hn/api/v1/search_by_date",
        "reddit": "/reddit/search.json",
        "bluesky": "/bsky/xrpc/app.bsky.feed.searchPosts",
        "gdelt": "/gdelt/api/v2/doc/doc",
    }
    if kind == "mastodon-tag":
        return Source(name=kind, type="mastodon", url=replay.url("/mastodon"), tag="#novamart")
    if kind == "mastodon-search":
        return Source(name=kind, type="mastodon", url=replay.url("/mastodon"), query="NovaMart")
    return Source(name=kind, type=kind, url=replay.url(paths[kind]), query="NovaMart")  # type: ignore[arg-type]


def _poll(source: Source, state_db: Path) -> tuple[list[RawItem], SourceReport]:
    state = CrawlState(state_db)
    try:
        items, reports = poll_sources([source], SETTINGS, state_db, state.marks(), NOW)
        return items, reports[0]
    finally:
        state.close()


def _hand_on(items: list[RawItem], report: SourceReport, state_db: Path) -> None:
    state = CrawlState(state_db)
    state.mark_seen([(i.source, i.url) for i in items], NOW)
    state.save_marks([report])
    state.close()


KINDS = ["hackernews", "reddit", "mastodon-tag", "mastodon-search", "bluesky", "gdelt"]


@pytest.mark.parametrize("kind", KINDS)
def test_adapter_polls_incrementally(kind: str, replay: ReplayServer, tmp_path: Path) -> None:
    source, state_db = _source(replay, kind), tmp_path / "state.sqlite"
    items, report = _poll(source, state_db)
    assert report.listing_ok and report.errors == {} and report.new == 5 and report.marks.cursor
    assert all(item.kind == "post" and item.text and item.feed_published for item in items)
    expected = {p.created for p in replay.posts}
    assert {item.feed_published for item in items} == expected
    assert sum("诺瓦商城" in (item.text or "") for item in items) == 2
    if kind not in ("hackernews", "reddit"):  # these APIs name no language
        assert {item.language_hint for item in items} == {"en", "zh"}
    _hand_on(items, report, state_db)

    again, second = _poll(source, state_db)
    assert again == [] and second.listing_ok
    replay.posts.append(
        ReplayPost(9, NOW - timedelta(minutes=1), "late", "NovaMart answers", "NovaMart answers.")
    )
    third, report = _poll(source, state_db)
    assert [i.feed_published for i in third] == [NOW - timedelta(minutes=1)] and report.new == 1


def test_paging_reads_every_page(replay: ReplayServer, tmp_path: Path) -> None:
    for kind, path in [("hackernews", "/hn/"), ("reddit", "/reddit/"), ("bluesky", "/bsky/")]:
        before = len(replay.requests)
        items, _ = _poll(_source(replay, kind), tmp_path / f"{kind}.sqlite")
        assert len(items) == 5
        assert sum(1 for p, _ in replay.requests[before:] if p.startswith(path)) == 3  # pages of two


def test_rate_limit_waits_for_retry_after(replay: ReplayServer, tmp_path: Path) -> None:
    replay.script["reddit"].append(
        Canned(429, '{"message": "Too Many Requests", "error": 429}', {"Retry-After": "1"})
    )
    started = time.monotonic()
    items, report = _poll(_source(replay, "reddit"), tmp_path / "state.sqlite")
    assert len(items) == 5 and report.errors == {} and time.monotonic() - started >= 1


def test_long_rate_limit_ends_the_run_without_moving_the_cursor(replay: ReplayServer, tmp_path: Path) -> None:
    replay.script["bsky"].append(Canned(429, '{"error": "RateLimitExceeded"}', {"Retry-After": "86400"}))
    items, report = _poll(_source(replay, "bluesky"), tmp_path / "state.sqlite")
    assert items == [] and report.errors == {"http_429": 1} and not report.listing_ok and not report.marks


def test_a_failing_later_page_keeps_the_earlier_ones(replay: ReplayServer, tmp_path: Path) -> None:
    replay.script["hn"].extend([None, Canned(400, '{"message": "invalid page", "status": 400}', {})])
    items, report = _poll(_source(replay, "hackernews"), tmp_path / "state.sqlite")
    assert len(items) == 2 and report.errors == {"http_400": 1} and report.marks.cursor is None


@pytest.mark.parametrize(
    ("kind", "api", "canned", "reason"),
    [
        (
            "gdelt",
            "gdelt",
            Canned(200, "Your search contained a keyword that was too common.", {}),
            "api_error",
        ),
        (
            "bluesky",
            "bsky",
            Canned(400, '{"error": "InvalidRequest", "message": "Params must have q"}', {}),
            "http_400",
        ),
        ("reddit", "reddit", Canned(200, "<html>we are down</html>", {}), "not_json"),
        ("hackernews", "hn", Canned(200, '{"message": "changed"}', {}), "unexpected_response"),
        (
            "mastodon-search",
            "mastodon",
            Canned(401, '{"error": "This method requires an authenticated user"}', {}),
            "http_401",
        ),
    ],
)
def test_api_errors_are_counted_reasons(
    kind: str, api: str, canned: Canned, reason: str, replay: ReplayServer, tmp_path: Path
) -> None:
    replay.script[api].append(canned)
    items, report = _poll(_source(replay, kind), tmp_path / "state.sqlite")
    assert items == [] and report.errors == {reason: 1} and not report.listing_ok


def test_generic_json_api_and_feeds_in_one_run(
    news_server: NewsWorldServer, world: World, tmp_path: Path
) -> None:
    api = Source(
        name="social",
        type="json_api",
        url=news_server.api_url + "?since={since}&cursor={cursor}&limit=3",
        items_path="data",
        cursor_path="next_cursor",
        fields={
            "url": "url",
            "text": "text",
            "published": "created_at",
            "author": "author.handle",
            "language": "lang",
        },
        max_age_days=60,
    )
    feed = Source(name=world.sites[0].name, url=news_server.feed_url(world.sites[0].name))
    result = crawl([feed, api], SETTINGS, tmp_path / "state.sqlite", tmp_path)
    posts = [i for i in result.items if i.source == "social"]
    assert sorted(i.text or "" for i in posts) == sorted(p.text for p in world.posts)
    assert {i.author for i in posts} == {p.author for p in world.posts}
    assert any(i.source == feed.name and i.html for i in result.items)
    report = next(r for r in result.reports if r.source == "social")
    assert report.fetched == -(-len(world.posts) // 3) and report.marks.cursor
