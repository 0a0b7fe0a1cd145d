"""End-to-end processing speed on local-world pages, against the raw embedding model in the same run.

    python benchmarks/pipeline.py [--pages 10000]

Runs the real pipeline (extract -> language -> watchlists, then embed -> stories -> index, streamed
so the stages overlap) over rendered local-world article pages, then times ``model.encode`` alone on
the same texts. Prints docs/s per stage (of each stage's busy time) and overall (of the elapsed
time), and ends with one JSON line:
{"docs_per_s": …, "encode_docs_per_s": …, "ratio": …, "peak_rss_mb": …, "stages": {…}}
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.loader import load_settings  # noqa: E402
from crawlers.records import RawItem  # noqa: E402
from nlp.embed import SentenceTransformerEmbedder, embedding_text  # noqa: E402
from opinionwatch.newsworld import build_world  # noqa: E402
from opinionwatch.newsworld.render import article_page  # noqa: E402
from opinionwatch.pipeline import CycleReport, process_and_index  # noqa: E402
from opinionwatch.wiring import Services  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:9"


def raw_items(pages: int) -> list[RawItem]:
    world = build_world(seed=21, today=date(2026, 11, 23), background_per_site=pages // 6 + 1)
    fetched = datetime(2026, 11, 23, 6, tzinfo=UTC)
    items = []
    for article in world.articles[:pages]:
        site = world.site(article.site)
        html = article_page(world, site, article, BASE)
        items.append(
            RawItem(
                source=site.name,
                url=f"{BASE}/{article.id}",
                fetched_url=f"http://{site.name}/x",
                html=html,
                feed_title=article.title,
                feed_published=article.published,
                fetched_at=fetched,
            )
        )
    return items


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10_000)
    args = parser.parse_args()
    raws = raw_items(args.pages)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(REPO / "config" / "demo.yaml", environ={}, data_dir=Path(folder))
        report = CycleReport()
        with Services(settings) as services:
            services.embedder.embed(["warm up"])  # load the model before timing
            progress = lambda step, done, total: None  # noqa: E731
            items = process_and_index(services, raws, report, progress)
            model: SentenceTransformerEmbedder = services.embedder.inner  # type: ignore[assignment]
            texts = [embedding_text(i.title, i.text, settings.embedding.lead_chars) for i in items]
            started = time.perf_counter()
            model.model.encode(texts, batch_size=settings.embedding.batch_size, normalize_embeddings=True)
            encode_s = time.perf_counter() - started
    busy = {step: seconds for step, seconds in report.seconds.items() if step != "wall"}
    stages = {step: round(len(items) / seconds, 1) for step, seconds in busy.items() if seconds > 0}
    total_s = report.seconds["wall"]
    figures = {
        "docs": len(items),
        "docs_per_s": round(len(items) / total_s, 1),
        "encode_docs_per_s": round(len(texts) / encode_s, 1),
        "ratio": round((len(items) / total_s) / (len(texts) / encode_s), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "stages": stages,
        "failed": report.failed,
    }
    print(f"{'stage':12} {'docs/s':>10} {'seconds':>9}")
    for step, seconds in busy.items():
        print(f"{step:12} {stages.get(step, 0):>10} {seconds:>9.1f}")
    print(f"{'overall':12} {figures['docs_per_s']:>10} {total_s:>9.1f}")
    print(f"{'raw encode':12} {figures['encode_docs_per_s']:>10} {encode_s:>9.1f}")
    print(f"ratio {figures['ratio']} (target >= 0.9); peak RSS {figures['peak_rss_mb']} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
