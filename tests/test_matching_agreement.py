"""Watchlists and search apply one matching rule: the same queries, evaluated by the watchlist matcher's
evaluator (``nlp.query.matches``) and by each index backend over the news world's articles and its
real-page cases, give the same items. Fixed queries, then seeded random ones (a property test)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.base import Index, IndexDoc, SearchRequest
from index.embedded import EmbeddedIndex
from nlp.query import matches, parse
from opinionwatch.newsworld.cases import cases
from opinionwatch.newsworld.generator import World
from tests.conftest import fresh_elasticsearch_index

FIXED = [
    "5G",
    "iPhone",
    "iPhone -(苹果 OR 手机)",
    '"power banks" OR 充电宝',
    "NovaMart -recall",
    'NovaMart -"power banks"',
    "title:诺瓦商城 AND body:召回",
    "(recall OR 召回) AND NOT (software OR 软件)",
    "苹果 -水果",
    "NovaMart NEAR/5 fine",
    "华为",
    "Trump OR 特朗普",
]


def corpus(world: World) -> list[IndexDoc]:
    texts = [(a.id, a.title, "\n".join(a.paragraphs)) for a in world.articles]
    texts += [(f"case/{c.name}", c.title, "\n".join(c.paragraphs)) for c in cases(world.today)]
    when = datetime(2026, 11, 20, tzinfo=UTC)
    return [
        IndexDoc(
            id=key,
            url=f"http://e.example/{key}",
            source="s",
            domain="e.example",
            kind="article",
            title=title,
            body=body,
            published=when,
            language="en",
            watchlists=(),
            story_id=key,
        )
        for key, title, body in texts
    ]


@pytest.fixture(params=["embedded", "elasticsearch"])
def loaded(
    request: pytest.FixtureRequest, tmp_path: Path, world: World
) -> Iterator[tuple[Index, list[IndexDoc]]]:
    docs = corpus(world)
    if request.param == "embedded":
        store: Index = EmbeddedIndex(tmp_path / "index")
        store.upsert(docs)
        yield store, docs
        store.close()
    else:
        with fresh_elasticsearch_index(request.getfixturevalue("elasticsearch_url"), tmp_path) as elastic:
            elastic.upsert(docs)
            yield elastic, docs


def random_queries(docs: list[IndexDoc], n: int, seed: int) -> list[str]:
    """Queries over words the corpus has: Latin words, Han pairs, phrases, NOT and -, groups, fields."""
    rng = random.Random(seed)
    operators = {"and", "or", "not", "near"}
    text = " ".join(d.title + " " + d.body for d in docs)
    words = sorted({w for w in text.split() if w.isascii() and w.isalpha() and w.lower() not in operators})
    han = sorted({pair for d in docs for pair in zip(d.title, d.title[1:], strict=False)})
    han = ["".join(pair) for pair in han if all("\u4e00" <= ch <= "\u9fff" for ch in pair)]

    def atom(depth: int) -> str:
        roll = rng.random()
        if depth < 2 and roll < 0.2:
            return f"({query(depth + 1)})"
        if roll < 0.3:
            return f'"{" ".join(rng.sample(words, 2))}"'
        if roll < 0.4:
            return f"{rng.choice(['title', 'body'])}:{rng.choice(words)}"
        return rng.choice(han) if roll < 0.6 else rng.choice(words)

    def query(depth: int = 0) -> str:
        parts = [atom(depth) for _ in range(rng.randint(1, 3))]
        joined = parts[0]
        for part in parts[1:]:
            joined += rng.choice([" ", " AND ", " OR ", " -", " AND NOT "]) + part
        return joined

    return [query() for _ in range(n)]


def found_by_search(index: Index, query: str) -> set[str]:
    return {hit.id for hit in index.search(SearchRequest(query=query, limit=1000)).hits}


def found_by_watchlist_rule(docs: list[IndexDoc], query: str) -> set[str]:
    node = parse(query)
    return {d.id for d in docs if matches(node, {"title": d.title, "body": d.body})}


def test_fixed_queries_match_the_same_items_in_watchlists_and_search(
    loaded: tuple[Index, list[IndexDoc]],
) -> None:
    index, docs = loaded
    for query in FIXED:
        assert found_by_search(index, query) == found_by_watchlist_rule(docs, query), query
    assert "case/latin-in-han" in found_by_search(index, "5G")


def test_random_queries_match_the_same_items_in_watchlists_and_search(
    loaded: tuple[Index, list[IndexDoc]],
) -> None:
    index, docs = loaded
    for query in random_queries(docs, 150, seed=11):
        assert found_by_search(index, query) == found_by_watchlist_rule(docs, query), query
