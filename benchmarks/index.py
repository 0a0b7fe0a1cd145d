"""Embedded index benchmark: bulk load of local-world items, then search latency for a fixed query mix.

    python benchmarks/index.py [--docs 100000] [--batch 2000] [--queries 50]

Prints a table and ends with one JSON line:
{"embedded": {"docs": …, "bulk_docs_per_s": …, "p50_ms": …, "p95_ms": …, "by_kind": {…}}}
(The Elasticsearch backend joins this benchmark when it lands.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.base import IndexDoc, SearchRequest  # noqa: E402
from index.embedded import EmbeddedIndex  # noqa: E402
from nlp.process import item_id  # noqa: E402
from opinionwatch.newsworld import build_world  # noqa: E402

DIMENSION = 384


def documents(count: int, seed: int) -> list[IndexDoc]:
    world = build_world(seed=seed, today=date(2026, 11, 23), background_per_site=count // 6 + 1)
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(world.articles), DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = []
    for number, (article, vector) in enumerate(zip(world.articles, vectors, strict=True)):
        published = article.published - timedelta(days=number % 60)
        docs.append(
            IndexDoc(
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
                story_id=article.story,
                vector=vector,
            )
        )
    return docs[:count]


def query_mix(docs: list[IndexDoc], rng: np.random.Generator) -> list[tuple[str, SearchRequest]]:
    since = max(d.published for d in docs) - timedelta(days=7)
    vector = docs[int(rng.integers(len(docs)))].vector
    return [
        ("text", SearchRequest(query="NovaMart recall", limit=20)),
        ("text_zh", SearchRequest(query="诺瓦商城 OR 平台监管", limit=20)),
        ("phrase", SearchRequest(query='"power banks" OR "platform regulation"', limit=20)),
        (
            "filtered",
            SearchRequest(query="council OR 地铁", since=since, languages=("en",), limit=20, sort="date"),
        ),
        (
            "faceted",
            SearchRequest(
                query="news OR 新闻 OR city",
                facets=("source", "language", "watchlists"),
                date_histogram="1d",
                limit=10,
            ),
        ),
        ("knn", SearchRequest(vector=vector, limit=10)),
        ("knn_filtered", SearchRequest(vector=vector, languages=("zh",), limit=10)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=30, help="Repetitions of the query mix.")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    docs = documents(args.docs, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        index = EmbeddedIndex(Path(folder) / "index")
        started = time.perf_counter()
        for start in range(0, len(docs), args.batch):
            index.upsert(docs[start : start + args.batch])
            print(f"\rloaded {min(start + args.batch, len(docs))}/{len(docs)}", end="", file=sys.stderr)
        load_s = time.perf_counter() - started
        print(file=sys.stderr)
        rng = np.random.default_rng(args.seed)
        timings: dict[str, list[float]] = {}
        for _ in range(args.queries):
            for kind, request in query_mix(docs, rng):
                begin = time.perf_counter()
                index.search(request)
                timings.setdefault(kind, []).append((time.perf_counter() - begin) * 1000)
        index.close()
    every = [t for values in timings.values() for t in values]
    figures = {
        "docs": len(docs),
        "bulk_docs_per_s": round(len(docs) / load_s, 1),
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(float(np.percentile(every, 95)), 2),
        "by_kind": {
            k: {"p50_ms": round(statistics.median(v), 2), "p95_ms": round(float(np.percentile(v, 95)), 2)}
            for k, v in timings.items()
        },
    }
    print(f"{'backend':10} {'docs':>8} {'bulk docs/s':>12} {'p50 ms':>8} {'p95 ms':>8}")
    print(
        f"{'embedded':10} {figures['docs']:>8} {figures['bulk_docs_per_s']:>12} "
        f"{figures['p50_ms']:>8} {figures['p95_ms']:>8}"
    )
    for kind, values in figures["by_kind"].items():  # type: ignore[union-attr]
        print(f"  {kind:14} p50 {values['p50_ms']:>8} ms   p95 {values['p95_ms']:>8} ms")
    print(json.dumps({"embedded": figures}))


if __name__ == "__main__":
    main()
