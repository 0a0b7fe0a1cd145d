"""Topics over simulated days of the calendar news world, through the real pipeline: crawl over loopback,
the real model, stories, the daily fit, the embedded index."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from config import DEMO_CONFIG
from config.loader import load_settings
from index.base import SearchRequest
from nlp.topic_daily import DailyFit
from nlp.topic_state import TopicState, load_state
from opinionwatch.clock import FixedClock
from opinionwatch.newsworld import NewsWorldServer, World, environment
from opinionwatch.newsworld.calendar import build_calendar, serve_until
from opinionwatch.pipeline import CycleReport, fit_topics, run_cycle
from opinionwatch.wiring import Services

START = date(2026, 11, 2)  # a Monday
DAYS = 7


@dataclass
class Run:
    world: World
    fits: list[DailyFit]
    states: list[TopicState]
    planted: dict[str, str]
    """Story id -> the planted theme of its items (the most common one)."""
    services: Services
    cycles: list[CycleReport]


@pytest.fixture(scope="module")
def calendar_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One crawl cycle and one topic fit per simulated day, each at the end of its day."""
    world = build_calendar(seed=11, start=START, days=DAYS)
    by_url: dict[str, str] = {}
    with NewsWorldServer(world) as server:
        settings = load_settings(
            DEMO_CONFIG,
            environ={**os.environ, **environment(server)},
            data_dir=tmp_path_factory.mktemp("cal"),
        )
        by_url = {server.url_of(article): article.topic for article in world.articles}
        fits, states, cycles = [], [], []
        with Services(settings) as services:
            for offset in range(DAYS):
                day = START + timedelta(days=offset)
                services.clock = FixedClock(serve_until(world, day))
                cycles.append(run_cycle(services))
                fits.append(fit_topics(services, day))
                states.append(load_state(services.topics_dir))
            rows = services.stories.db.execute("SELECT story_id, url FROM story_items").fetchall()
            themes: dict[str, Counter[str]] = {}
            for story_id, url in rows:
                themes.setdefault(story_id, Counter())[by_url.get(url, "")] += 1
            planted = {story: counts.most_common(1)[0][0] for story, counts in themes.items()}
            yield Run(world, fits, states, planted, services, cycles)


def holder(state: TopicState, planted: dict[str, str], theme: str) -> int | None:
    """The active topic holding most of ``theme``'s stories."""
    counts = Counter(t.id for t in state.active() for s in t.stories if planted.get(s) == theme)
    return counts.most_common(1)[0][0] if counts else None


def test_every_day_is_fitted_and_items_are_placed(calendar_run: Run) -> None:
    assert [fit.day for fit in calendar_run.fits] == [START + timedelta(days=n) for n in range(DAYS)]
    last = calendar_run.fits[-1]
    assert last.topics >= 8 and last.stories >= 200
    assert last.outliers <= last.outliers_before


def test_a_recurring_topic_keeps_its_id(calendar_run: Run) -> None:
    ids = [holder(state, calendar_run.planted, "ev-batteries") for state in calendar_run.states[2:]]
    assert ids[0] is not None and len(set(ids)) == 1, ids
    rates = [holder(state, calendar_run.planted, "central-bank") for state in calendar_run.states[2:]]
    assert len(set(rates)) == 1, rates


def test_the_burst_is_a_new_topic_that_becomes_a_strong_signal(calendar_run: Run) -> None:
    state, last = calendar_run.states[-1], calendar_run.fits[-1].day
    burst = holder(state, calendar_run.planted, "solar-tariff")
    assert burst is not None
    topic = state.topics[burst]
    assert topic.born >= last - timedelta(days=1), topic.born
    assert topic.signals[last].signal == "strong" and topic.signals[last].trend == "new"
    assert "solar" in topic.keywords["en"][:5]
    assert any(e.kind == "new" and burst in e.children for e in state.lineage)
    earlier = calendar_run.states[-3]
    assert holder(earlier, calendar_run.planted, "solar-tariff") is None  # nothing of it two days before


def test_the_planted_split_appears_in_lineage(calendar_run: Run) -> None:
    state = calendar_run.states[-1]
    children = {holder(state, calendar_run.planted, theme) for theme in ("ai-copyright", "ai-safety")}
    assert None not in children and len(children) == 2
    splits = [e for e in state.lineage if e.kind == "split"]
    assert any(children & set(e.children) for e in splits), splits


def test_the_planted_merge_appears_in_lineage_on_its_day(calendar_run: Run) -> None:
    """Wheat exports and fertiliser prices converge into a food crisis: the topics that held the two
    threads before that day's fit are the parents of a merge, and the topic holding the food crisis after
    it is the child (it may keep a parent's id)."""
    merge = calendar_run.world.calendar["merge"]
    day = date.fromisoformat(merge["day"])
    before, after = calendar_run.states[(day - START).days - 1], calendar_run.states[(day - START).days]
    parents = {holder(before, calendar_run.planted, theme) for theme in merge["parents"]}
    child = holder(after, calendar_run.planted, merge["child"])
    assert None not in parents and len(parents) == 2 and child is not None
    merges = [e for e in after.lineage if e.kind == "merge" and e.day == day]
    assert any(parents <= set(e.parents) and child in e.children for e in merges), (parents, child, merges)


def test_chinese_keywords_are_segmented_words(calendar_run: Run) -> None:
    state = calendar_run.states[-1]
    property_topic = state.topics[holder(state, calendar_run.planted, "zh-property")]  # type: ignore[index]
    words = property_topic.keywords["zh"]
    assert len(words) >= 5 and all(2 <= len(word) <= 4 for word in words), words
    assert {"房地产", "楼市", "住房", "房贷", "二手房", "首付"} & set(words), words


def test_topic_filter_and_facet_on_the_embedded_index(calendar_run: Run) -> None:
    state, index = calendar_run.states[-1], calendar_run.services.index
    ev = holder(state, calendar_run.planted, "ev-batteries")
    found = index.search(SearchRequest(query=f"topic:{ev}", limit=200, facets=("topic_id",)))
    assert found.total >= 10
    themes = Counter(calendar_run.planted.get(str(hit.doc["story_id"])) for hit in found.hits)
    assert themes.most_common(1)[0][0] == "ev-batteries"
    assert all(hit.doc["topic_label"] == state.topics[ev].label for hit in found.hits)  # type: ignore[index]
    both = index.search(SearchRequest(query=f"battery AND topic:{ev}", limit=1, facets=("topic_id",)))
    assert 0 < both.total <= found.total
    facet = dict(index.search(SearchRequest(limit=1, facets=("topic_id",))).facets["topic_id"])
    assert facet[str(ev)] == found.total


def test_the_calendar_shows_in_what_is_collected(calendar_run: Run) -> None:
    """The broken source fails from its day on; the quiet one has nothing new at weekends; Monday is busy."""
    truth = calendar_run.world.calendar
    broke = date.fromisoformat(truth["source_breaks"]["day"])
    for offset, cycle in enumerate(calendar_run.cycles):
        day = START + timedelta(days=offset)
        reports = {report.source: report for report in cycle.sources}
        assert reports["coastal-courier"].listing_ok is (day < broke), (day, reports["coastal-courier"])
        if day.weekday() >= 5:
            assert reports["metro-ledger"].listing_ok and reports["metro-ledger"].new == 0
    collected = [cycle.collected for cycle in calendar_run.cycles]
    assert truth["busy_mondays"] == [START.isoformat()]
    assert collected[0] > max(collected[1:5]), collected


def test_the_topics_commands(calendar_run: Run, tmp_path: Path) -> None:
    """``topics``, ``topics show`` and a second ``topics fit`` of the same day, which changes no id."""
    from typer.testing import CliRunner

    from opinionwatch.cli import app
    from tests.conftest import write_demo_config

    config = str(write_demo_config(tmp_path, calendar_run.services.settings.data_dir))
    runner, last = CliRunner(), calendar_run.fits[-1].day
    listed = runner.invoke(app, ["topics", "--json", "--config", config])
    assert listed.exit_code == 0, listed.output
    payload = json.loads(listed.output)
    rows = payload["topics"]
    assert (
        payload["fit"]["stories"] == calendar_run.fits[-1].stories and 0 <= payload["fit"]["outliers"] <= 0.2
    )
    burst = holder(calendar_run.states[-1], calendar_run.planted, "solar-tariff")
    row = next(row for row in rows if row["id"] == burst)
    assert row["window_stories"] >= row["stories"] > 0
    assert row["signal"] == "strong" and row["trend"] == "new" and row["items"] > 0 and row["sources"] >= 2
    state = calendar_run.states[-1]
    born = next(e.day for e in state.lineage if e.kind == "new" and burst in e.children)
    assert f"{born} new: {burst} {state.label_of(burst, born)}" in row["lineage"]  # by id and label
    shown = runner.invoke(app, ["topics", "show", str(burst), "--json", "--config", config])
    detail = json.loads(shown.output)
    assert detail["top_stories"] and detail["days"][-1]["date"] == last.isoformat()
    before = load_state(calendar_run.services.topics_dir).story_topics()
    again = runner.invoke(app, ["topics", "fit", "--date", last.isoformat(), "--config", config])
    assert again.exit_code == 0, again.output
    assert load_state(calendar_run.services.topics_dir).story_topics() == before
    earlier = runner.invoke(app, ["topics", "fit", "--date", START.isoformat(), "--config", config])
    assert earlier.exit_code == 1 and "rewrite history" in earlier.output
    searched = runner.invoke(
        app, ["search", "", "--topic", str(burst), "--json", "--limit", "50", "--config", config]
    )
    found = json.loads(searched.output)
    assert found["hits"] and {hit["topic_id"] for hit in found["hits"]} == {str(burst)}
    assert dict(found["facets"]["topic_id"]) == {str(burst): found["total"]}
    missing = runner.invoke(app, ["topics", "show", "999", "--config", config])
    assert missing.exit_code == 1 and "no topic 999" in missing.output


def test_the_planted_negative_turn_shows_in_sentiment_toward_novamart(calendar_run: Run) -> None:
    """NovaMart's coverage turns negative on a known day: its items before are not negative toward it,
    most of its items from then on are, and they carry risk."""
    turn = date.fromisoformat(calendar_run.world.calendar["negative_turn"]["day"])
    index = calendar_run.services.index
    found = index.search(SearchRequest(query="watchlist:novamart", limit=1000, sort="date"))
    before, after = Counter[str](), Counter[str]()
    risky_after = 0
    for hit in found.hits:
        if calendar_run.planted.get(str(hit.doc["story_id"])) != "novamart":
            continue
        toward = {e["entity"]: e["label"] for e in hit.doc["entity_sentiments"]}  # type: ignore[union-attr]
        late = date.fromisoformat(str(hit.doc["published"])[:10]) >= turn
        (after if late else before)[toward.get("NovaMart", "none")] += 1
        risky_after += late and hit.doc["risk"] != "none"
    assert sum(before.values()) >= 5 and sum(after.values()) >= 5, (before, after)
    assert before["negative"] <= 0.1 * sum(before.values()), before
    assert after["negative"] >= 0.6 * sum(after.values()), after
    assert risky_after >= 0.5 * sum(after.values())


def test_each_topic_counts_its_items_by_sentiment_each_day(calendar_run: Run) -> None:
    """Every item of a topic's day has a sentiment label, and NovaMart's negative turn shows in its topics'
    figures by day."""
    state = calendar_run.states[-1]
    for topic in state.active():
        for day, figures in topic.days.items():
            assert sum(figures.sentiment.values()) == figures.items, (topic.id, day, figures)
    turn = date.fromisoformat(calendar_run.world.calendar["negative_turn"]["day"])
    holders = {t.id for t in state.active() for s in t.stories if calendar_run.planted.get(s) == "novamart"}
    late = [f for t in holders for day, f in state.topics[t].days.items() if day >= turn]
    negative = sum(f.sentiment.get("negative", 0) for f in late)
    assert late and negative >= 0.5 * sum(f.items for f in late), late
