"""One suite over every index backend: the same calls must give the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from index.base import Index, IndexDoc, IndexError_, SearchRequest, risk_at_least
from index.embedded import EmbeddedIndex
from index.fusion import hybrid_search, search_stories, tied_ranks
from tests.conftest import fresh_elasticsearch_index

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def doc(key: str, title: str, body: str, days: int = 0, **fields: object) -> IndexDoc:
    values: dict[str, object] = {
        "id": key,
        "url": f"http://e.com/{key}",
        "source": "harbor",
        "domain": "e.com",
        "kind": "article",
        "title": title,
        "body": body,
        "published": T0 + timedelta(days=days),
        "language": "en",
        "watchlists": (),
        "story_id": key,
        "vector": None,
    }
    values.update(fields)
    return IndexDoc(**values)  # type: ignore[arg-type]


DOCS = [
    doc(
        "a",
        "NovaMart recalls power banks",
        "NovaMart said it would recall 120,000 power banks after fires.",
        watchlists=("novamart", "product_safety"),
        vector=np.array([1, 0, 0], dtype=np.float32),
    ),
    doc(
        "b",
        "苹果公司下调应用商店佣金",
        "苹果公司宣布下调佣金。诺瓦商城表示欢迎。",
        days=1,
        source="huaxia",
        language="zh",
        watchlists=("apple",),
        vector=np.array([0, 1, 0], dtype=np.float32),
    ),
    doc(
        "c",
        "Cider makers celebrate apple harvest",
        "Orchards had a bumper apple harvest.",
        days=2,
        source="coastal",
        vector=np.array([0, 0, 1], dtype=np.float32),
    ),
    doc(
        "d",
        "Regulators probe NovaMart",
        "Counterfeit listings found on the NovaMart platform.",
        days=3,
        watchlists=("novamart",),
        story_id="a",
        vector=np.array([0.9, 0.1, 0], dtype=np.float32),
    ),
]


@pytest.fixture(params=["embedded", "elasticsearch"])
def empty_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Index]:
    """Each test runs once per backend, as one suite over every store."""
    if request.param == "embedded":
        store: Index = EmbeddedIndex(tmp_path / "index")
        yield store
        store.close()
    else:
        url = request.getfixturevalue("elasticsearch_url")
        with fresh_elasticsearch_index(url, tmp_path) as elastic:
            yield elastic


@pytest.fixture
def index(empty_index: Index) -> Index:
    empty_index.upsert(DOCS)
    return empty_index


def ids(index: Index, **request: object) -> list[str]:
    return [hit.id for hit in index.search(SearchRequest(**request)).hits]  # type: ignore[arg-type]


def test_upsert_is_idempotent(index: Index) -> None:
    index.upsert(DOCS)
    index.upsert([doc("a", "NovaMart recalls power banks (updated)", "new body")])
    assert index.count() == 4
    assert index.search(SearchRequest(query="updated")).hits[0].id == "a"
    assert ids(index, query="fires") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("novamart", {"a", "d"}),
        ('"power banks"', {"a"}),
        ("novamart AND NOT recall", {"d"}),
        ("title:novamart AND counterfeit", {"d"}),
        ("苹果", {"b"}),
        ("诺瓦商城", {"b"}),
        ("apple OR 苹果", {"b", "c"}),
        ("NovaMart NEAR/4 recall", {"a"}),
        ("watchlist:novamart", {"a", "d"}),
        ("source:huaxia", {"b"}),
        ("-novamart", {"b", "c"}),
    ],
)
def test_boolean_phrase_field_and_chinese_queries(
    index: EmbeddedIndex, query: str, expected: set[str]
) -> None:
    assert set(ids(index, query=query, limit=10)) == expected


def test_filters_sort_and_pagination(index: Index) -> None:
    assert ids(index, sort="date") == ["d", "c", "b", "a"]
    assert ids(index, sort="date", limit=2, offset=2) == ["b", "a"]
    assert ids(index, since=T0 + timedelta(days=1), until=T0 + timedelta(days=3), sort="date") == ["c", "b"]
    assert ids(index, languages=("zh",)) == ["b"]
    assert set(ids(index, sources=("harbor", "coastal"))) == {"a", "c", "d"}
    assert set(ids(index, watchlists=("product_safety", "apple"))) == {"a", "b"}
    assert index.search(SearchRequest(query="novamart", limit=1)).total == 2


def test_facets_histogram_and_highlights(index: Index) -> None:
    result = index.search(SearchRequest(facets=("source", "watchlists"), date_histogram="1d"))
    assert dict(result.facets["source"]) == {"harbor": 2, "huaxia": 1, "coastal": 1}
    assert dict(result.facets["watchlists"]) == {"novamart": 2, "product_safety": 1, "apple": 1}
    assert [count for _, count in result.histogram] == [1, 1, 1, 1]
    hit = index.search(SearchRequest(query='"power banks" OR <script>')).hits[0]
    assert hit.highlights["title"] == ["NovaMart recalls <mark>power banks</mark>"]
    zh = index.search(SearchRequest(query="诺瓦商城")).hits[0]
    assert "<mark>诺瓦商城</mark>" in zh.highlights["body"][0]
    with pytest.raises(IndexError_, match="cannot facet"):
        index.search(SearchRequest(facets=("body",)))


def test_collapse_gives_one_hit_per_story_and_pages_by_story(index: Index) -> None:
    index.upsert([doc("e", "NovaMart fined", "A fine for NovaMart.", days=4, story_id="a")])
    found = index.search(SearchRequest(sort="date", collapse="story_id", limit=2))
    assert [hit.id for hit in found.hits] == ["e", "c"]  # "d" is story a's too, under "e"
    assert found.total == 5
    assert ids(index, sort="date", collapse="story_id", limit=2, offset=1) == ["c", "b"]
    assert ids(index, sort="date", collapse="story_id", offset=3) == []
    relevant = index.search(SearchRequest(query="novamart OR cider", collapse="story_id"))
    assert sorted(str(hit.doc["story_id"]) for hit in relevant.hits) == ["a", "c"]
    assert relevant.total == 4 and all(hit.highlights for hit in relevant.hits)
    with pytest.raises(IndexError_, match="cannot collapse"):
        index.search(SearchRequest(collapse="watchlists"))
    with pytest.raises(IndexError_, match="not with a vector"):
        index.search(SearchRequest(collapse="story_id", vector=np.ones(3, dtype=np.float32)))


def test_only_the_items_that_started_their_stories_count_new_stories(index: Index) -> None:
    """``d`` is a reprint in story ``a``: three stories, counted by the day in one aggregation."""
    assert ids(index, first_of_story=True, sort="date") == ["c", "b", "a"]
    result = index.search(
        SearchRequest(first_of_story=True, watchlists=("novamart",), limit=0, date_histogram="1d")
    )
    assert result.total == 1 and [count for _, count in result.histogram] == [1]
    assert index.search(SearchRequest(watchlists=("novamart",), limit=0)).total == 2  # its reprint too


def test_collapse_reads_past_a_story_with_many_reprints(empty_index: Index) -> None:
    wire = [
        doc(f"r{n}", "Port strike spreads", "Port strike spreads", days=5, story_id="r") for n in range(9)
    ]
    empty_index.upsert([*wire, doc("s", "Port strike talks", "Talks on the port strike", story_id="s")])
    found = empty_index.search(SearchRequest(query="port strike", collapse="story_id", limit=2))
    assert [str(hit.doc["story_id"]) for hit in found.hits] == ["r", "s"] and found.total == 10


def test_date_histogram_split_by_a_facet_in_one_search(index: Index) -> None:
    index.upsert([doc("e", "NovaMart fined", "A fine for NovaMart.", days=3, sentiment="negative")])
    index.upsert([doc("f", "NovaMart sued", "A suit.", days=1, sentiment="negative")])
    request = SearchRequest(date_histogram="1d", histogram_split="sentiment", facets=("sentiment",))
    result = index.search(request)
    split = {
        label: [(moment.date().isoformat(), count) for moment, count in days]
        for label, days in result.split_histograms.items()
    }
    assert split == {
        "neutral": [("2026-11-20", 1), ("2026-11-21", 1), ("2026-11-22", 1), ("2026-11-23", 1)],
        "negative": [("2026-11-21", 1), ("2026-11-23", 1)],  # the empty day between is left out
    }
    assert result.histogram == []
    assert dict(result.facets["sentiment"]) == {"neutral": 4, "negative": 2}
    assert index.search(SearchRequest(date_histogram="1d")).split_histograms == {}
    with pytest.raises(IndexError_, match="cannot facet"):
        index.search(SearchRequest(date_histogram="1d", histogram_split="body"))


def test_highlights_are_html_escaped(empty_index: Index) -> None:
    store = empty_index
    store.upsert([doc("x", "<script>alert(1)</script> NovaMart", "a < b & NovaMart")])
    hit = store.search(SearchRequest(query="novamart")).hits[0]
    assert hit.highlights["title"] == ["&lt;script&gt;alert(1)&lt;/script&gt; <mark>NovaMart</mark>"]
    assert hit.highlights["body"] == ["a &lt; b &amp; <mark>NovaMart</mark>"]


def test_knn_with_and_without_filters(index: Index) -> None:
    assert ids(index, vector=np.array([1, 0.05, 0]), limit=2) == ["a", "d"]
    assert ids(index, vector=np.array([1, 0.05, 0]), limit=2, languages=("zh",)) == ["b"]
    assert ids(index, vector=np.array([0, 0, 1]), limit=1, query="apple") == ["c"]


def test_hybrid_search_fuses_text_and_vectors(index: Index) -> None:
    fused = hybrid_search(
        index, SearchRequest(query="NovaMart", limit=3), np.array([0, 0, 1], dtype=np.float32)
    )
    ranked = [hit.id for hit in fused]
    assert set(ranked[:2]) == {"a", "d"}  # found by both rankings
    assert ranked[2] == "c"  # the nearest vector, though no text match
    assert fused[0].score >= fused[-1].score
    only_zh = hybrid_search(index, SearchRequest(query="NovaMart", languages=("zh",)), np.array([1, 0, 0]))
    assert [hit.id for hit in only_zh] == ["b"]  # filters apply to both rankings


@pytest.mark.parametrize("original", ["a-original", "z-original"])
def test_hybrid_order_does_not_hang_on_how_ties_are_broken(empty_index: Index, original: str) -> None:
    """Two exact reprints tie in both rankings; the other article leads the text ranking and trails the
    vector one. The reprints must come first whatever the ids (ties share a rank in the fusion)."""
    reprint = {"title": "Shoppers complain about delayed refunds", "body": "NovaMart refunds are late."}
    empty_index.upsert(
        [
            doc(original, "NovaMart refunds criticised", "NovaMart refunds refunds.", vector=np.array([0.8, 0.6, 0])),
            *(doc(key, reprint["title"], reprint["body"], story_id="m", vector=np.array([1.0, 0, 0]))
              for key in ("m-first", "n-second")),
        ]
    )  # fmt: skip
    fused = hybrid_search(empty_index, SearchRequest(query="refunds", limit=3), np.array([1.0, 0, 0]))
    assert [hit.id for hit in fused][2] == original
    assert tied_ranks([3.0, 2.0, 2.0, 1.0]) == [1, 2, 2, 4]


def test_results_collapse_by_story(index: Index) -> None:
    stories = search_stories(index, SearchRequest(query="novamart", sort="date"))
    assert [(s.hit.id, s.matching_items) for s in stories] == [("d", 2)]  # a and d are one story
    every = search_stories(index, SearchRequest(sort="date", limit=10))
    assert [s.matching_items for s in every] == [2, 1, 1]


def test_topics_filter_facet_and_are_retagged_after_a_fit(index: Index) -> None:
    from index.base import TopicTags

    index.upsert([replace(DOCS[0], topic_id="4", topic_label="recall, power, banks")])
    assert index.search(SearchRequest(query="topic:4")).total == 1
    tags = TopicTags(
        T0 - timedelta(days=1), T0 + timedelta(days=3), {"a": ("7", "recall, fires"), "b": ("9", "佣金")}
    )
    assert index.set_topics(tags) == 2  # a (changed) and b (had none); c has no topic and keeps none
    assert index.set_topics(tags) == 0  # nothing left to change
    found = index.search(SearchRequest(query="topic:7", facets=("topic_id",)))
    assert [hit.id for hit in found.hits] == ["a"] and found.hits[0].doc["topic_label"] == "recall, fires"
    assert index.search(SearchRequest(query="topic:4")).total == 0
    assert index.search(SearchRequest(query="topic:7 OR topic:9")).total == 2
    outside = index.search(SearchRequest(query="story:a", topics=("7",)))
    assert [hit.id for hit in outside.hits] == ["a"]  # d, also of story a, lies after the window: untouched
    facets = dict(index.search(SearchRequest(facets=("topic_id",))).facets["topic_id"])
    assert facets["7"] == 1 and facets["9"] == 1
    assert index.search(SearchRequest(query="NovaMart AND -topic:7")).total == 1  # d


def test_sentiment_and_risk_query_filter_facet_and_sort(empty_index: Index) -> None:
    toward = (
        {
            "watchlist": "novamart",
            "entity": "NovaMart",
            "label": "negative",
            "confidence": 0.9,
            "passages": 2,
        },
    )
    empty_index.upsert(
        [
            replace(DOCS[0], sentiment="negative", entity_sentiments=toward, risk="high", risk_points=6,
                    risk_reasons=("`recall` in the title", "negative toward NovaMart (0.90)")),
            replace(DOCS[1], sentiment="positive", risk="none"),
            replace(DOCS[2], sentiment="neutral", risk="low", risk_points=1),
            replace(DOCS[3], sentiment="negative", risk="critical", risk_points=8),
        ]
    )  # fmt: skip
    assert ids(empty_index, query="sentiment:negative", sort="date") == ["d", "a"]
    assert ids(empty_index, query="risk:high") == ["a"]
    assert ids(empty_index, query="toward:NovaMart:negative") == ["a"]
    assert ids(empty_index, query="toward:novamart:negative") == ["a"]
    assert ids(empty_index, sort="risk") == ["d", "a", "c", "b"]
    assert ids(empty_index, risks=risk_at_least("high"), sort="risk") == ["d", "a"]
    assert ids(empty_index, sentiments=("positive", "neutral"), sort="date") == ["c", "b"]
    found = empty_index.search(SearchRequest(query="NovaMart", facets=("sentiment", "risk")))
    assert dict(found.facets["sentiment"]) == {"negative": 2}
    assert dict(found.facets["risk"]) == {"high": 1, "critical": 1}
    hit = empty_index.search(SearchRequest(query="risk:high")).hits[0]
    assert hit.doc["risk_reasons"] == ["`recall` in the title", "negative toward NovaMart (0.90)"]
    assert hit.doc["entity_sentiments"] == [dict(toward[0])]
    with pytest.raises(ValueError, match="unknown risk level 'severe'"):
        risk_at_least("severe")
