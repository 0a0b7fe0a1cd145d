"""The feed spider in its child process, against the local news world and a few broken sources."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.settings import CrawlSettings, Source
from crawlers.run import crawl
from crawlers.state import CrawlState
from nlp.extract import extract
from opinionwatch.newsworld import NewsWorldServer, World

FAST = {"download_delay_s": 0, "concurrency_per_domain": 8, "time_budget_s": 60}


def crawl_world(server: NewsWorldServer, world: World, folder: Path):  # type: ignore[no-untyped-def]
    sources = [Source(name=site.name, url=server.feed_url(site.name)) for site in world.sites]
    return crawl(sources, CrawlSettings(allow_private=["127.0.0.1"], **FAST), folder / "state.sqlite", folder)


@pytest.fixture(scope="module")
def first_crawl(news_server: NewsWorldServer, world: World, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("crawl")
    requests_before = len(news_server.requests)
    result = crawl_world(news_server, world, folder)
    return folder, result, news_server.requests[requests_before:]


def test_every_crawlable_article_is_collected_with_its_page(
    first_crawl, news_server: NewsWorldServer, world: World
) -> None:  # type: ignore[no-untyped-def]
    _, result, _ = first_crawl
    by_url = {item.url: item for item in result.items}
    for article in world.articles:
        item = by_url[news_server.url_of(article)]
        if article.crawlable:
            assert item.html is not None and item.fetch_error is None
            assert article.paragraphs[0][:20] in item.html
        else:
            assert item.html is None and item.fetch_error and item.fetch_error.startswith("robots")
    assert len(result.items) == len(world.articles)


def test_robots_txt_is_obeyed_and_user_agent_identifies_us(first_crawl) -> None:  # type: ignore[no-untyped-def]
    _, result, requests = first_crawl
    assert not [path for _, _, path in requests if path.startswith("/private/")]
    assert any(path == "/robots.txt" for _, _, path in requests)
    techwire = next(r for r in result.reports if r.source == "techwire")
    assert techwire.skipped == {"robots": 1}


def test_an_item_known_only_from_its_feed_is_named_by_the_feed(
    first_crawl, news_server: NewsWorldServer, world: World
) -> None:  # type: ignore[no-untyped-def]
    _, result, _ = first_crawl
    forbidden = next(a for a in world.articles if not a.crawlable)
    item = next(i for i in result.items if i.url == news_server.url_of(forbidden))
    site = next(s for s in world.sites if s.name == forbidden.site)
    assert item.html is None and item.feed_outlet == site.title
    assert extract(item).site_name == site.title  # not the host and port


def test_gbk_page_with_lying_header_is_decoded(
    first_crawl, news_server: NewsWorldServer, world: World
) -> None:  # type: ignore[no-untyped-def]
    _, result, _ = first_crawl
    article = world.articles_of("nanfang-shangbao")[0]
    item = next(i for i in result.items if i.url == news_server.url_of(article))
    assert item.encoding == "gb18030"
    assert article.title in (item.html or "")


def test_second_run_fetches_nothing_old(first_crawl, news_server: NewsWorldServer, world: World) -> None:  # type: ignore[no-untyped-def]
    folder, result, _ = first_crawl
    state = CrawlState(folder / "state.sqlite")
    state.mark_seen([(item.source, item.url) for item in result.items], datetime.now(UTC))
    state.close()
    before = len(news_server.requests)
    again = crawl_world(news_server, world, folder)
    assert again.items == []
    article_requests = [p for _, _, p in news_server.requests[before:] if p.endswith(".html")]
    assert article_requests == []
    assert sum(r.skipped.get("already_seen", 0) for r in again.reports) == len(world.articles)


def test_bad_sources_are_counted_and_do_not_cost_good_items(
    broken_server: str, news_server: NewsWorldServer, world: World, tmp_path: Path
) -> None:
    sources = [
        Source(name="malformed", url=f"{broken_server}/malformed.xml"),
        Source(name="dead", url=f"{broken_server}/dead.xml"),
        Source(name="good", url=news_server.feed_url("harbor-daily")),
    ]
    settings = CrawlSettings(allow_private=["127.0.0.1"], **FAST)
    result = crawl(sources, settings, tmp_path / "state.sqlite", tmp_path)
    reports = {r.source: r for r in result.reports}
    assert reports["malformed"].errors == {"malformed_feed": 1}
    assert reports["dead"].errors == {"http_500": 1}
    assert len([i for i in result.items if i.source == "good"]) == len(world.articles_of("harbor-daily"))


def test_private_address_is_blocked_unless_allowed(news_server: NewsWorldServer, tmp_path: Path) -> None:
    source = Source(name="loopback", url=news_server.feed_url("harbor-daily"))
    before = len(news_server.requests)
    result = crawl([source], CrawlSettings(**FAST), tmp_path / "state.sqlite", tmp_path)
    assert result.items == []
    assert result.reports[0].errors == {"blocked_address": 1}
    assert news_server.requests[before:] == []


def test_unchanged_feeds_are_not_downloaded_again(
    first_crawl, news_server: NewsWorldServer, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, result, _ = first_crawl
    marks = {r.source: r.marks for r in result.reports}
    assert all(m.etag and m.last_modified for m in marks.values())
    sources = [Source(name=site.name, url=news_server.feed_url(site.name)) for site in world.sites]
    before = len(news_server.requests)
    again = crawl(
        sources,
        CrawlSettings(allow_private=["127.0.0.1"], **FAST),
        tmp_path / "s.sqlite",
        tmp_path,
        marks,
    )
    assert again.items == []
    assert {r.source: r.skipped for r in again.reports} == {s.name: {"not_modified": 1} for s in world.sites}
    assert {p for _, _, p in news_server.requests[before:]} <= {"/feed.xml", "/robots.txt"}


def _crawlable(world: World, site: str) -> list:  # type: ignore[type-arg]
    return [a for a in world.articles_of(site) if a.crawlable]


def test_news_sitemap_gives_recent_articles_only(
    news_server: NewsWorldServer, world: World, tmp_path: Path
) -> None:
    site = world.sites[0].name
    url = f"{news_server.base_url(site)}/sitemap.xml"
    settings = CrawlSettings(allow_private=["127.0.0.1"], **FAST)
    now = datetime.now(UTC)  # the spider's clock is the real one; the world's dates are fixed
    world_age = (now.date() - world.today).days
    everything = crawl(
        [Source(name="map", type="sitemap", url=url, max_age_days=world_age + 60)],
        settings,
        tmp_path / "a",
        tmp_path,
    )
    assert {i.url for i in everything.items} == {news_server.url_of(a) for a in _crawlable(world, site)}
    assert all(i.html and i.feed_title and i.feed_published for i in everything.items)
    assert {i.feed_outlet for i in everything.items} == {world.sites[0].title}  # news:publication's name
    max_age_days = world_age + 2
    recent = [
        a for a in _crawlable(world, site) if (now - a.published).total_seconds() <= max_age_days * 86400
    ]
    assert 0 < len(recent) < len(_crawlable(world, site))
    fresh = crawl(
        [Source(name="map", type="sitemap", url=url, max_age_days=max_age_days)],
        settings,
        tmp_path / "b",
        tmp_path,
    )
    assert {i.url for i in fresh.items} == {news_server.url_of(a) for a in recent}
    assert fresh.reports[0].skipped["old_or_unwanted"] == len(_crawlable(world, site)) - len(recent)


def test_site_spider_follows_allowed_links_within_limits(
    news_server: NewsWorldServer, world: World, tmp_path: Path
) -> None:
    site = world.sites[1].name
    articles = _crawlable(world, site)
    denied = articles[0].path.rsplit("/", 1)[-1]
    source = Source(
        name="site",
        type="site",
        url=news_server.base_url(site) + "/",
        allow=[r"/\d{4}/\d{2}/\d{2}/"],
        deny=[denied],
        link_selector="ul",
    )
    settings = CrawlSettings(allow_private=["127.0.0.1"], **FAST)
    state = CrawlState(tmp_path / "state.sqlite")
    result = crawl([source], settings, tmp_path / "state.sqlite", tmp_path)
    assert {i.url for i in result.items} == {news_server.url_of(a) for a in articles[1:]}
    assert all(i.html and not i.fetch_error for i in result.items)
    state.mark_seen([(i.source, i.url) for i in result.items], datetime.now(UTC))
    before = len(news_server.requests)
    again = crawl([source], settings, tmp_path / "state.sqlite", tmp_path)
    assert again.items == [] and again.reports[0].skipped == {"already_seen": len(articles) - 1}
    assert [p for s, _, p in news_server.requests[before:] if s == site] == ["/robots.txt", "/"]  # no article
    limited = source.model_copy(update={"max_pages": 3})
    capped = crawl([limited], settings, tmp_path / "other.sqlite", tmp_path)
    assert len(capped.items) == 2 and capped.reports[0].skipped["max_pages"] >= 1
