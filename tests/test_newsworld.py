from __future__ import annotations

import json
from datetime import date

import httpx

from crawlers.feeds import parse_feed
from opinionwatch.newsworld import NewsWorldServer, World, build_world


def test_same_seed_same_world_and_different_seed_differs() -> None:
    first = build_world(seed=3, today=date(2026, 1, 10))
    again = build_world(seed=3, today=date(2026, 1, 10))
    other = build_world(seed=4, today=date(2026, 1, 10))
    assert first.articles == again.articles and first.posts == again.posts
    assert [a.title for a in first.articles] != [a.title for a in other.articles]


def test_planted_truth_is_present(world: World) -> None:
    stories = world.stories()
    assert len(stories["novamart-recall"]) == 4
    assert {a.variant for a in stories["novamart-recall"]} == {"original", "exact", "retitled", "edited"}
    assert any(a.confuser and a.lang == "zh" and "苹果" in a.title for a in world.articles)
    burst = [a for a in world.articles if a.negative and a.published.date() == world.burst_day]
    assert len(burst) >= 8
    assert all(a.published.date() < world.today for a in world.articles)


def test_sites_serve_feeds_pages_sitemaps_and_robots(news_server: NewsWorldServer, world: World) -> None:
    for site in world.sites:
        feed = httpx.get(news_server.feed_url(site.name))
        assert feed.status_code == 200
        entries = parse_feed(feed.content, str(feed.url))
        assert len(entries) == len(world.articles_of(site.name))
        assert {entry.outlet for entry in entries} == {site.title}  # the feed's title names its own site
        assert httpx.get(news_server.base_url(site.name) + "/sitemap.xml").status_code == 200
        assert "Disallow: /private/" in httpx.get(news_server.base_url(site.name) + "/robots.txt").text


def test_gbk_site_lies_about_its_charset(news_server: NewsWorldServer, world: World) -> None:
    article = world.articles_of("nanfang-shangbao")[0]
    response = httpx.get(news_server.url_of(article))
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert article.title in response.content.decode("gbk")
    try:
        response.content.decode("utf-8")
        raise AssertionError("the page should not be valid UTF-8")
    except UnicodeDecodeError:
        pass


def test_social_api_pages_with_cursor_and_since(news_server: NewsWorldServer, world: World) -> None:
    first = httpx.get(news_server.api_url, params={"limit": 4}).json()
    assert len(first["data"]) == 4 and first["next_cursor"] == 4
    rest = httpx.get(news_server.api_url, params={"limit": 4, "cursor": 4}).json()
    assert len(rest["data"]) == len(world.posts) - 4 and rest["next_cursor"] is None
    since = first["data"][-1]["created_at"]
    newer = httpx.get(news_server.api_url, params={"since": since}).json()["data"]
    assert [p["id"] for p in newer] == [p["id"] for p in rest["data"]]
    assert httpx.get(news_server.api_url, params={"cursor": "x"}).status_code == 400


def test_truth_uses_served_urls(news_server: NewsWorldServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    news_server.write_truth(tmp_path / "truth.json")
    truth = json.loads((tmp_path / "truth.json").read_text("utf-8"))
    assert truth["top_story"] == {"novamart": "novamart-recall"}
    for article in truth["articles"][:5]:
        assert httpx.get(article["url"]).status_code == 200


def test_parallel_set_tells_each_story_in_both_languages_with_the_same_facts() -> None:
    from nlp.facts import figures_in
    from nlp.language import ItemLanguageDetector
    from opinionwatch.newsworld.parallel import parallel_set

    pairs = parallel_set()
    assert len(pairs) == 120 and len({p.id for p in pairs}) == 120
    assert len({p.en_title for p in pairs}) == 120 and len({p.zh_title for p in pairs}) == 120
    detector = ItemLanguageDetector(["en", "zh"])
    for pair in pairs:
        assert detector.detect(pair.en_title + " " + pair.en_text) == "en"
        assert detector.detect(pair.zh_title + " " + pair.zh_text) == "zh"
        assert figures_in(pair.en_text + " " + pair.en_title) == figures_in(
            pair.zh_text + " " + pair.zh_title
        )
    assert parallel_set() == pairs and parallel_set(seed=12) != pairs


def test_a_feed_names_only_its_own_sites_entries() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title> Harbor   Daily </title>'
        b"<item><title>Own</title><link>https://www.harbor.example/a.html</link></item>"
        b"<item><title>Relative</title><link>/b.html</link></item>"
        b"<item><title>Elsewhere</title><link>https://other.example/c.html</link></item>"
        b"</channel></rss>"
    )
    entries = parse_feed(rss, "https://harbor.example/feed.xml")
    assert [e.outlet for e in entries] == ["Harbor Daily", "Harbor Daily", None]  # an aggregator's link
    json_feed = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Metro Ledger",
            "items": [{"url": "https://metro.example/x"}, {"url": "https://wire.example/y"}],
        }
    ).encode()
    assert [e.outlet for e in parse_feed(json_feed, "https://metro.example/feed.json")] == [
        "Metro Ledger",
        None,
    ]
    untitled = b'<rss version="2.0"><channel><item><link>https://a.example/1</link></item></channel></rss>'
    assert parse_feed(untitled, "https://a.example/rss")[0].outlet is None
