"""Training and cross-validating the sentiment model from labelled texts.

Labelled data comes from the public development sets (:func:`development_sets`) or a user's own JSONL
files, one object a line: ``{"text": ..., "label": "negative"|"neutral"|"positive", "lang": "en"|"zh"}``
with an optional ``"title"``. One model is fitted per language over every set of that language.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from nlp.embed import embedding_text
from nlp.records import SentimentLabel
from nlp.sentiment_lexicon import LEXICONS, Lexicon
from nlp.sentiment_model import (
    FEATURES,
    FORMAT,
    LABELS,
    MAX_CHARS,
    LanguageHead,
    SentimentModel,
    featurizer,
    text_features,
)

TEXT_C = 3.0
VECTOR_C = 30.0
TEXT_WEIGHT = {"zh": 2.0}
"""How much the text part counts beside the vector head (1.0 unless listed): chosen by cross-validation
on the development sets (Chinese posts gain from characters far more than English ones)."""
NEUTRAL_BELOW = 0.7
Embed = Callable[[list[str]], np.ndarray]


class LabelledDataError(ValueError):
    """A labelled file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Labelled:
    text: str
    label: SentimentLabel
    lang: str
    title: str = ""

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text


def read_labelled(path: Path) -> list[Labelled]:
    """A labelled JSONL file; a bad line stops with its file and line number."""
    examples = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = row["label"]
                if label not in LABELS:
                    raise ValueError(f"label {label!r} is not one of {', '.join(LABELS)}")
                examples.append(
                    Labelled(str(row["text"]), label, str(row["lang"]), str(row.get("title", "")))
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise LabelledDataError(f"{path}:{number}: {exc!s} (expected text, label, lang)") from None
    if not examples:
        raise LabelledDataError(f"{path}: no labelled lines")
    return examples


def development_sets(data_dir: Path) -> tuple[dict[str, list[Labelled]], list[str]]:
    """The public sentiment sets found under ``data_dir`` (see its MANIFEST.md), and those missing."""
    readers = {
        "tweeteval": _tweeteval,
        "financial_phrasebank": _phrasebank,
        "weibo": lambda d: _zh_csv(d / "zh_sentiment" / "weibo_senti_100k_subset2400.csv"),
        "chnsenticorp": lambda d: _zh_csv(d / "zh_sentiment" / "ChnSentiCorp_htl_all.csv"),
    }
    found, missing = {}, []
    for name, reader in readers.items():
        try:
            found[name] = reader(data_dir)
        except FileNotFoundError:
            missing.append(name)
    return found, missing


def _tweeteval(data_dir: Path) -> list[Labelled]:
    folder = data_dir / "tweeteval_en" / "sentiment"
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / "val_labels.txt").read_text(encoding="utf-8").split()
    return [Labelled(text, LABELS[int(label)], "en") for text, label in zip(texts, labels, strict=True)]


def _phrasebank(data_dir: Path) -> list[Labelled]:
    path = data_dir / "financial_phrasebank_en" / "Sentences_50Agree.txt"
    examples = []
    for line in path.read_text(encoding="latin-1").splitlines():
        sentence, _, label = line.rpartition("@")
        if label.strip() in LABELS:
            examples.append(Labelled(sentence.strip(), label.strip(), "en"))  # type: ignore[arg-type]
    return examples


def _zh_csv(path: Path) -> list[Labelled]:
    with path.open(encoding="utf-8-sig", newline="") as rows:
        return [
            Labelled(row["review"] or "", "positive" if row["label"] == "1" else "negative", "zh")
            for row in csv.DictReader(rows)
        ]


def embed_sets(sets: dict[str, list[Labelled]], embed: Embed, lead_chars: int) -> dict[str, np.ndarray]:
    """Each set's embeddings, of the text the pipeline embeds for an item (:func:`embedding_text`)."""
    return {
        name: embed([embedding_text(example.title, example.text, lead_chars) for example in examples])
        for name, examples in sets.items()
    }


def fit(
    sets: dict[str, list[Labelled]],
    vectors: dict[str, np.ndarray] | None,
    embedding_model: str,
    seed: int = 0,
) -> SentimentModel:
    """One model per language over every set of that language; ``vectors`` (per set, one row per example,
    from the pipeline's embedding model) add the vector heads."""
    heads, languages = {}, {}
    for language in sorted({example.lang for examples in sets.values() for example in examples}):
        rows = [
            (name, i) for name, examples in sets.items() for i, e in enumerate(examples) if e.lang == language
        ]
        texts = [sets[name][i].full_text for name, i in rows]
        labels = np.array([sets[name][i].label for name, i in rows])
        matrix = np.stack([vectors[name][i] for name, i in rows]) if vectors else None
        heads[language] = _fit_head(texts, labels, matrix, language, seed)
        languages[language] = {
            "classes": list(heads[language].classes),
            "text_weight": heads[language].text_weight,
            "neutral_below": heads[language].neutral_below,
            **_lexicon_meta(heads[language].lexicon),
            "trained_on": {name: sum(1 for n, _ in rows if n == name) for name in sets if (name, 0) in rows},
        }
    meta = {
        "format": FORMAT,
        "features": FEATURES,
        "embedding_model": embedding_model,
        "languages": languages,
    }
    return SentimentModel(meta, heads)


def _fit_head(
    texts: list[str], labels: np.ndarray, vectors: np.ndarray | None, language: str, seed: int
) -> LanguageHead:
    featurize = featurizer(FEATURES)
    counts = featurize([text[:MAX_CHARS] for text in texts])
    document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1 + counts.shape[0]) / (1 + document_frequency)) + 1.0).astype(np.float32)
    lexicon = Lexicon.load(LEXICONS[language]) if language in LEXICONS else None
    text_model = _logistic(TEXT_C, seed).fit(text_features(featurize, idf, lexicon, texts), labels)
    vector_model = _logistic(VECTOR_C, seed).fit(vectors, labels) if vectors is not None else None
    return LanguageHead(
        classes=tuple(text_model.classes_),
        idf=idf,
        text_coef=_rows(text_model),
        text_bias=_bias(text_model),
        vector_coef=_rows(vector_model) if vector_model is not None else None,
        vector_bias=_bias(vector_model) if vector_model is not None else None,
        text_weight=TEXT_WEIGHT.get(language, 1.0),
        neutral_below=NEUTRAL_BELOW,
        lexicon=lexicon,
    )


def _lexicon_meta(lexicon: Lexicon | None) -> dict[str, dict[str, str]]:
    return {"lexicon": {"name": lexicon.name, "sha256": lexicon.sha256}} if lexicon else {}


def _logistic(c: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)


def _rows(model: LogisticRegression) -> np.ndarray:
    """One row of weights per class (a binary model keeps one row: the second class against the first)."""
    coef = model.coef_.astype(np.float32)
    return np.vstack([np.zeros_like(coef), coef]) if len(model.classes_) == 2 else coef


def _bias(model: LogisticRegression) -> np.ndarray:
    bias = model.intercept_.astype(np.float32)
    return np.concatenate([np.zeros_like(bias), bias]) if len(model.classes_) == 2 else bias


def cross_validate(
    sets: dict[str, list[Labelled]],
    vectors: dict[str, np.ndarray] | None,
    embedding_model: str,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, list[SentimentLabel]]:
    """Each set's predictions, every example predicted by a model that never saw it: ``folds``-fold over
    the set, each fold's model trained on the rest of the set and all other sets of its languages.

    A set whose gold labels have no neutral class is predicted by polarity (positive or negative, as the
    model leans); the product would call its least confident texts neutral (:data:`NEUTRAL_BELOW`)."""
    predictions: dict[str, list[SentimentLabel]] = {}
    for name, examples in sets.items():
        languages = {example.lang for example in examples}
        predicted: list[SentimentLabel] = ["neutral"] * len(examples)
        labels = [example.label for example in examples]
        polarity_only = "neutral" not in labels
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        for fold, (train, test) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
            training = {
                other: rows
                for other, rows in sets.items()
                if other != name and languages & {example.lang for example in rows}
            }
            training[name] = [examples[i] for i in train]
            train_vectors = None
            if vectors is not None:
                train_vectors = {other: vectors[other] for other in training if other != name}
                train_vectors[name] = vectors[name][train]
            model = fit(training, train_vectors, embedding_model, seed)
            test_vectors = vectors[name][test] if vectors is not None else None
            judged = _predict(model, [examples[i] for i in test], test_vectors, polarity_only)
            for position, label in zip(test, judged, strict=True):
                predicted[position] = label
            if progress:
                progress(name, fold + 1)
        predictions[name] = predicted
    return predictions


def _predict(
    model: SentimentModel, examples: list[Labelled], vectors: np.ndarray | None, polarity_only: bool
) -> list[SentimentLabel]:
    labels: list[SentimentLabel] = ["neutral"] * len(examples)
    for language in {example.lang for example in examples}:
        positions = [p for p, example in enumerate(examples) if example.lang == language]
        head = model.head(language)
        features = model.features(head, [examples[p].full_text for p in positions])
        log_probs = head.log_probs(features, vectors[positions] if vectors is not None else None)
        if polarity_only and "neutral" in head.classes:
            log_probs[:, head.classes.index("neutral")] = -np.inf
        judged = (
            [head.classes[int(row.argmax())] for row in log_probs]
            if polarity_only
            else [sentiment.label for sentiment in head.judge(log_probs)]
        )
        for position, label in zip(positions, judged, strict=True):
            labels[position] = label
    return labels
