"""What goes wrong on real pages, reproduced by the news world's ``/cases/`` pages and run through a real
cycle (crawl over HTTP, process, stories, index): text, times and zones, undated pages, titles, language,
Latin terms inside Chinese, match explanations, empty pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.loader import load_settings
from config.settings import Settings, Source, Team, Watchlist
from digests.digest import build_digest
from digests.render import render_html, render_text
from index.base import SearchRequest, doc_from_stored
from nlp.embed import HashingEmbedder
from opinionwatch.newsworld.server import NewsWorldServer
from opinionwatch.pipeline import CycleReport, run_cycle
from opinionwatch.wiring import Services
from tests.conftest import DEMO_CONFIG, environment, fresh_elasticsearch_index


@pytest.fixture(scope="module")
def cycle(
    news_server: NewsWorldServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CycleReport, dict[str, dict[str, Any]], dict[str, dict[str, Any]], Services]]:
    """One cycle over both case listings: its report, the indexed documents by case name, the cases'
    truth, and the services (open) for the digest."""
    base = load_settings(
        DEMO_CONFIG, environ=environment(news_server), data_dir=tmp_path_factory.mktemp("cases") / "data"
    )
    sources = [
        Source(name=f"cases-{lang}", type="site", url=news_server.cases_url(lang), allow=["/cases/"])
        for lang in ("en", "zh")
    ]
    watchlists = [
        *base.watchlists,
        Watchlist(name="chips", query="5G"),
        Watchlist(name="handsets", query='iPhone -"iPhone 12"'),
        Watchlist(name="harbor", query='"harbor authority"'),
    ]
    settings = Settings.model_validate(
        {**base.model_dump(), "sources": sources, "watchlists": watchlists, "teams": []}
    )
    with Services(settings, embedder_override=HashingEmbedder()) as services:
        report = run_cycle(services)
        hits = services.index.search(SearchRequest(limit=100)).hits
        truth = {case["name"]: case for case in news_server.truth()["cases"]}
        by_url = {case["url"]: name for name, case in truth.items()}
        docs = {by_url[str(hit.doc["url"])]: hit.doc for hit in hits if hit.doc["url"] in by_url}
        yield report, docs, truth, services


def test_portal_page_body_is_the_article_not_its_recommended_block(cycle: Any) -> None:
    _, docs, *_ = cycle
    body = str(docs["portal-sidebar"]["body"])
    assert "此次召回涉及的移动电源" in body and "截至发稿时" in body  # the article, to its last paragraph
    teasers = sum(len(line) for line in body.split("\n") if line.startswith("推荐阅读"))
    assert teasers < 0.3 * len(body)
    others = [str(doc["title"]) for name, doc in docs.items() if name != "portal-sidebar" and doc["title"]]
    assert not [title for title in others if title in body]  # nor its "most read" list


def test_naive_page_times_are_read_in_the_sites_zone(cycle: Any) -> None:
    _, docs, truth, _ = cycle
    for name in ("portal-sidebar", "latin-in-han", "truncated-og-title", "kana-dot"):
        stored = datetime.fromisoformat(str(docs[name]["published"]))
        assert stored == datetime.fromisoformat(truth[name]["published"]), name
        assert docs[name]["date_precision"] == "datetime"


def test_undated_pages_are_marked_and_filed_under_first_seen(cycle: Any) -> None:
    report, docs, *_ = cycle
    undated = docs["undated"]
    assert undated["date_precision"] == "none"
    assert abs(datetime.fromisoformat(str(undated["published"])) - datetime.now(UTC)).total_seconds() < 600
    assert report.problems["no_date"] >= 1
    dated_by_day = docs["date-only"]
    assert dated_by_day["date_precision"] == "date" and str(dated_by_day["published"]).startswith(
        cycle[2]["date-only"]["published"]
    )


def test_titles_prefer_the_complete_form(cycle: Any) -> None:
    _, docs, truth, _ = cycle
    for name in ("truncated-og-title", "portal-sidebar", "latin-in-han"):
        assert docs[name]["title"] == truth[name]["title"], name


def test_kana_dots_in_chinese_stay_chinese(cycle: Any) -> None:
    _, docs, *_ = cycle
    assert docs["kana-dot"]["language"] == "zh" and docs["latin-in-han"]["language"] == "zh"


def test_latin_terms_between_han_characters_match_and_explain_themselves(cycle: Any) -> None:
    _, docs, *_ = cycle
    doc = docs["latin-in-han"]
    assert {"chips", "handsets", "apple"} <= set(doc["watchlists"])  # type: ignore[arg-type]
    reasons = {(r["watchlist"], r["term"], r["field"]) for r in doc["matched"]}  # type: ignore[union-attr]
    assert ("chips", "5G", "title") in reasons and ("handsets", "iPhone", "title") in reasons
    portal = {(r["watchlist"], r["term"], r["via"]) for r in docs["portal-sidebar"]["matched"]}  # type: ignore[union-attr]
    assert ("novamart", "诺瓦商城", "NovaMart") in portal


def test_outlet_names_come_from_the_page(cycle: Any) -> None:
    _, docs, *_ = cycle
    assert docs["portal-sidebar"]["outlet"] == "华夏财经" and docs["undated"]["outlet"] == "Harbor Daily"


def test_a_page_with_no_title_and_no_text_is_counted_and_not_indexed(cycle: Any) -> None:
    report, docs, *_ = cycle
    assert "empty" not in docs and report.problems["empty_text"] == 1


def test_the_digest_shows_local_times_outlets_clean_snippets_and_why_each_story_matched(cycle: Any) -> None:
    _, docs, truth, services = cycle
    team = Team(name="pr", watchlists=["novamart", "chips"], timezone="Asia/Shanghai")
    day = date.fromisoformat(truth["portal-sidebar"]["published"][:10])
    digest = build_digest(services.settings, team, day, services.index, services.stories, datetime.now(UTC))
    entries = {entry.title: entry for section in digest.sections for entry in section.stories}
    portal = entries[truth["portal-sidebar"]["title"]]
    assert portal.outlet == "华夏财经" and portal.when == f"{day.isoformat()} 18:13 CST"
    assert portal.snippet.startswith("诺瓦商城今日宣布召回")  # neither the title nor the byline line
    assert "诺瓦商城 (alias of NovaMart) in title" in portal.matched
    chips = entries[truth["latin-in-han"]["title"]]
    assert "5G (query) in title" in chips.matched
    html, text = render_html(digest), render_text(digest)
    for shown in (html, text):
        assert (
            "18:13 CST" in shown
            and "华夏财经" in shown
            and "matched: 诺瓦商城 (alias of NovaMart) in title" in shown
        )


def test_the_digest_marks_undated_items(cycle: Any) -> None:
    _, docs, _, services = cycle
    team = Team(name="ops", watchlists=["harbor"], timezone="Asia/Shanghai")
    seen = datetime.fromisoformat(str(docs["undated"]["published"]))
    day = seen.astimezone(ZoneInfo("Asia/Shanghai")).date()
    digest = build_digest(services.settings, team, day, services.index, services.stories, datetime.now(UTC))
    (entry,) = digest.sections[0].stories
    assert entry.undated and entry.when.startswith("undated · first seen")
    assert "undated · first seen" in render_html(digest)


def test_elasticsearch_keeps_precision_outlet_and_match_reasons(
    cycle: Any, elasticsearch_url: str, tmp_path: Path
) -> None:
    _, docs, *_ = cycle
    with fresh_elasticsearch_index(elasticsearch_url, tmp_path) as elastic:
        elastic.upsert([doc_from_stored(stored, None) for stored in docs.values()])
        found = {hit.doc["url"]: hit.doc for hit in elastic.search(SearchRequest(limit=100)).hits}
        assert {hit.id for hit in elastic.search(SearchRequest(query="5G")).hits} == {
            docs["latin-in-han"]["id"]
        }
    for stored in docs.values():
        back = found[stored["url"]]
        for key in ("date_precision", "outlet", "matched", "published"):
            assert back[key] == stored[key], key
