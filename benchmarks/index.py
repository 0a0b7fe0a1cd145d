"""Index benchmark: bulk load of local-world items into each backend, then search latency for a fixed
query mix (text, Chinese, phrase, filtered, faceted, kNN, filtered kNN, hybrid).

    python benchmarks/index.py [--docs 100000] [--batch 2000] [--queries 30] [--es-url URL]
    python benchmarks/index.py --million [--docs 1000000] [--keep DIR] [--skip-es]

--million: generated items (the world's articles recycled over a year, with vectors gathered around
story and theme centres as real embeddings are, so that a story's reprints are neighbours) streamed into
each backend, then the query mix, story-collapsed search and kNN recall@10 against exact search; peak
RSS of this process (and of the Elasticsearch node) reported. ``--keep DIR`` leaves the embedded index
there for ``benchmarks/web.py``.

Elasticsearch: --es-url, else $OPINIONWATCH_ES_URL, else the node of scripts/elasticsearch if it
runs (start it with `scripts/elasticsearch start`); skipped with a note when none answers.
Prints a table and ends with one JSON line:
{"embedded": {"docs": …, "bulk_docs_per_s": …, "p50_ms": …, "p95_ms": …, "by_kind": {…}},
 "elasticsearch": {…}}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index_million import article_doc, run_million  # noqa: E402  (beside this script)

from config.settings import ElasticsearchSettings  # noqa: E402
from index.base import Index, IndexDoc, SearchRequest  # noqa: E402
from index.elastic import ElasticsearchIndex  # noqa: E402
from index.embedded import EmbeddedIndex  # noqa: E402
from index.fusion import hybrid_search  # noqa: E402
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
        docs.append(article_doc(article, number, published, article.story, vector))
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


def measure(index: Index, docs: list[IndexDoc], batch: int, queries: int, seed: int) -> dict[str, object]:
    started = time.perf_counter()
    for start in range(0, len(docs), batch):
        index.upsert(docs[start : start + batch])
        print(f"\rloaded {min(start + batch, len(docs))}/{len(docs)}", end="", file=sys.stderr)
    load_s = time.perf_counter() - started
    print(file=sys.stderr)
    rng = np.random.default_rng(seed)
    timings: dict[str, list[float]] = {}
    for _ in range(queries):
        mix = query_mix(docs, rng)
        for kind, request in mix:
            begin = time.perf_counter()
            index.search(request)
            timings.setdefault(kind, []).append((time.perf_counter() - begin) * 1000)
        begin = time.perf_counter()
        hybrid_search(index, SearchRequest(query="NovaMart recall", limit=10), mix[-2][1].vector)  # type: ignore[arg-type]
        timings.setdefault("hybrid", []).append((time.perf_counter() - begin) * 1000)
    every = [t for values in timings.values() for t in values]
    return {
        "docs": index.count(),
        "bulk_docs_per_s": round(len(docs) / load_s, 1),
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(float(np.percentile(every, 95)), 2),
        "by_kind": by_kind(timings),
    }


def by_kind(timings: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        k: {"p50_ms": round(statistics.median(v), 2), "p95_ms": round(float(np.percentile(v, 95)), 2)}
        for k, v in timings.items()
    }


def elasticsearch_url(explicit: str | None) -> str | None:
    if explicit or os.environ.get("OPINIONWATCH_ES_URL"):
        return explicit or os.environ["OPINIONWATCH_ES_URL"]
    script = Path(__file__).resolve().parents[1] / "scripts" / "elasticsearch"
    if subprocess.run([str(script), "status"], capture_output=True, check=False).returncode == 0:
        return subprocess.run([str(script), "url"], capture_output=True, text=True, check=True).stdout.strip()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=30, help="Repetitions of the query mix.")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--es-url", default=None)
    parser.add_argument("--million", action="store_true", help="The 1,000,000-item run (see above).")
    parser.add_argument("--keep", type=Path, default=None, help="--million: keep the embedded index here.")
    parser.add_argument("--skip-es", action="store_true", help="--million: the embedded backend only.")
    args = parser.parse_args()
    if args.million:
        run_million(args, None if args.skip_es else elasticsearch_url(args.es_url))
        return
    docs = documents(args.docs, args.seed)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as folder:
        embedded = EmbeddedIndex(Path(folder) / "index")
        results["embedded"] = measure(embedded, docs, args.batch, args.queries, args.seed)
        embedded.close()
        url = elasticsearch_url(args.es_url)
        if url is None:
            print("skipped elasticsearch: no node answers (scripts/elasticsearch start)", file=sys.stderr)
        else:
            prefix = f"bench-{int(time.time())}"
            settings = ElasticsearchSettings(
                backend="elasticsearch", url=url, index_prefix=prefix, replicas=0
            )
            elastic = ElasticsearchIndex(settings, Path(folder) / "es")
            try:
                results["elasticsearch"] = measure(elastic, docs, args.batch, args.queries, args.seed)
            finally:
                elastic.drop()
                elastic.close()
    print(f"{'backend':14} {'docs':>8} {'bulk docs/s':>12} {'p50 ms':>8} {'p95 ms':>8}")
    for name, figures in results.items():
        print(
            f"{name:14} {figures['docs']:>8} {figures['bulk_docs_per_s']:>12} {figures['p50_ms']:>8} "
            f"{figures['p95_ms']:>8}"
        )
        for kind, values in figures["by_kind"].items():  # type: ignore[attr-defined]
            print(f"  {kind:14} p50 {values['p50_ms']:>8} ms   p95 {values['p95_ms']:>8} ms")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
