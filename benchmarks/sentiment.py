"""Sentiment quality on labelled sets, entity-level sentiment on the news world, and the stage's speed.

    python benchmarks/sentiment.py [--data ../shared/data] [--labelled FILE.jsonl ...] [--folds 5]

Sets (sets DIR lacks are skipped with a note): tweeteval (validation split), financial_phrasebank (50%
agreement), weibo and chnsenticorp (zh_sentiment), and each ``--labelled`` file, reported under its stem.
Nothing is scored by a model that saw it: each set is cross-validated (``--folds``, stratified, seeded),
each fold's model trained, exactly as ``opinionwatch models train sentiment`` trains the shipped default,
on the rest of the set and every other set of its language. Sets labelled positive/negative only are
scored by polarity; ``neutral_share`` says how many the product would call neutral at its floor.

Per set: accuracy, macro-F1, macro-recall, n, and the confusion (rows gold, columns predicted). Targets:
Chinese reviews and posts accuracy >= 0.90; financial news accuracy >= 0.85; tweets macro-recall >= 0.65.

Entity: the news world's planted contrast articles (negative about one watched entity, positive about
another) through the real stages (watchlists, ``nlp.sentiment``, the shipped model): accuracy of the
sentiment toward each entity, beside the accuracy of giving every entity the article's own label. Target
>= 0.9.

Speed: items/s of the sentiment stage (risk terms, reading and settling, with the clauses' embeddings;
on the news world's pages, their own vectors given).

Ends with one JSON line keyed by set name, each {"accuracy", "macro_f1", "macro_recall", "n"}, plus
"entity" and "speed".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from config.loader import load_settings  # noqa: E402
from config.settings import EmbeddingSettings  # noqa: E402
from nlp.embed import CachedEmbedder, embedding_text  # noqa: E402
from nlp.onnx_embed import embedder_for  # noqa: E402
from nlp.records import Item, Mention  # noqa: E402
from nlp.risk import RiskMatcher  # noqa: E402
from nlp.sentiment import read_sentiments, settle_sentiments  # noqa: E402
from nlp.sentiment_model import LABELS, SentimentModel  # noqa: E402
from nlp.sentiment_train import (  # noqa: E402
    NEUTRAL_BELOW,
    Labelled,
    cross_validate,
    development_sets,
    embed_sets,
    fit,
    read_labelled,
)
from nlp.watchlists import WatchlistMatcher  # noqa: E402
from opinionwatch.newsworld import build_world, content  # noqa: E402

CACHE = Path("~/.cache/opinionwatch/bench-sentiment.sqlite").expanduser()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--labelled", type=Path, nargs="*", default=[])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = EmbeddingSettings()
    embedder = CachedEmbedder(embedder_for(settings, settings.models_dir.expanduser()), CACHE)
    sets, missing = development_sets(args.data)
    for name in missing:
        print(f"skipped {name}: not in {args.data}")
    for path in args.labelled:
        sets[path.stem] = read_labelled(path)
    figures: dict[str, object] = {}
    if sets:
        figures.update(score_sets(sets, embedder, settings, args.folds, args.seed))
    model = SentimentModel.load(embedding_model=settings.model)
    figures["entity"] = entity_figures(model, embedder)
    figures["speed"] = speed(model, embedder)
    print(json.dumps(figures))


def score_sets(
    sets: dict[str, list[Labelled]],
    embedder: CachedEmbedder,
    settings: EmbeddingSettings,
    folds: int,
    seed: int,
) -> dict[str, dict[str, object]]:
    started = time.monotonic()
    vectors = embed_sets(sets, embedder.embed, settings.lead_chars)
    print(f"embedded {sum(len(rows) for rows in sets.values())} texts in {time.monotonic() - started:.0f} s")
    predictions = cross_validate(
        sets,
        vectors,
        settings.model,
        folds,
        seed,
        progress=lambda name, fold: print(f"  {name}: fold {fold}"),
    )
    results = {}
    print(f"\n{'set':<22}{'n':>7}{'accuracy':>10}{'macro_f1':>10}{'macro_rec':>11}  confusion (gold rows)")
    for name, examples in sets.items():
        gold = [example.label for example in examples]
        labels = [label for label in LABELS if label in gold]
        predicted = predictions[name]
        figures: dict[str, object] = {
            "accuracy": round(float(accuracy_score(gold, predicted)), 4),
            "macro_f1": round(float(f1_score(gold, predicted, labels=labels, average="macro")), 4),
            "macro_recall": round(float(recall_score(gold, predicted, labels=labels, average="macro")), 4),
            "n": len(gold),
            "labels": labels,
            "confusion": confusion_matrix(gold, predicted, labels=labels).tolist(),
        }
        if "neutral" not in gold:
            figures["neutral_share"] = _neutral_share(sets, vectors, name, settings.model, seed)
        results[name] = figures
        print(
            f"{name:<22}{len(gold):>7}{figures['accuracy']:>10.3f}{figures['macro_f1']:>10.3f}"
            f"{figures['macro_recall']:>11.3f}  {figures['confusion']}"
        )
    return results


def _neutral_share(
    sets: dict[str, list[Labelled]], vectors: dict[str, np.ndarray], name: str, model_name: str, seed: int
) -> float:
    """The share of a polarity-only set that a model trained on the other sets calls neutral (below the
    confidence floor), as the product would."""
    examples = sets[name]
    others = {
        other: rows for other, rows in sets.items() if other != name and rows[0].lang == examples[0].lang
    }
    if not others:
        return float("nan")
    model = fit(others, {other: vectors[other] for other in others}, model_name, seed)
    judged = model.classify([e.full_text for e in examples], examples[0].lang, vectors[name])
    share = sum(1 for sentiment in judged if sentiment.label == "neutral") / len(judged)
    print(f"  {name}: {share:.1%} would be neutral at the {NEUTRAL_BELOW} floor")
    return round(share, 4)


def contrast_items() -> tuple[list[Item], list[dict[str, str]]]:
    """The planted contrast articles as processed items (real watchlist matching), and their truth."""
    settings = load_settings(REPO / "config" / "demo.yaml")
    matcher, risk = WatchlistMatcher(settings.watchlists), RiskMatcher(settings.watchlists)
    items, truth = [], []
    for number, story in enumerate(content.CONTRAST):
        body = "\n\n".join(story.paragraphs)
        mentions, _ = matcher.match(story.title, body)
        item = _item(f"contrast-{number}", story.title, body, story.lang, mentions)
        item.risk_terms = risk.match(item)  # as the pipeline does before reading sentiment
        items.append(item)
        truth.append(dict(story.tone))
    return items, truth


def entity_figures(model: SentimentModel, embedder: CachedEmbedder) -> dict[str, object]:
    items, truth = contrast_items()
    read_sentiments(items, model)
    vectors = embedder.embed([embedding_text(item.title, item.text, 1000) for item in items])
    settle_sentiments(items, model, vectors, embedder.embed)
    right = article_right = total = 0
    print(f"\n{'article':<12}{'entity':<10}{'truth':<10}{'entity-level':<22}{'article label':<14}")
    for item, tones in zip(items, truth, strict=True):
        found = {s.entity: s for s in item.entity_sentiments}
        for entity, label in tones.items():
            judged = found.get(entity)
            right += judged is not None and judged.label == label
            article_right += item.sentiment.label == label
            total += 1
            shown = f"{judged.label} ({judged.confidence:.2f})" if judged else "not found"
            print(f"{item.id:<12}{entity:<10}{label:<10}{shown:<22}{item.sentiment.label:<14}")
    figures = {
        "accuracy": round(right / total, 4),
        "article_label_accuracy": round(article_right / total, 4),
        "n": total,
    }
    accuracy, article = figures["accuracy"], figures["article_label_accuracy"]
    print(f"entity-level accuracy {accuracy:.3f}; the article's label {article:.3f}")
    return figures


def speed(model: SentimentModel, embedder: CachedEmbedder) -> dict[str, float]:
    """Items/s of the sentiment stage on the news world's articles (their embeddings computed first)."""
    settings = load_settings(REPO / "config" / "demo.yaml")
    matcher, risk = WatchlistMatcher(settings.watchlists), RiskMatcher(settings.watchlists)
    world = build_world(seed=7, background_per_site=60)
    items = []
    for article in world.articles:
        body = "\n\n".join(article.paragraphs)
        mentions, _ = matcher.match(article.title, body)
        items.append(_item(article.id, article.title, body, article.lang, mentions))
    vectors = embedder.embed([embedding_text(item.title, item.text, 1000) for item in items])
    started = time.monotonic()
    for item in items:
        item.risk_terms = risk.match(item)
    read_sentiments(items, model)
    settle_sentiments(items, model, vectors, embedder.embed)
    seconds = time.monotonic() - started
    figures = {
        "items": len(items),
        "seconds": round(seconds, 3),
        "items_per_s": round(len(items) / seconds, 1),
    }
    print(
        f"\nsentiment stage: {figures['items']} items in {seconds:.2f} s = {figures['items_per_s']} items/s"
    )
    return figures


def _item(item_id: str, title: str, body: str, language: str, mentions: list[Mention]) -> Item:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Item(
        id=item_id, url=f"http://example.test/{item_id}", source="bench", domain="example.test", title=title,
        text=body, published=now, fetched_at=now, language=language, mentions=mentions,
    )  # fmt: skip


if __name__ == "__main__":
    main()
