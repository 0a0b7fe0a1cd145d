"""Topic quality against labels, our configuration against BERTopic's defaults on the same embeddings;
the stability of ids over daily fits; the time and memory of a large fit.

    python benchmarks/topics.py [--data ../shared/data] [--labelled FILE.jsonl ...] [--model NAME]
                                [--days 10] [--scale 100000] [--skip-scale]

Quality, per set (bbc_news_en; the THUCNews titles in zh_news_titles; zh_news_fulltext_cnews; each
``--labelled`` file, reported under its stem; sets DIR lacks are skipped with a note): NMI and ARI against
the labels (outliers count as one cluster), the outlier share, the number of topics and the fit time, for
``ours`` (``nlp.topics.fit_topics``, outliers placed), ``ours_unplaced`` (the same fit before outliers are
placed: what placing costs or gains, and ``placed_precision``, the share of placed stories whose topic's
majority label is their own) and ``default`` (``BERTopic()`` with its defaults, UMAP seeded so the run
repeats). Chinese sets and labelled files with Chinese rows use multilingual-e5-small whatever ``--model``
says. Target: NMI >= the default's + 0.05 with no larger outlier share.

Stability: daily fits over overlapping windows (``nlp.topic_daily.fit_day``, 7-day windows) on the
calendar news world (``--days`` days) and on BBC cut into 14 days: the share of stories in two
consecutive fits that keep their topic id (their true topic never changes here; the calendar's themes in
a planted split or merge are left out), over all pairs and over pairs whose windows are full, and on the
calendar world whether the planted split, merge and burst are found as lineage events (the split in one
event, ``split_found``, or in steps, ``split_found_in_steps``: one parent's splits within 3 days that
together name both branches), and which merges were recorded; the same for the calendar worlds of
``--calendar-seeds`` (the same plan with other texts, hours and sites), so that one world's luck is not
the figure. BBC has nothing planted: its splits and
merges are noise. Target: >= 0.95.

Scale: one fit of ``--scale`` generated stories (BBC vectors with noise, in a process of its own): seconds
(numba's compilation on the process's first fit included) and peak RSS. Targets: <= 300 s, <= 4 GB.
Fit times above are measured after a warm-up fit (``jit_warmup_seconds``) has compiled that code.

Ends with one JSON line: {SET: {"ours": {...}, "ours_unplaced": {...}, "default": {...}}, ...,
"stability": {...}, "scale": {...}}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from dedup import item  # noqa: E402

from config.settings import EmbeddingSettings, StorySettings, TopicSettings  # noqa: E402
from nlp.embed import CachedEmbedder, embedding_text  # noqa: E402
from nlp.onnx_embed import embedder_for  # noqa: E402
from nlp.records import Item  # noqa: E402
from nlp.stories import StoryStore, crosslingual_threshold_for, semantic_threshold_for  # noqa: E402
from nlp.topic_daily import fit_day  # noqa: E402
from nlp.topic_state import load_state  # noqa: E402
from nlp.topics import FitOptions, TopicDoc, fit_topics  # noqa: E402
from opinionwatch.newsworld.calendar import build_calendar  # noqa: E402

Row = tuple[str, str, str, str]
"""title, text, label, lang"""
MULTILINGUAL = "multilingual-e5-small"
SPLIT_STEP_DAYS = 3
"""A planted split found in steps: splits of one parent within this many days that name both branches."""
PLANTED = {"ai-rules", "ai-copyright", "ai-safety", "wheat-exports", "fertiliser-prices", "food-crisis"}


def load_sets(data: Path, labelled: list[Path]) -> dict[str, list[Row]]:
    sets: dict[str, list[Row]] = {}
    bbc = data / "bbc_news_en" / "bbc_news.jsonl"
    if bbc.exists():
        rows = [json.loads(line) for line in bbc.read_text("utf-8").splitlines() if line.strip()]
        sets["bbc_news_en"] = [(r["title"], r["text"], r["category"], "en") for r in rows]
    titles = data / "zh_news_titles" / "thucnews_titles"
    if titles.exists():
        lines = [
            line
            for split in ("test.txt", "dev.txt")
            for line in (titles / split).read_text("utf-8").splitlines()
        ]
        sets["zh_news_titles"] = [
            (t, "", c, "zh") for t, c in (line.rsplit("\t", 1) for line in lines if line)
        ]
    cnews = data / "zh_news_fulltext_cnews" / "cnews_1000.tsv"
    if cnews.exists():
        pairs = (line.split("\t", 1) for line in cnews.read_text("utf-8").splitlines() if line)
        sets["zh_news_fulltext_cnews"] = [("", text, label, "zh") for label, text in pairs]
    for path in labelled:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        sets[path.stem] = [
            (r.get("title", ""), r["text"], str(r["label"]), r.get("lang", "en")) for r in rows
        ]
    for name in ("bbc_news_en", "zh_news_titles", "zh_news_fulltext_cnews"):
        if name not in sets:
            print(f"note: {data} has no {name}; skipped")
    return sets


class Vectors:
    """Embeddings with the pipeline's encoder (ONNX int8 by default), cached on disk across runs."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.embedders: dict[str, CachedEmbedder] = {}

    def of(self, model: str, texts: list[str]) -> np.ndarray:
        if model not in self.embedders:
            settings = EmbeddingSettings(model=model)
            inner = embedder_for(settings, settings.models_dir.expanduser())
            self.embedders[model] = CachedEmbedder(inner, self.cache)
        return self.embedders[model].embed(texts)


def scores(truth: list[str], labels: np.ndarray, seconds: float) -> dict[str, float]:
    return {
        "nmi": round(float(normalized_mutual_info_score(truth, labels)), 4),
        "ari": round(float(adjusted_rand_score(truth, labels)), 4),
        "outliers": round(float(np.mean(labels < 0)), 4),
        "topics": int(len(set(labels.tolist()) - {-1})),
        "seconds": round(seconds, 1),
    }


def quality(name: str, rows: list[Row], vectors: np.ndarray) -> dict[str, dict[str, float]]:
    from bertopic import BERTopic
    from umap import UMAP

    docs = [
        TopicDoc(str(i), t, f"{t}\n{x[:600]}", lang, date(2026, 1, 1))
        for i, (t, x, _, lang) in enumerate(rows)
    ]
    truth = [label for _, _, label, _ in rows]
    started = time.monotonic()
    ours = fit_topics(docs, vectors, FitOptions())
    ours_seconds = time.monotonic() - started
    started = time.monotonic()
    unplaced = fit_topics(docs, vectors, FitOptions(place_outliers=False))
    unplaced_seconds = time.monotonic() - started
    started = time.monotonic()
    default = BERTopic(
        umap_model=UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False, random_state=42
        )
    )
    default_labels = np.asarray(default.fit_transform([d.text for d in docs], embeddings=vectors)[0])
    default_seconds = time.monotonic() - started
    result = {
        "ours": scores(truth, ours.labels, ours_seconds),
        "ours_unplaced": scores(truth, unplaced.labels, unplaced_seconds),
        "default": scores(truth, default_labels, default_seconds),
    }
    placed = np.flatnonzero((unplaced.labels < 0) & (ours.labels >= 0))
    majority = {
        t: Counter(np.asarray(truth)[ours.labels == t]).most_common(1)[0][0] for t in set(ours.labels) - {-1}
    }
    result["ours_unplaced"]["placed_share"] = round(len(placed) / max(1, int(np.sum(unplaced.labels < 0))), 4)
    result["ours_unplaced"]["placed_precision"] = round(
        float(np.mean([majority[ours.labels[r]] == truth[r] for r in placed])) if len(placed) else 1.0, 4
    )
    sample = [t for t in ours.topics[:3]]
    print(f"  {name}: ours' first topics: " + " | ".join(f"{t.label} ({len(t.members)})" for t in sample))
    return result


def daily_items(days: list[list[tuple[str, str, str, str, str]]], start: date) -> list[list[Item]]:
    """Items per day from ``(key, title, text, lang, source)`` rows, published in the day's working hours."""
    out = []
    for offset, rows in enumerate(days):
        day = start + timedelta(days=offset)
        items = []
        for n, (key, title, text, lang, source) in enumerate(rows):
            when = datetime.combine(day, clock_time(6 + n % 14, n % 60), UTC)
            bench_item = item(key, title, text, when, lang)
            items.append(bench_item.model_copy(update={"source": source, "domain": source}))
        out.append(items)
    return out


def run_days(per_day: list[list[Item]], vectors: Vectors, model: str, start: date, truth: dict[str, str]):  # type: ignore[no-untyped-def]
    """Stories and one topic fit per day; the states after each fit and the planted theme of each story."""
    folder = Path(tempfile.mkdtemp(prefix="topics-bench-"))
    stories = StorySettings()
    store = StoryStore(
        folder / "stories.sqlite",
        stories,
        semantic_threshold_for(stories, model),
        crosslingual_threshold_for(stories, model),
    )
    states, themes = [], {}
    for offset, items in enumerate(per_day):
        store.assign(items, vectors.of(model, [embedding_text(i.title, i.text, 1000) for i in items]))
        for one in items:
            themes.setdefault(str(one.story_id), truth[one.id])
        fit_day(store, folder / "topics", start + timedelta(days=offset), TopicSettings(), model)
        states.append(load_state(folder / "topics"))
    return states, themes


def kept_ids(states, themes, leave_out: set[str], first: int = 0) -> float:  # type: ignore[no-untyped-def]
    """The share of stories in two consecutive fits (from fit ``first`` on) that keep their topic id."""
    kept = total = 0
    for before, after in zip(states[first:], states[first + 1 :], strict=False):
        old, new = before.story_topics(), after.story_topics()
        for story in old.keys() & new.keys():
            if themes.get(story) not in leave_out:
                total += 1
                kept += old[story] == new[story]
    return round(kept / total, 4) if total else 0.0


def calendar_stability(vectors: Vectors, days: int, seed: int = 11) -> dict[str, object]:
    world = build_calendar(seed=seed, start=date(2026, 11, 2), days=days)
    start = date(2026, 11, 2)
    rows: list[list[tuple[str, str, str, str, str]]] = [[] for _ in range(days)]
    for a in world.articles:
        rows[(a.published.date() - start).days].append(
            (a.id, a.title, "\n".join(a.paragraphs), a.lang, a.site)
        )
    truth = {a.id: a.topic for a in world.articles}
    states, themes = run_days(daily_items(rows, start), vectors, MULTILINGUAL, start, truth)

    def holder_of(day: date, theme: str) -> int | None:
        """The topic holding most of ``theme``'s stories after the fit of ``day``."""
        state = states[(day - start).days]
        counts = Counter(t.id for t in state.active() for s in t.stories if themes.get(s) == theme)
        return counts.most_common(1)[0][0] if counts else None

    def theme_of(day: date, topic_id: int, before: bool = False) -> str:
        """The planted theme most of a topic's stories have, in the state after the fit of ``day`` (or
        before it: a split's or merge's parents as they were)."""
        state = states[(day - start).days - (1 if before else 0)]
        topic = state.topics.get(topic_id)
        counts = Counter(themes.get(s) for s in topic.stories) if topic else Counter()
        return str(counts.most_common(1)[0][0]) if counts else ""

    events = states[-1].lineage
    branches = {"ai-copyright", "ai-safety"}
    splits = [e for e in events if e.kind == "split"]
    split = any({theme_of(e.day, c) for c in e.children} >= branches for e in splits)
    in_steps = any(  # one parent's splits within SPLIT_STEP_DAYS that together name both branches
        {theme_of(e.day, c) for e in splits if e.parents == first.parents and 0 <= (e.day - first.day).days
         < SPLIT_STEP_DAYS for c in e.children} >= branches
        for first in splits
    )  # fmt: skip
    merge_parents = [  # the child is the topic that holds the food crisis (it may keep a parent's id)
        {theme_of(e.day, p, before=True) for p in e.parents}
        for e in events
        if e.kind == "merge" and holder_of(e.day, "food-crisis") in e.children
    ]
    merge = max((len(p & {"wheat-exports", "fertiliser-prices"}) / 2 for p in merge_parents), default=0.0)
    burst = any(e.kind == "new" and theme_of(e.day, e.children[0]) == "solar-tariff" for e in events)
    return {
        "kept_ids": kept_ids(states, themes, PLANTED),
        "kept_ids_full_window": kept_ids(states, themes, PLANTED, first=TopicSettings().window_days - 1),
        "split_found": split,
        "split_found_in_steps": in_steps,
        "merge_recall": merge,
        "burst_found": burst,
        "events": Counter(e.kind for e in events),
        "merges": [  # by the planted theme most of each topic's stories have
            f"{e.day}: {' + '.join(theme_of(e.day, p, before=True) for p in e.parents)} -> "
            f"{' + '.join(theme_of(e.day, c) for c in e.children)}"
            for e in events
            if e.kind == "merge"
        ],
    }


def bbc_stability(rows: list[Row], vectors: Vectors, model: str, days: int = 14) -> dict[str, object]:
    order = np.random.default_rng(5).permutation(len(rows))
    per_day: list[list[tuple[str, str, str, str, str]]] = [[] for _ in range(days)]
    truth = {}
    for position, index in enumerate(order):
        title, text, label, lang = rows[int(index)]
        per_day[position * days // len(rows)].append((f"bbc{index}", title, text, lang, "bbc"))
        truth[f"bbc{index}"] = label
    start = date(2026, 1, 5)
    states, themes = run_days(daily_items(per_day, start), vectors, model, start, truth)
    final = states[-1].story_topics()
    in_window = [story for story in themes if story in final]
    last_nmi = normalized_mutual_info_score([themes[s] for s in in_window], [final[s] for s in in_window])
    return {
        "kept_ids": kept_ids(states, themes, set()),
        "kept_ids_full_window": kept_ids(states, themes, set(), first=TopicSettings().window_days - 1),
        "last_fit_nmi": round(float(last_nmi), 4),
        "events": Counter(e.kind for e in states[-1].lineage),  # nothing is planted: splits, merges are noise
        "days": days,
        "window_days": TopicSettings().window_days,
    }


def scale_child(count: int, data: Path) -> dict[str, float]:
    """One fit of ``count`` generated stories: BBC-like vectors (a real vector plus noise)."""
    rng = np.random.default_rng(7)
    base = rng.normal(size=(400, 384)).astype(np.float32)
    cached = Path.home() / ".cache" / "opinionwatch" / "bench-topics.sqlite"
    if cached.exists() and (data / "bbc_news_en").exists():
        rows = load_sets(data, [])["bbc_news_en"]
        base = Vectors(cached).of(MULTILINGUAL, [embedding_text(t, x, 1000) for t, x, _, _ in rows[:400]])
    picks = rng.integers(0, len(base), size=count)
    vectors = base[picks] + 0.02 * rng.normal(size=(count, base.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = [
        TopicDoc(f"g{n}", f"story {n}", f"generated story {n} topic{picks[n]}", "en", date(2026, 1, 1))
        for n in range(count)
    ]
    started = time.monotonic()
    fit = fit_topics(docs, vectors, FitOptions())
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "stories": count,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "topics": len(fit.topics),
    }


def warm_up(count: int = 5000) -> float:
    """UMAP and pynndescent compile their numba code on a process's first fits (both the small-data and
    the large-data paths): done once here so that each set's fit time is the fit's own."""
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(count, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = [TopicDoc(f"w{n}", "warm", "warm up", "en", date(2026, 1, 1)) for n in range(count)]
    started = time.monotonic()
    fit_topics(docs, vectors, FitOptions())
    fit_topics(docs[:500], vectors[:500], FitOptions())
    return round(time.monotonic() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--labelled", type=Path, nargs="*", default=[])
    parser.add_argument("--model", default=MULTILINGUAL, help="the model for English sets")
    parser.add_argument("--days", type=int, default=14, help="days of the calendar world")
    parser.add_argument(
        "--calendar-seeds", type=int, nargs="*", default=[3, 5], help="more calendar worlds to run"
    )
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "opinionwatch" / "bench-topics.sqlite"
    )
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child:
        print(json.dumps(scale_child(args.scale_child, args.data)))
        return
    vectors = Vectors(args.cache)
    results: dict[str, object] = {"jit_warmup_seconds": warm_up()}
    sets = load_sets(args.data, args.labelled)
    print(f"{'set':26s} {'config':14s} {'nmi':>6s} {'ari':>6s} {'outl':>6s} {'topics':>6s} {'secs':>6s}")
    for name, rows in sets.items():
        model = MULTILINGUAL if any(lang == "zh" for *_, lang in rows) else args.model
        matrix = vectors.of(model, [embedding_text(t, x, 1000) for t, x, _, _ in rows])
        result = quality(name, rows, matrix)
        results[name] = result
        for config, figures in result.items():
            nmi, ari, outliers = figures["nmi"], figures["ari"], figures["outliers"]
            print(
                f"{name:26s} {config:14s} {nmi:6.3f} {ari:6.3f} {outliers:6.3f} "
                f"{figures['topics']:6d} {figures['seconds']:6.1f}"
            )
    stability: dict[str, object] = {"calendar": calendar_stability(vectors, args.days)}
    stability["calendar_other_seeds"] = {  # the same plan, other texts, hours and sites
        str(seed): calendar_stability(vectors, args.days, seed) for seed in args.calendar_seeds
    }
    if "bbc_news_en" in sets:
        stability["bbc_news_en"] = bbc_stability(sets["bbc_news_en"], vectors, args.model)
    results["stability"] = stability
    print("stability:", json.dumps(stability))
    if not args.skip_scale:
        child = subprocess.run(
            [sys.executable, __file__, "--scale-child", str(args.scale), "--data", str(args.data)],
            capture_output=True,
            text=True,
            check=True,
        )
        results["scale"] = json.loads(child.stdout.strip().splitlines()[-1])
        print("scale:", json.dumps(results["scale"]))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
