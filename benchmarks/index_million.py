"""The 1,000,000-item run of ``benchmarks/index.py --million`` (see its docstring)."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from config.settings import ElasticsearchSettings
from index.base import Index, IndexDoc, SearchRequest
from index.elastic import ElasticsearchIndex
from index.embedded import EmbeddedIndex
from index.fusion import hybrid_search
from nlp.process import item_id
from opinionwatch.newsworld import build_world

DIMENSION = 384
TODAY = date(2026, 11, 23)
SENTIMENTS = ("negative", "neutral", "neutral", "neutral", "positive")
RISKS = ("none", "none", "none", "low", "medium", "high")
RECALL_QUERIES = 100


class Corpus:
    """Items recycled from a generated world, with vectors around their story's and theme's centres."""

    def __init__(self, count: int, seed: int) -> None:
        self.count, self.seed = count, seed
        self.base = build_world(seed=seed, today=TODAY, background_per_site=1500).articles
        rng = np.random.default_rng(seed)
        stories = sorted({a.story for a in self.base})
        themes = rng.standard_normal((60, DIMENSION)).astype(np.float32)
        story_centre = {
            s: themes[rng.integers(0, 60)] + 0.8 * rng.standard_normal(DIMENSION).astype(np.float32)
            for s in stories
        }
        self.base_vectors = np.stack(
            [
                story_centre[a.story] + 0.5 * rng.standard_normal(DIMENSION).astype(np.float32)
                for a in self.base
            ]
        )
        self.matrix = np.zeros((count, DIMENSION), dtype=np.float32)
        """Every item's unit vector, for exact search (the recall reference)."""

    def vector_like(self, rng: np.random.Generator, size: int) -> np.ndarray:
        rows = self.base_vectors[rng.integers(0, len(self.base), size)]
        vectors = rows + 0.9 * rng.standard_normal(rows.shape).astype(np.float32)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def batches(self, size: int) -> Iterator[list[IndexDoc]]:
        rng = np.random.default_rng(self.seed + 1)
        for start in range(0, self.count, size):
            numbers = range(start, min(self.count, start + size))
            picks = [n % len(self.base) for n in numbers]
            vectors = self.base_vectors[picks] + 0.9 * rng.standard_normal((len(picks), DIMENSION)).astype(
                np.float32
            )
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            self.matrix[start : start + len(picks)] = vectors
            yield [self._doc(n, vector) for n, vector in zip(numbers, vectors, strict=True)]

    def _doc(self, number: int, vector: np.ndarray) -> IndexDoc:
        article = self.base[number % len(self.base)]
        cycle = number // len(self.base)
        published = datetime.combine(TODAY, datetime.min.time(), UTC) - timedelta(
            days=number % 365, minutes=number % 1440
        )
        return article_doc(
            article, number, published, f"{article.story}-{cycle}", vector,
            sentiment=SENTIMENTS[number % len(SENTIMENTS)], risk=RISKS[number % len(RISKS)],
            risk_points=number % 7,
        )  # fmt: skip


def article_doc(
    article: Any, number: int, published: datetime, story_id: str, vector: np.ndarray, **fields: Any
) -> IndexDoc:
    """A news-world article as the ``number``-th generated item (its own address and id)."""
    return IndexDoc(
        id=item_id(f"http://{article.site}/{number}"),
        url=f"http://{article.site}/{number}",
        source=article.site,
        domain=article.site,
        kind="article",
        title=article.title,
        body="\n".join(article.paragraphs),
        published=published,
        language=article.lang,
        watchlists=article.watchlists,
        story_id=story_id,
        vector=vector,
        **fields,
    )


def query_mix(corpus: Corpus, rng: np.random.Generator) -> list[tuple[str, SearchRequest]]:
    since = datetime.combine(TODAY, datetime.min.time(), UTC) - timedelta(days=7)
    vector = corpus.vector_like(rng, 1)[0]
    return [
        ("text", SearchRequest(query="NovaMart recall", limit=20)),
        ("text_zh", SearchRequest(query="诺瓦商城 OR 平台监管", limit=20)),
        ("filtered", SearchRequest(query="council OR 地铁", since=since, languages=("en",), sort="date")),
        (
            "faceted",
            SearchRequest(
                query="NovaMart OR 诺瓦商城",
                facets=("source", "language", "watchlists", "sentiment", "risk"),
                date_histogram="1d",
                since=since - timedelta(days=23),
                limit=20,
            ),
        ),
        ("knn", SearchRequest(vector=vector, limit=10)),
        ("knn_filtered", SearchRequest(vector=vector, languages=("zh",), limit=10)),
    ]


def story_collapsed(index: Index, query: str) -> int:
    """One page of stories as the search page asks for it: the best hit of each story (collapsed in the
    index), then each story's members (for "+N reprints · M sites")."""
    hits = index.search(SearchRequest(query=query, limit=20, collapse="story_id")).hits
    stories = [str(hit.doc["story_id"]) for hit in hits]
    if not stories:
        return 0
    members = " OR ".join(f'story:"{story}"' for story in stories)
    return index.search(SearchRequest(query=members, limit=500, facets=("story_id",))).total


def measure(index: Index, corpus: Corpus, args: argparse.Namespace) -> dict[str, object]:
    started = time.perf_counter()
    for batch in corpus.batches(args.batch):
        index.upsert(batch)
        loaded = index.count() if isinstance(index, EmbeddedIndex) else "?"
        print(
            f"\rloaded {loaded}/{corpus.count} in {time.perf_counter() - started:.0f} s",
            end="",
            file=sys.stderr,
        )
    bulk_s = time.perf_counter() - started
    print(file=sys.stderr)
    rng = np.random.default_rng(args.seed)
    begin = time.perf_counter()
    index.search(SearchRequest(vector=corpus.vector_like(rng, 1)[0], limit=10))
    first_knn_s = time.perf_counter() - begin
    timings: dict[str, list[float]] = {}
    for _ in range(args.queries):
        mix = query_mix(corpus, rng)
        for kind, request in mix:
            timings.setdefault(kind, []).append(_timed(lambda r=request: index.search(r)))  # type: ignore[misc]
        vector = mix[-2][1].vector
        timings.setdefault("hybrid", []).append(
            _timed(lambda v=vector: hybrid_search(index, SearchRequest(query="NovaMart recall", limit=10), v))  # type: ignore[misc]
        )
        timings.setdefault("story_collapsed", []).append(_timed(lambda: story_collapsed(index, "NovaMart")))
    recall = knn_recall(index, corpus, np.random.default_rng(args.seed + 2))
    p95 = {kind: round(float(np.percentile(values, 95)), 2) for kind, values in timings.items()}
    return {
        "docs": index.count(),
        "bulk_docs_per_s": round(corpus.count / bulk_s, 1),
        "first_knn_s": round(first_knn_s, 1),
        "text_p95_ms": max(p95["text"], p95["text_zh"]),
        "faceted_p95_ms": p95["faceted"],
        "knn_p95_ms": max(p95["knn"], p95["knn_filtered"]),
        "knn_recall_at_10": recall,
        "by_kind": {
            k: {"p50_ms": round(statistics.median(v), 2), "p95_ms": p95[k]} for k, v in timings.items()
        },
    }


def _timed(call: object) -> float:
    begin = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - begin) * 1000


def knn_recall(index: Index, corpus: Corpus, rng: np.random.Generator) -> float:
    """Mean share of the exact 10 nearest neighbours (brute force over every vector) that kNN returns."""
    ids = [item_id(f"http://{corpus.base[n % len(corpus.base)].site}/{n}") for n in range(corpus.count)]
    found = 0
    for vector in corpus.vector_like(rng, RECALL_QUERIES):
        scores = corpus.matrix @ vector
        exact = {ids[row] for row in np.argpartition(-scores, 10)[:10]}
        returned = {hit.id for hit in index.search(SearchRequest(vector=vector, limit=10)).hits}
        found += len(exact & returned)
    return round(found / (10 * RECALL_QUERIES), 4)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def elasticsearch_rss_mb() -> float | None:
    """The peak resident memory of the local node (``VmHWM``), when it runs on this machine."""
    found = subprocess.run(["pgrep", "-f", "org.elasticsearch.bootstrap"], capture_output=True, text=True)
    for pid in found.stdout.split():
        status = Path(f"/proc/{pid}/status")
        for line in status.read_text().splitlines() if status.exists() else []:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def run_million(args: argparse.Namespace, es_url: str | None) -> None:
    count = args.docs if args.docs != 100_000 else 1_000_000
    corpus = Corpus(count, args.seed)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "index"
        embedded = EmbeddedIndex(path)
        results["embedded_1m"] = {**measure(embedded, corpus, args), "peak_rss_mb": peak_rss_mb()}
        embedded.close()
        print(json.dumps(results["embedded_1m"]), file=sys.stderr)
        if es_url is None:
            print("skipped elasticsearch: no node answers (scripts/elasticsearch start)", file=sys.stderr)
        else:
            results["elasticsearch_1m"] = _elasticsearch(es_url, corpus, args, Path(folder))
    heads = ("docs", "bulk/s", "text p95", "facet p95", "knn p95", "recall")
    print(f"{'backend':18} " + " ".join(f"{head:>9}" for head in heads))
    for name, figures in results.items():
        print(
            f"{name:18} {figures['docs']:>9} {figures['bulk_docs_per_s']:>9} {figures['text_p95_ms']:>9} "
            f"{figures['faceted_p95_ms']:>9} {figures['knn_p95_ms']:>9} {figures['knn_recall_at_10']:>9}"
        )
        for kind, values in figures["by_kind"].items():  # type: ignore[attr-defined]
            print(f"  {kind:16} p50 {values['p50_ms']:>8} ms   p95 {values['p95_ms']:>8} ms")
    print(json.dumps(results))


def _elasticsearch(url: str, corpus: Corpus, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    prefix = f"bench1m-{int(time.time())}"
    settings = ElasticsearchSettings(backend="elasticsearch", url=url, index_prefix=prefix, replicas=0)
    elastic = ElasticsearchIndex(settings, folder / "es")
    try:
        figures = measure(elastic, corpus, args)
        return {**figures, "peak_rss_mb": elasticsearch_rss_mb()}
    finally:
        elastic.drop()
        elastic.close()
