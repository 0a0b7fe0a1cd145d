"""Deduplication quality at each level: exact hash, MinHash near-duplicates, embedding cosine.

    python benchmarks/dedup.py [--data ../shared/data] [--model all-MiniLM-L6-v2]

Sets (each skipped, with a note, when DIR lacks it; the reprint set is always generated):
  bbc_news_en               the 98 exact-duplicate groups must each end up in one story
  msrp_news_paraphrase_en   pair precision/recall/F1 of each level at the configured thresholds
  stsb_news_headlines_en    Spearman correlation of cosine with the human 0-5 scores (news genres)
  reprints                  pairwise F1 of stories on the local world's reprint set (target >= 0.95)
Ends with one JSON line of figures keyed by set.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.settings import EmbeddingSettings, StorySettings  # noqa: E402
from nlp.embed import SentenceTransformerEmbedder, embedding_text  # noqa: E402
from nlp.normalize import content_hash  # noqa: E402
from nlp.records import Item  # noqa: E402
from nlp.stories import StoryStore, semantic_threshold_for, shingles  # noqa: E402
from opinionwatch.newsworld.reprints import ReprintDoc, reprint_set  # noqa: E402

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def item(key: str, title: str, text: str, when: datetime = DAY, lang: str = "en") -> Item:
    return Item(
        id=key,
        url=f"http://bench/{key}",
        source="bench",
        domain="bench",
        title=title,
        text=text,
        published=when,
        fetched_at=when,
        language=lang,
        content_hash=content_hash(text or title),
    )


def pair_scores(truth: list[bool], predicted: list[bool]) -> dict[str, float]:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def jaccard(a: str, b: str) -> float:
    left, right = shingles(a), shingles(b)
    return len(left & right) / len(left | right) if left and right else 0.0


def bbc(
    root: Path, settings: StorySettings, embedder: SentenceTransformerEmbedder, semantic: float | None
) -> dict[str, object]:
    rows = [json.loads(line) for line in (root / "bbc_news.jsonl").read_text("utf-8").splitlines() if line]
    groups = json.loads((root / "exact_duplicate_groups.json").read_text("utf-8"))
    items = [item(row["id"], row["title"], row["text"]) for row in rows]
    vectors = embedder.embed([embedding_text(i.title, i.text, 1000) for i in items])
    with tempfile.TemporaryDirectory() as folder:
        StoryStore(Path(folder) / "s.sqlite", settings, semantic).assign(items, vectors)
    story = {i.id: i.story_id for i in items}
    found = sum(1 for group in groups if len({story[key] for key in group}) == 1)
    grouped = {key for group in groups for key in group}
    members: dict[str | None, list[str]] = defaultdict(list)
    for key, story_id in story.items():
        members[story_id].append(key)
    extra = sum(
        1
        for keys in members.values()
        for a, b in itertools.combinations(keys, 2)
        if not any(a in g and b in g for g in groups)
    )
    levels: dict[str, int] = defaultdict(int)
    for one in items:
        levels[one.story_level] += 1
    return {
        "items": len(items),
        "groups": len(groups),
        "groups_found": found,
        "items_in_groups": len(grouped),
        "stories": len(members),
        "merged_pairs_outside_groups": extra,
        "levels": dict(levels),
    }


def msrp(
    root: Path, embedder: SentenceTransformerEmbedder, near: float, semantic: float
) -> dict[str, object]:
    with (root / "msr_paraphrase_train.txt").open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    truth = [row[0] == "1" for row in rows]
    left = embedder.embed([row[3] for row in rows])
    right = embedder.embed([row[4] for row in rows])
    cosine = np.sum(left * right, axis=1)
    exact = [content_hash(row[3]) == content_hash(row[4]) for row in rows]
    near_hits = [jaccard(row[3], row[4]) >= near for row in rows]
    semantic_hits = [float(c) >= semantic for c in cosine]
    combined = [a or b or c for a, b, c in zip(exact, near_hits, semantic_hits, strict=True)]
    sweep = {
        round(t, 2): pair_scores(truth, [float(c) >= t for c in cosine])["f1"]
        for t in np.arange(0.5, 0.96, 0.05)
    }
    best = max(sweep, key=lambda t: sweep[t])
    return {
        "pairs": len(rows),
        "exact": pair_scores(truth, exact),
        "near": pair_scores(truth, near_hits),
        "semantic": pair_scores(truth, semantic_hits),
        "combined": pair_scores(truth, combined),
        "semantic_threshold": semantic,
        "best_cosine_threshold_for_f1": best,
        "best_f1": sweep[best],
    }


def stsb(root: Path, embedder: SentenceTransformerEmbedder) -> dict[str, object]:
    pairs = []
    for name in ("sts-train.csv", "sts-dev.csv"):
        with (root / name).open(encoding="utf-8") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 7 and row[0] == "main-news" and row[1] in ("headlines", "MSRpar", "deft-news"):
                    pairs.append((float(row[4]), row[5], row[6]))
    left = embedder.embed([p[1] for p in pairs])
    right = embedder.embed([p[2] for p in pairs])
    cosine = np.sum(left * right, axis=1)
    rho = spearmanr([p[0] for p in pairs], cosine).statistic
    return {"pairs": len(pairs), "spearman": round(float(rho), 4)}


def reprints(
    embedder: SentenceTransformerEmbedder,
    settings: StorySettings,
    semantic: float | None,
    docs: list[ReprintDoc] | None = None,
) -> dict[str, object]:
    """Pairwise story F1 on the reprint set (or ``docs`` of it), without and with the semantic level."""
    docs = reprint_set() if docs is None else docs
    results: dict[str, object] = {"docs": len(docs), "stories": len({d.story for d in docs})}
    vectors = embedder.embed([embedding_text(d.title, d.text, 1000) for d in docs])
    for label, threshold in (("exact_near", None), ("with_semantic", semantic)):
        items = [item(d.id, d.title, d.text, d.published, d.lang) for d in docs]
        with tempfile.TemporaryDirectory() as folder:
            StoryStore(Path(folder) / "s.sqlite", settings, threshold).assign(items, vectors)
        truth, predicted = [], []
        for (a, da), (b, db) in itertools.combinations(zip(items, docs, strict=True), 2):
            truth.append(da.story == db.story)
            predicted.append(a.story_id == b.story_id)
        levels: dict[str, int] = defaultdict(int)
        for one in items:
            levels[one.story_level] += 1
        results[label] = {**pair_scores(truth, predicted), "levels": dict(levels)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="embedding.model to evaluate")
    parser.add_argument(
        "--models-dir", type=Path, default=EmbeddingSettings().models_dir.expanduser(), help="built models"
    )
    args = parser.parse_args()
    settings = StorySettings()
    semantic = semantic_threshold_for(settings, args.model)
    embedder = SentenceTransformerEmbedder(EmbeddingSettings(model=args.model), args.models_dir)
    results: dict[str, object] = {}
    runs = (
        ("bbc_news_en", lambda root: bbc(root, settings, embedder, semantic)),
        (
            "msrp_news_paraphrase_en",
            lambda root: msrp(root, embedder, settings.near_duplicate_threshold, semantic or 1.0),
        ),
        ("stsb_news_headlines_en", lambda root: stsb(root, embedder)),
    )
    for name, run in runs:
        if not (args.data / name).is_dir():
            print(f"skipped {name}: not in {args.data}", file=sys.stderr)
            continue
        started = time.perf_counter()
        results[name] = run(args.data / name)
        print(f"ran {name} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    results["reprints"] = reprints(embedder, settings, semantic)
    print(
        f"model {args.model}; near-duplicate Jaccard >= {settings.near_duplicate_threshold}; "
        f"cosine >= {semantic}"
    )
    for name, figures in results.items():
        print(f"{name}:")
        for key, value in figures.items():  # type: ignore[attr-defined]
            print(f"  {key:32} {value}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
