"""Elasticsearch specifics against the real node: monthly indices, dead letters, and a node killed mid-bulk."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from index.base import SearchRequest
from index.elastic import ElasticsearchIndex
from tests.conftest import ES_SCRIPT, fresh_elasticsearch_index
from tests.test_index import T0, doc, ids


@pytest.fixture
def elastic(elasticsearch_url: str, tmp_path: Path) -> Iterator[ElasticsearchIndex]:
    with fresh_elasticsearch_index(elasticsearch_url, tmp_path) as index:
        yield index


def vec(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def test_monthly_indices_behind_one_alias_and_stable_placement(elastic: ElasticsearchIndex) -> None:
    elastic.upsert(
        [
            doc("nov", "November story", "text", vector=vec(1, 0, 0)),
            doc("oct", "October story", "text", days=-30, vector=vec(0, 1, 0)),
        ]
    )
    indices = elastic.status()["indices"]
    assert set(indices) == {f"{elastic.alias}-2026.11", f"{elastic.alias}-2026.10"}
    moved = doc("nov", "November story, corrected date", "text", days=-25, vector=vec(1, 0, 0))
    elastic.upsert([moved])  # same _id: stays in the index it is in, never duplicated
    assert elastic.count() == 2
    assert elastic.status()["indices"][f"{elastic.alias}-2026.11"] == 1


def test_rejected_documents_go_to_dead_letters_and_can_be_retried(elastic: ElasticsearchIndex) -> None:
    elastic.upsert([doc("good", "fine", "text", vector=vec(1, 0, 0))])
    elastic.upsert([doc("bad", "wrong vector size", "text", vector=vec(1, 0, 0, 0))])
    letters = elastic.dead_letters()
    assert [letter[0] for letter in letters] == ["bad"] and "more dimensions" in letters[0][1]
    assert elastic.status()["dead_letters"] == 1 and elastic.count() == 1
    assert elastic.retry() == {"indexed": 0, "dead": 1, "pending": 0}


@pytest.mark.skipif(bool(os.environ.get("OPINIONWATCH_ES_URL")), reason="restarts the node the tests started")
def test_node_killed_mid_bulk_loses_nothing_and_duplicates_nothing(elastic: ElasticsearchIndex) -> None:
    batches, size = 12, 200
    for batch in range(batches):
        if batch == 3:  # kill -9 while this batch's bulk request is in flight
            threading.Timer(
                0.05, subprocess.run, args=([str(ES_SCRIPT), "kill"],), kwargs={"check": True}
            ).start()
        vectors = [vec(1, batch, i) for i in range(size)]
        elastic.upsert(
            [
                doc(f"{batch}-{i}", f"title {batch}", "body " * 50, days=-(i % 40), vector=vectors[i])
                for i in range(size)
            ]
        )
    status = elastic.status()
    assert status["reachable"] is False and status["outbox"] > 0
    subprocess.run([str(ES_SCRIPT), "start"], check=True, capture_output=True, timeout=300)
    assert elastic.flush()["pending"] == 0
    assert elastic.count() == batches * size
    assert sum(elastic.status()["indices"].values()) == batches * size  # no _id in two indices
    assert elastic.search(SearchRequest(query="title", since=T0 - timedelta(days=5), limit=1)).total > 0


def test_deep_pages_walk_past_the_result_window(elastic: ElasticsearchIndex) -> None:
    from tests.test_index import DOCS

    elastic.upsert(DOCS)
    elastic.max_window = 2  # as if 10,000 were 2: pages beyond it use a point in time and search_after
    pages = [elastic.search(SearchRequest(sort="date", limit=1, offset=n)).hits[0].id for n in range(4)]
    assert pages == ["d", "c", "b", "a"]
    assert [h.id for h in elastic.search(SearchRequest(query="novamart", limit=1, offset=2)).hits] == []
    assert [h.id for h in elastic.search(SearchRequest(sort="date", limit=2, offset=2)).hits] == ["b", "a"]


def test_documents_indexed_before_first_of_story_existed_are_marked(
    elastic: ElasticsearchIndex, tmp_path: Path
) -> None:
    """An index written by an earlier version (no ``first_of_story`` in its template or documents) is
    brought up to date by the next write: its documents are marked from the story ids they store, so that
    their days do not count zero new stories."""
    from tests.test_index import DOCS

    elastic.upsert(DOCS)
    found = elastic.client.indices.get_index_template(name=elastic.alias)["index_templates"][0]
    template = found["index_template"]
    del template["template"]["mappings"]["properties"]["first_of_story"]
    wanted = ("index_patterns", "template")
    elastic.client.indices.put_index_template(name=elastic.alias, **{k: template[k] for k in wanted})
    for hit in list(
        elastic._walk({"match_all": {}}, include=[])
    ):  # the documents as the earlier version wrote them
        source = elastic.client.get(index=hit["_index"], id=hit["_id"])["_source"]
        del source["first_of_story"]
        elastic.client.index(index=hit["_index"], id=hit["_id"], document=source, refresh=True)
    assert elastic.search(SearchRequest(first_of_story=True, limit=0)).total == 0  # what the rules would see
    upgraded = ElasticsearchIndex(elastic.settings, tmp_path / "upgraded")
    upgraded.upsert([doc("e", "NovaMart fined", "A fine for NovaMart.", days=4, story_id="a")])
    assert sorted(ids(upgraded, first_of_story=True, limit=10)) == ["a", "b", "c"]  # d and e are reprints
    upgraded.close()


def test_reading_deep_pages_in_turn_goes_on_from_the_last_one(elastic: ElasticsearchIndex) -> None:
    """Page after page of one search continue one walk (one snapshot); another search, or a jump,
    starts its own."""
    from tests.test_index import DOCS

    elastic.upsert(DOCS)
    request = SearchRequest(sort="date", limit=1)
    matching = [h.id for h in elastic.search(replace(request, query="novamart", limit=10)).hits]
    elastic.max_window = 1
    opened = elastic.pages.opened
    in_turn = [elastic.search(replace(request, offset=n)).hits for n in range(1, 5)]
    assert [h.id for hits in in_turn for h in hits] == ["c", "b", "a"]  # and nothing past the end
    assert elastic.pages.opened - opened == 1
    assert [h.id for h in elastic.search(replace(request, offset=1)).hits] == ["c"]  # back: a new walk
    other = [h.id for h in elastic.search(replace(request, query="novamart", offset=1)).hits]
    assert len(matching) >= 2 and other == matching[1:2]
    assert elastic.pages.opened - opened == 3
