"""The cycle's hand-over rules, with the hashing embedder test double (the real model runs in test_end_to_end)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import CrawlSettings, Entity, Settings, Source, Watchlist
from index.base import SearchRequest
from nlp.embed import HashingEmbedder
from opinionwatch.pipeline import run_cycle
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
