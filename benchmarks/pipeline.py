"""End-to-end processing speed on local-world pages, against the raw embedding model in the same run,
and the quality of the int8 encoder against float32 of the same model.

    python benchmarks/pipeline.py [--pages 10000] [--models multilingual-e5-small all-MiniLM-L6-v2]
                                  [--backend onnx-int8] [--data ../shared/data] [--no-quality]

Speed, for each model in a process of its own (so that its peak RSS is its own): runs the real
pipeline (extract -> language -> watchlists, then embed -> stories -> index, streamed so the stages
overlap) with ``--backend`` over rendered local-world article pages, and times two raw encodes of the
same texts once before and once after it: the configured backend's, and torch float32's (these
machines drift by several percent over minutes, so each baseline is the mean of the two). Items/s is
of the elapsed time; ``ratio`` is the pipeline against the configured backend's raw encode,
``ratio_to_torch_fp32`` against torch float32's; ``reprint_share`` the share of items that joined a
story as an exact or near-duplicate reprint. The goal is 5,000,000 items a day: 58 items/s.

Quality (int8 against float32 of the same model, torch): cosine of the two on the pipeline's texts;
pairwise story F1 on the local world's reprint set; zh/en accuracy@1 on the parallel set; STS-B
Spearman on the news genres (from --data; skipped, with a note, when DIR lacks stsb_news_headlines_en).
Targets: mean cosine >= 0.99, each other figure within 0.01 of float32.

Sentiment and risk (issue target: at most 5% added): per model, the pipeline's elapsed time without and
with them, in ``--cost-pairs`` pairs (each pair's order alternates: off-on, on-off, ...; ``added_share`` is
the median of the pairs' ratios, ``added_range`` their lowest and highest: a single pair swings by a few
percent on this machine), and the sentiment stage's busy seconds (it runs beside the encoder: reading in
the extraction thread, settling in the model thread).

Ends with one JSON line: {"ratio": …, "models": {MODEL: {…}}, "quality": {MODEL: {…}}}.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.append(str(Path(__file__).resolve().parent))  # after the repo: benchmarks/index.py is no package

from config.loader import load_settings  # noqa: E402
from config.settings import EmbeddingSettings, Settings, StorySettings  # noqa: E402
from crawlers.records import RawItem  # noqa: E402
from nlp.embed import Embedder, SentenceTransformerEmbedder, embedding_text  # noqa: E402
from nlp.onnx_embed import embedder_for  # noqa: E402
from nlp.process import process  # noqa: E402
from nlp.stories import semantic_threshold_for  # noqa: E402
from opinionwatch.newsworld import build_world  # noqa: E402
from opinionwatch.newsworld.generator import Article  # noqa: E402
from opinionwatch.newsworld.render import article_page  # noqa: E402
from opinionwatch.newsworld.reprints import BOILERPLATE_EN, BOILERPLATE_ZH  # noqa: E402
from opinionwatch.pipeline import CycleReport, process_and_index  # noqa: E402
from opinionwatch.wiring import Services  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODELS = ("multilingual-e5-small", "all-MiniLM-L6-v2")
GOAL_ITEMS_PER_S = 5_000_000 / 86_400
REPRINT_VARIANTS = ("as published", "retitled", "boilerplate", "truncated")


def stream(pages: int, reprint_share: float, seed: int = 21) -> list[RawItem]:
    """``pages`` local-world article pages in time order, ``reprint_share`` of them reprints of earlier
    ones on other sites of the language (as published, retitled, with boilerplate added, truncated)."""
    originals = max(1, round(pages * (1 - reprint_share)))
    world = build_world(seed=seed, today=date(2026, 11, 23), background_per_site=originals // 6 + 1)
    chosen = world.articles[:originals]
    rng = random.Random(seed)
    reprints = []
    for number in range(pages - originals):
        source = rng.choice(chosen)
        site = rng.choice([s for s in world.sites if s.lang == source.lang and s.name != source.site])
        title, paragraphs, zh = source.title, source.paragraphs, source.lang == "zh"
        variant = REPRINT_VARIANTS[number % len(REPRINT_VARIANTS)]
        if variant == "retitled":
            title = ("最新：" if zh else "Update: ") + title
        elif variant == "boilerplate":
            paragraphs = (*paragraphs, (BOILERPLATE_ZH if zh else BOILERPLATE_EN)[number % 5])
        elif variant == "truncated":
            paragraphs = paragraphs[: max(2, len(paragraphs) * 3 // 5)]
        reprints.append(
            replace(
                source,
                id=f"{site.name}/r{number:05d}",
                site=site.name,
                path=f"/reprints/{number:05d}.html",
                title=title,
                paragraphs=paragraphs,
                published=source.published + timedelta(hours=rng.randint(1, 12)),
                variant="exact" if variant in ("as published", "retitled") else "edited",
            )
        )
    world.articles.extend(reprints)
    fetched = datetime(2026, 11, 23, 6, tzinfo=UTC)
    items = []
    for article in sorted([*chosen, *reprints], key=_when):
        site = world.site(article.site)
        base = f"https://{site.name}.example"  # each site on a host name of its own, as in production
        items.append(
            RawItem(
                source=site.name,
                url=base + article.path,
                fetched_url=base + article.path,
                html=article_page(world, site, article, base),
                feed_title=article.title,
                feed_published=article.published,
                fetched_at=fetched,
            )
        )
    return items


def _when(article: Article) -> datetime:
    return article.published


def encode_seconds(embedder: Embedder, texts: list[str]) -> float:
    """Seconds the encoder takes on ``texts`` by itself: a baseline."""
    started = time.perf_counter()
    embedder.embed(texts)
    return time.perf_counter() - started


def one_model(model: str, backend: str, pages: int, reprint_share: float, pairs: int) -> dict[str, object]:
    """Speed of the pipeline with ``model`` on ``backend`` against both raw encodes (this process); the
    peak RSS is read before torch float32 is loaded for its baseline."""
    raws = stream(pages, reprint_share)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(REPO / "config" / "demo.yaml", environ={}, data_dir=Path(folder))
        settings = settings.model_copy(
            update={"embedding": settings.embedding.model_copy(update={"model": model, "backend": backend})}
        )
        lead = settings.embedding.lead_chars
        report = CycleReport()
        with Services(settings) as services:
            configured = services.embedder.inner
            expected = [process(raw, services.detector, services.matcher) for raw in raws]
            texts = [embedding_text(item.title, item.text, lead) for item in expected]
            configured.embed(texts[:64])  # load and warm
            before = encode_seconds(configured, texts)
            items = process_and_index(services, raws, report, lambda step, done, total: None)
            if [embedding_text(item.title, item.text, lead) for item in items] != texts:
                raise SystemExit("the pipeline embedded other texts than the baseline")
            after = encode_seconds(configured, texts)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        torch_fp32 = SentenceTransformerEmbedder(
            settings.embedding.model_copy(update={"backend": "torch"}), settings.models_dir
        )
        torch_fp32.embed(texts[:64])
        torch_runs = encode_seconds(torch_fp32, texts), encode_seconds(torch_fp32, texts)
    encode_s, torch_s = (before + after) / 2, sum(torch_runs) / 2
    wall = report.seconds["wall"]
    busy = {step: seconds for step, seconds in report.seconds.items() if step != "wall"}
    return {
        "backend": backend,
        "docs": len(items),
        "items_per_s": round(len(items) / wall, 1),
        "encode_docs_per_s": round(len(texts) / encode_s, 1),
        "torch_fp32_docs_per_s": round(len(texts) / torch_s, 1),
        "encode_before_after_s": [round(before, 1), round(after, 1)],
        "torch_runs_s": [round(seconds, 1) for seconds in torch_runs],
        "ratio": round(encode_s / wall, 3),
        "ratio_to_torch_fp32": round(torch_s / wall, 3),
        "reprint_share": round(sum(item.story_level in ("exact", "near") for item in items) / len(items), 3),
        "sent_to_encoder": report.sent_to_encoder,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "stages": {step: round(len(items) / seconds, 1) for step, seconds in busy.items() if seconds > 0},
        "failed": report.failed,
        "sentiment": sentiment_cost(settings, raws, pairs),
    }


def sentiment_cost(settings: Settings, raws: list[RawItem], pairs: int) -> dict[str, object]:
    """What sentiment and risk add to the pipeline's elapsed time: ``pairs`` pairs of runs without and with
    them (off-on, then on-off, ...), each on a fresh data folder (cold caches alike); the median of the
    pairs' ratios, and their range."""
    walls: dict[bool, list[float]] = {False: [], True: []}
    stage: list[float] = []
    for enabled in [on if pair % 2 else not on for pair in range(pairs) for on in (True, False)]:
        with tempfile.TemporaryDirectory() as folder:
            update = {
                "data_dir": Path(folder),
                "sentiment": settings.sentiment.model_copy(update={"enabled": enabled}),
                "risk": settings.risk.model_copy(update={"enabled": enabled}),
            }
            report = CycleReport()
            with Services(settings.model_copy(update=update)) as services:
                process_and_index(services, raws, report, lambda step, done, total: None)
            walls[enabled].append(report.seconds["wall"])
            if enabled:
                stage.append(report.seconds.get("sentiment", 0.0) + report.seconds.get("sentiment_read", 0.0))
    ratios = np.array(walls[True]) / np.array(walls[False]) - 1
    return {
        "wall_off_s": round(float(np.median(walls[False])), 2),
        "wall_on_s": round(float(np.median(walls[True])), 2),
        "added_share": round(float(np.median(ratios)), 4),
        "added_range": [round(float(ratios.min()), 4), round(float(ratios.max()), 4)],
        "stage_busy_s": round(float(np.median(stage)), 2),
    }


def quality(model: str, backend: str, data: Path, texts: Sequence[str]) -> dict[str, object]:
    """``backend`` against torch float32 of ``model`` on the same texts and sets."""
    from dedup import reprints, stsb
    from multilingual import retrieval

    from opinionwatch.newsworld.parallel import parallel_set

    base = EmbeddingSettings(model=model)
    embedders: dict[str, Embedder] = {
        "fp32": embedder_for(base.model_copy(update={"backend": "torch"}), base.models_dir.expanduser()),
        backend: embedder_for(base.model_copy(update={"backend": backend}), base.models_dir.expanduser()),
    }
    ours, theirs = embedders[backend].embed(list(texts)), embedders["fp32"].embed(list(texts))
    cosines = np.sum(ours * theirs, axis=1)
    out: dict[str, object] = {
        "texts": len(texts),
        "mean_cosine": round(float(cosines.mean()), 4),
        "min_cosine": round(float(cosines.min()), 4),
    }
    threshold = semantic_threshold_for(StorySettings(), model)
    pairs = parallel_set()
    for label, embedder in embedders.items():
        figures: dict[str, object] = {
            "reprints_f1": reprints(embedder, StorySettings(), threshold)["with_semantic"]["f1"],  # type: ignore[arg-type, index]
            "zh_to_en_acc@1": retrieval(pairs, embedder.embed)["zh_to_en_acc@1"],
        }
        if (data / "stsb_news_headlines_en").is_dir():
            figures["stsb_spearman"] = stsb(data / "stsb_news_headlines_en", embedder)["spearman"]  # type: ignore[arg-type]
        out[label] = figures
    if not (data / "stsb_news_headlines_en").is_dir():
        print(f"skipped stsb_news_headlines_en: not in {data}", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--reprint-share", type=float, default=0.35, help="share of reprints in the stream")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument(
        "--backend", default=EmbeddingSettings().backend, choices=["torch", "onnx", "onnx-int8"]
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--no-quality", action="store_true", help="speed only")
    parser.add_argument("--cost-pairs", type=int, default=3, help="pairs of runs without/with sentiment")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one model's speed, as JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_model(args.one, args.backend, args.pages, args.reprint_share, args.cost_pairs)))
        return
    speed = {}
    for model in args.models:
        command = [
            sys.executable,
            __file__,
            "--one",
            model,
            "--backend",
            args.backend,
            "--pages",
            str(args.pages),
            "--reprint-share",
            str(args.reprint_share),
            "--cost-pairs",
            str(args.cost_pairs),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{model}: {done.stderr.strip().splitlines()[-1:]}")
        speed[model] = json.loads(done.stdout.strip().splitlines()[-1])
    checks = {}
    if not args.no_quality and args.backend != "torch":
        world = build_world(seed=21, today=date(2026, 11, 23), background_per_site=100)
        world_texts = [embedding_text(a.title, "\n".join(a.paragraphs), 1000) for a in world.articles[:600]]
        checks = {model: quality(model, args.backend, args.data, world_texts) for model in args.models}
    print(f"{'model':24} {'backend':10} {'items/s':>8} {'raw enc':>8} {'torch32':>8} {'ratio':>6} "
          f"{'×torch32':>8} {'reprints':>8} {'RSS MB':>7}")  # fmt: skip
    for model, row in speed.items():
        print(f"{model:24} {row['backend']:10} {row['items_per_s']:>8} {row['encode_docs_per_s']:>8} "
              f"{row['torch_fp32_docs_per_s']:>8} {row['ratio']:>6} {row['ratio_to_torch_fp32']:>8} "
              f"{row['reprint_share']:>8} {row['peak_rss_mb']:>7}")  # fmt: skip
    print(f"goal: {GOAL_ITEMS_PER_S:.0f} items/s (5,000,000 a day); targets: ×torch32 >= 2.5, RSS <= 3000 MB")
    for model, row in speed.items():
        cost: dict[str, Any] = row["sentiment"]
        low, high = cost["added_range"]
        print(f"sentiment and risk, {model}: elapsed {cost['wall_off_s']} s off, {cost['wall_on_s']} s on "
              f"(added {cost['added_share']:+.1%}, pairs {low:+.1%} to {high:+.1%}; target <= +5%); "
              f"stage busy {cost['stage_busy_s']} s")  # fmt: skip
    for model, figures in checks.items():
        print(f"quality {model} ({args.backend} against torch float32): {json.dumps(figures)}")
    first = speed[args.models[0]]
    print(json.dumps({"ratio": first["ratio"], "models": speed, "quality": checks}))


if __name__ == "__main__":
    main()
