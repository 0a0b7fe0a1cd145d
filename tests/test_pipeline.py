"""The cycle's hand-over rules, with the hashing embedder test double (the real model runs in test_end_to_end)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from config.settings import CrawlSettings, Settings, Source
from config.watchlist_settings import Entity, Watchlist
from crawlers.records import RawItem
from index.base import SearchRequest
from nlp.embed import HashingEmbedder
from nlp.records import Item
from nlp.sentiment_model import SentimentModel
from opinionwatch.newsworld import World
from opinionwatch.newsworld.render import article_page
from opinionwatch.pipeline import CycleReport, process_and_index, run_cycle
from opinionwatch.wiring import Services
from tests.conftest import fresh_elasticsearch_index


def settings(tmp_path: Path, broken_server: str, index: dict[str, object] | None = None) -> Settings:
    return Settings(
        index=index or {"backend": "embedded"},  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        watchlists=[Watchlist(name="novamart", entities=[Entity(name="NovaMart")])],
        sources=[Source(name="mixed", url=f"{broken_server}/mixed.xml")],
        crawl=CrawlSettings(allow_private=["127.0.0.1"], download_delay_s=0, time_budget_s=30),
    )


@pytest.fixture(params=["embedded", "elasticsearch"])
def index_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, object]]:
    if request.param == "embedded":
        yield {"backend": "embedded"}
        return
    url = request.getfixturevalue("elasticsearch_url")
    prefix = f"pipe-{uuid.uuid4().hex[:8]}"
    with fresh_elasticsearch_index(url, tmp_path, prefix):  # removes what the cycle creates
        yield {"backend": "elasticsearch", "url": url, "index_prefix": prefix, "replicas": 0}


def test_pages_that_failed_for_a_passing_reason_are_indexed_and_fetched_again(
    tmp_path: Path, broken_server: str, index_settings: dict[str, object]
) -> None:
    config = settings(tmp_path, broken_server, index_settings)
    with Services(config, embedder_override=HashingEmbedder()) as services:
        first = run_cycle(services)
        assert first.collected == 2 and first.indexed == 2
        assert first.sources[0].errors == {"http_503": 1}
        hits = services.index.search(SearchRequest(query="summary", limit=10)).hits
        assert [hit.doc["title"] for hit in hits] == ["flaky page"]  # indexed from the feed text meanwhile
        second = run_cycle(services)
        assert second.collected == 1 and second.sources[0].skipped == {"already_seen": 1}  # feed re-read
        # while a page still waits for its retry, the feed's validators are not kept: no 304 shortcut
        assert services.state.marks() == {}
        assert services.index.count() == 2
        assert set(
            services.index.search(SearchRequest(watchlists=("novamart",))).hits[0].doc["watchlists"]
        ) == {"novamart"}


def _raw_pages(world: World, count: int) -> list[RawItem]:
    fetched = datetime(2026, 11, 23, 6, tzinfo=UTC)
    raws = []
    for article in [a for a in world.articles if a.crawlable][:count]:
        site = world.site(article.site)
        html = article_page(world, site, article, "http://127.0.0.1:9")
        url = f"http://127.0.0.1:9/{article.id}"
        raws.append(RawItem(source=site.name, url=url, fetched_url=url, html=html, fetched_at=fetched))
    raws.append(
        RawItem(
            source="bad", url="http://127.0.0.1:9/bin", fetched_url="x", html="\x00" * 500, fetched_at=fetched
        )
    )
    return raws


def _stream(
    folder: Path, raws: list[RawItem], chunk: int, max_batch: int = 4096
) -> tuple[CycleReport, list[Item], list[str]]:
    config = Settings(
        data_dir=folder, watchlists=[Watchlist(name="novamart", entities=[Entity(name="NovaMart")])]
    )
    report, steps = CycleReport(), []
    with Services(config, embedder_override=HashingEmbedder()) as services:
        items = process_and_index(
            services, raws, report, lambda step, done, total: steps.append(step), chunk, max_batch
        )
        indexed = [item for item in items if "empty_text" not in item.problems]  # the binary page
        assert services.index.count() == len(indexed) == report.indexed == len(items) - 1
    return report, items, steps


def test_streamed_chunks_give_the_same_stories_as_one_batch(world: World, tmp_path: Path) -> None:
    raws = _raw_pages(world, 45)
    one, whole, _ = _stream(tmp_path / "one", raws, chunk=1000)
    many, streamed, steps = _stream(tmp_path / "many", raws, chunk=4, max_batch=4)
    _, batched, _ = _stream(tmp_path / "merged", raws, chunk=4, max_batch=16)
    assert [i.story_id for i in batched] == [i.story_id for i in streamed]
    assert [(i.url, i.story_id, i.story_level) for i in streamed] == [
        (i.url, i.story_id, i.story_level) for i in whole
    ]
    reprints = sum(1 for i in whole if i.story_level in ("exact", "near"))
    assert reprints >= 3  # the planted reprints joined
    for report in (one, many):  # ... and never reached the encoder, in one batch or in many
        assert report.indexed - report.sent_to_encoder == reprints
    assert (
        many.new_stories == one.new_stories and many.processed == one.processed == 46
    )  # the binary page too, flagged
    assert many.problems == one.problems and many.problems["binary_content"] == 1
    assert steps.count("embed") == 12 and steps[-1] == "index"
    assert many.seconds["wall"] > 0 and {"process", "embed", "stories", "index"} <= set(many.seconds)


def test_the_order_the_crawl_delivers_pages_in_changes_no_story(world: World, tmp_path: Path) -> None:
    """Items meet the story store in publication order: an original comes before its reprints whichever
    page the network finished first, so the same pages always give the same stories (and topics)."""
    raws = _raw_pages(world, 45)
    _, forward, _ = _stream(tmp_path / "forward", raws, chunk=1000)
    _, backward, _ = _stream(tmp_path / "backward", raws[::-1], chunk=1000)
    stories = {i.url: (i.story_id, i.story_level) for i in forward}
    assert {i.url: (i.story_id, i.story_level) for i in backward} == stories
    assert sum(1 for story, level in stories.values() if level in ("exact", "near")) >= 3


class _FailingIndex:
    """Index double: the second upsert fails, as a full disk or a refused bulk request would."""

    def __init__(self) -> None:
        self.calls = 0

    def upsert(self, docs: list[object]) -> None:
        self.calls += 1
        if self.calls == 2:
            raise OSError("disk full")

    def close(self) -> None:
        return


def test_an_index_failure_in_the_store_thread_stops_the_stream(world: World, tmp_path: Path) -> None:
    config = Settings(data_dir=tmp_path)
    with Services(config, embedder_override=HashingEmbedder()) as services:
        failing = _FailingIndex()
        services.__dict__["index"] = failing
        with pytest.raises(OSError, match="disk full"):
            process_and_index(
                services, _raw_pages(world, 40), CycleReport(), lambda *a: None, chunk=4, max_batch=4
            )
        assert failing.calls == 2  # nothing indexed after the failure


class FailingOnOneText(SentimentModel):
    """The shipped model, failing on any call that includes a text with ``marker``."""

    marker = ""

    def text_log_probs(self, texts: list[str], language: str) -> np.ndarray:
        if any(self.marker in text for text in texts):
            raise ValueError("a text the model cannot read")
        return super().text_log_probs(texts, language)


def test_a_text_the_sentiment_model_fails_on_costs_only_its_own_judgement(
    world: World, tmp_path: Path
) -> None:
    raws = _raw_pages(world, 12)
    shipped = SentimentModel.load()
    failing = FailingOnOneText(shipped.meta, shipped.heads)
    failing.marker = next(a.title for a in world.articles if a.crawlable and a.id == "harbor-daily/0001")
    config = Settings(
        data_dir=tmp_path, watchlists=[Watchlist(name="novamart", entities=[Entity(name="NovaMart")])]
    )
    report = CycleReport()
    with Services(config, embedder_override=HashingEmbedder()) as services:
        services.__dict__["sentiment_model"] = failing  # the test double in place of the loaded model
        items = process_and_index(services, raws, report, lambda step, done, total: None)
        assert services.index.count() == report.indexed == len(items) - 1  # all but the binary page
    failed = [item for item in items if "sentiment_failed" in item.problems]
    poisoned = [item for item in items if failing.marker in item.title]  # the original and its exact reprint
    assert len(poisoned) == 2 and [i.id for i in failed] == [i.id for i in poisoned]
    assert report.problems["sentiment_failed"] == 2
    judged = [i for i in items if i.id not in {f.id for f in failed} and "empty_text" not in i.problems]
    assert all(item.sentiment.confidence > 0 for item in judged)
    assert report.seconds["sentiment_read"] > 0 and report.seconds["sentiment"] > 0
