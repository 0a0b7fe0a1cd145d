"""End-to-end processing speed on local-world pages, against the raw embedding model in the same run.

    python benchmarks/pipeline.py [--pages 10000]

Runs the real pipeline (extract -> language -> watchlists, then embed -> stories -> index, streamed
so the stages overlap) over rendered local-world article pages, and times ``model.encode`` alone on
the same texts once before and once after it: these machines drift by several percent over minutes,
so the baseline is the mean of the two. Prints docs/s per stage (of each stage's busy time) and
overall (of the elapsed time), and ends with one JSON line:
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
from nlp.process import process  # noqa: E402
from opinionwatch.newsworld import build_world  # noqa: E402
from opinionwatch.newsworld.render import article_page  # noqa: E402
from opinionwatch.pipeline import CycleReport, process_and_index  # noqa: E402
from opinionwatch.wiring import Services  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def raw_items(pages: int) -> list[RawItem]:
    world = build_world(seed=21, today=date(2026, 11, 23), background_per_site=pages // 6 + 1)
    fetched = datetime(2026, 11, 23, 6, tzinfo=UTC)
    items = []
    for article in world.articles[:pages]:
        site = world.site(article.site)
        base = f"https://{site.name}.example"  # each site on a host name of its own, as in production
        html = article_page(world, site, article, base)
        items.append(
            RawItem(
                source=site.name,
                url=base + article.path,
                fetched_url=base + article.path,
                html=html,
                feed_title=article.title,
                feed_published=article.published,
                fetched_at=fetched,
            )
        )
    return items


def encode_seconds(model: SentenceTransformerEmbedder, texts: list[str], batch_size: int) -> float:
    """Seconds ``model.encode`` takes on ``texts`` by itself: the baseline."""
    started = time.perf_counter()
    model.model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10_000)
    args = parser.parse_args()
    raws = raw_items(args.pages)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(REPO / "config" / "demo.yaml", environ={}, data_dir=Path(folder))
        lead, batch_size = settings.embedding.lead_chars, settings.embedding.batch_size
        report = CycleReport()
        with Services(settings) as services:
            model: SentenceTransformerEmbedder = services.embedder.inner  # type: ignore[assignment]
            expected = [process(raw, services.detector, services.matcher) for raw in raws]
            texts = [embedding_text(item.title, item.text, lead) for item in expected]
            before_s = encode_seconds(model, texts, batch_size)  # also loads and warms the model
            progress = lambda step, done, total: None  # noqa: E731
            items = process_and_index(services, raws, report, progress)
            if [embedding_text(item.title, item.text, lead) for item in items] != texts:
                raise SystemExit("the pipeline embedded other texts than the baseline")
            after_s = encode_seconds(model, texts, batch_size)
    encode_s = (before_s + after_s) / 2
    busy = {step: seconds for step, seconds in report.seconds.items() if step != "wall"}
    stages = {step: round(len(items) / seconds, 1) for step, seconds in busy.items() if seconds > 0}
    total_s = report.seconds["wall"]
    figures = {
        "docs": len(items),
        "docs_per_s": round(len(items) / total_s, 1),
        "encode_docs_per_s": round(len(texts) / encode_s, 1),
        "encode_before_after_s": [round(before_s, 1), round(after_s, 1)],
        "ratio": round(encode_s / total_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "stages": stages,
        "failed": report.failed,
    }
    print(f"{'stage':12} {'docs/s':>10} {'seconds':>9}")
    for step, seconds in busy.items():
        print(f"{step:12} {stages.get(step, 0):>10} {seconds:>9.1f}")
    print(f"{'overall':12} {figures['docs_per_s']:>10} {total_s:>9.1f}")
    print(f"{'raw encode':12} {figures['encode_docs_per_s']:>10} {encode_s:>9.1f}", end="  ")
    print(f"(mean of {before_s:.1f} before and {after_s:.1f} after)")
    print(f"ratio {figures['ratio']} (target >= 0.9); peak RSS {figures['peak_rss_mb']} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
