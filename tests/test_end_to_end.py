"""The whole path through the real command line: crawl -> process -> embed -> stories -> index -> search -> digest."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.base import SearchRequest
from index.embedded import EmbeddedIndex
from opinionwatch.newsworld import NewsWorldServer, World
from tests.conftest import write_demo_config

pytestmark = pytest.mark.slow


def opinionwatch(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opinionwatch.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@dataclass
class Cycle:
    config: Path
    data: Path
    output: str
    docs: dict[str, dict[str, object]]


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory, world_env: dict[str, str]) -> Cycle:
    folder = tmp_path_factory.mktemp("e2e")
    config = write_demo_config(folder, folder / "data")
    done = opinionwatch("run", "--once", "--config", str(config), env=world_env)
    assert done.returncode == 0, done.stderr
    index = EmbeddedIndex(folder / "data" / "index")
    docs = {str(hit.doc["url"]): hit.doc for hit in index.search(SearchRequest(limit=1000)).hits}
    index.close()
    return Cycle(config, folder / "data", done.stdout, docs)


def test_every_planted_article_is_indexed_in_its_language(
    cycle: Cycle, news_server: NewsWorldServer, world: World
) -> None:
    for article in world.articles:
        doc = cycle.docs[news_server.url_of(article)]
        assert doc["language"] == article.lang, article.id
        if article.crawlable:
            assert article.paragraphs[0] in str(doc["body"]), article.id
    assert "collected 72, processed 72 (failed 0)" in " ".join(cycle.output.split())


def test_reprints_and_translations_share_a_story_and_other_events_do_not(
    cycle: Cycle, news_server: NewsWorldServer, world: World
) -> None:
    """With the default (multilingual) model, an event covered in Chinese and English is one story."""
    story_of = {
        key: {cycle.docs[news_server.url_of(a)]["story_id"] for a in arts}
        for key, arts in world.events().items()
    }
    for key, found in story_of.items():
        assert len(found) == 1, f"planted event {key} was split into {found}"
    all_ids = [next(iter(found)) for found in story_of.values()]
    assert len(set(all_ids)) == len(all_ids), "two planted events were merged"
    recall = [cycle.docs[news_server.url_of(a)] for a in world.events()["novamart-recall"]]
    assert {doc["language"] for doc in recall} == {"en", "zh"}


def test_watchlists_match_planted_truth_and_confusers_do_not(
    cycle: Cycle, news_server: NewsWorldServer, world: World
) -> None:
    for article in world.articles:
        watchlists = set(cycle.docs[news_server.url_of(article)]["watchlists"])  # type: ignore[call-overload]
        if article.confuser:
            assert "apple" not in watchlists, f"confuser {article.id} matched Apple: {article.title}"
        if article.crawlable and article.watchlists:
            assert set(article.watchlists) <= watchlists, (article.id, article.title, watchlists)


def test_search_finds_planted_items_with_highlights(cycle: Cycle, world_env: dict[str, str]) -> None:
    done = opinionwatch(
        "search",
        '"power banks"',
        "--config",
        str(cycle.config),
        "--json",
        "--since",
        "2026-11-15",
        env=world_env,
    )
    result = json.loads(done.stdout)
    assert result["total"] == 4 and result["facets"]["source"]
    assert all("<mark>power banks</mark>" in " ".join(hit["highlights"]["body"]) for hit in result["hits"])
    zh = json.loads(
        opinionwatch(
            "search",
            "诺瓦商城",
            "--config",
            str(cycle.config),
            "--json",
            "--lang",
            "zh",
            "--watchlist",
            "novamart",
            env=world_env,
        ).stdout
    )
    assert zh["total"] >= 4 and all(hit["language"] == "zh" for hit in zh["hits"])
    table = opinionwatch("search", "recalls", "--config", str(cycle.config), env=world_env)
    assert table.returncode == 0 and "NovaMart" in table.stdout


def test_search_by_story_and_hybrid(cycle: Cycle, world_env: dict[str, str]) -> None:
    stories = opinionwatch(
        "search", '"power banks"', "--stories", "--json", "--config", str(cycle.config), env=world_env
    )
    result = json.loads(stories.stdout)
    assert [hit["story_matching_items"] for hit in result["hits"]] == [4]  # four reprints, one story
    fused = opinionwatch(
        "search",
        "NovaMart refunds",
        "--hybrid",
        "--json",
        "--limit",
        "3",
        "--config",
        str(cycle.config),
        env=world_env,
    )
    titles = [hit["title"] for hit in json.loads(fused.stdout)["hits"]]
    assert titles[0] == "Shoppers flood NovaMart with complaints over delayed refunds"
    both = opinionwatch("search", "x", "--hybrid", "--stories", "--config", str(cycle.config), env=world_env)
    assert both.returncode == 1 and "choose one of" in both.stderr


def test_digest_leads_with_the_planted_top_story(
    cycle: Cycle, world: World, world_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "digest.html"
    done = opinionwatch(
        "digest",
        "--config",
        str(cycle.config),
        "--date",
        world.burst_day.isoformat(),
        "--out",
        str(out),
        env=world_env,
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text("utf-8")
    section = html[html.index('data-watchlist="novamart"') :]
    first_story = section[section.index('class="title"') : section.index("</a>")]
    top = next(a for a in world.stories()[world.top_story["novamart"]] if a.variant == "original")
    assert top.title in first_story
    first_entry = section[: section.index("</li>")]
    assert "6 items · 6 sites" in first_entry  # 4 English, 2 Chinese: one story
    assert "also in Chinese: 2 items · 2 sites" in first_entry


def test_second_run_fetches_nothing_old(
    cycle: Cycle, news_server: NewsWorldServer, world_env: dict[str, str]
) -> None:
    before = len(news_server.requests)
    done = opinionwatch("run", "--once", "--config", str(cycle.config), env=world_env)
    assert done.returncode == 0, done.stderr
    assert "collected 0" in done.stdout
    assert not [path for _, _, path in news_server.requests[before:] if path.endswith(".html")]


def test_demo_command_runs_the_whole_thing(tmp_path: Path) -> None:
    done = opinionwatch("demo", "--workdir", str(tmp_path / "demo"), timeout=300)
    assert done.returncode == 0, done.stderr
    truth = json.loads((tmp_path / "demo" / "truth.json").read_text("utf-8"))
    top = next(
        a
        for a in truth["articles"]
        if a["story"] == truth["top_story"]["novamart"] and a["variant"] == "original"
    )
    assert top["title"] in (tmp_path / "demo" / "digest.html").read_text("utf-8")
    found = opinionwatch(
        "search", "NovaMart", "--config", str(tmp_path / "demo" / "opinionwatch.yaml"), "--json"
    )
    assert json.loads(found.stdout)["total"] >= 8
    suggested = [
        line.removeprefix("try:").strip() for line in done.stdout.splitlines() if " search --config " in line
    ]
    assert len(suggested) == 3
    for command in suggested:  # as printed, from a shell whose PATH lacks the virtual environment
        ran = subprocess.run(
            command, shell=True, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"}
        )
        assert ran.returncode == 0 and ran.stdout.strip(), (command, ran.stderr)


def test_search_by_story_collapses_an_event_across_languages(
    cycle: Cycle, world_env: dict[str, str], news_server: NewsWorldServer, world: World
) -> None:
    done = opinionwatch(
        "search",
        "召回 OR recall",
        "--stories",
        "--json",
        "--limit",
        "50",
        "--config",
        str(cycle.config),
        env=world_env,
    )
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)["hits"]
    recall_story = cycle.docs[news_server.url_of(world.events()["novamart-recall"][0])]["story_id"]
    recall_hits = [hit for hit in hits if hit["story_id"] == recall_story]
    assert len(recall_hits) == 1 and recall_hits[0]["story_matching_items"] == 6  # 4 English, 2 Chinese
