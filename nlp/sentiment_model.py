"""The sentiment model: per language, a linear model over character n-grams of the text (and, where the
language has one, a sentiment lexicon's word valences: :mod:`nlp.sentiment_lexicon`) and a linear head
over the sentence embedding the pipeline already computed (no second encoder pass).

Both parts are logistic regressions; a document's log-probabilities are the vector head's plus
``text_weight`` times the text model's, so the text part alone also judges short clauses (the sentiment
toward an entity) without any vector. A language trained without a neutral class (the Chinese sets are
positive/negative only) calls a text neutral when neither side reaches ``neutral_below``.

Stored as ``sentiment.safetensors`` (weights) and ``sentiment.json`` (format, features, languages, what
each was trained on); the shipped default lives in ``nlp/data/sentiment`` (see NOTICE for its data).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from nlp.char_ngrams import char_ngram_counts
from nlp.records import Sentiment, SentimentLabel
from nlp.sentiment_lexicon import Lexicon, LexiconError

FORMAT = 1
LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
DEFAULT_DIR = Path(__file__).parent / "data" / "sentiment"
FEATURES = {"analyzer": "char_words", "ngram_range": [1, 3], "n_features": 2**17}
"""Character 1-3-grams within words, hashed in numpy (:mod:`nlp.char_ngrams`); models saved earlier, with
``"analyzer": "char_wb"``, keep reading scikit-learn's n-grams and hashes, which their weights expect."""
MAX_CHARS = 4000
"""Characters of a text that are read (the title and lead carry the tone; 1 MB of text costs no more)."""
FALLBACK_LANGUAGE = "en"


class SentimentModelError(Exception):
    """The model folder is missing, of another format, or does not fit the embedding model."""


Featurize = Callable[[list[str]], sparse.csr_matrix]


def featurizer(features: dict[str, Any]) -> Featurize:
    """Texts to n-gram counts, a row per text, as ``features`` (a model's metadata) says."""
    longest, n_features = int(features["ngram_range"][1]), int(features["n_features"])
    if features["analyzer"] == "char_words":
        return lambda texts: char_ngram_counts(texts, longest, n_features)
    return HashingVectorizer(
        analyzer=features["analyzer"],
        ngram_range=tuple(features["ngram_range"]),
        n_features=int(features["n_features"]),
        alternate_sign=False,
        norm=None,
        lowercase=True,
    ).transform


def text_features(
    featurize: Featurize, idf: np.ndarray, lexicon: Lexicon | None, texts: list[str]
) -> sparse.csr_matrix:
    """The text part's input: the n-grams' tf-idf, then the lexicon's figures (when there is one)."""
    clipped = [text[:MAX_CHARS] for text in texts]
    weighted = tfidf(featurize(clipped), idf)
    if lexicon is None:
        return weighted
    return sparse.hstack([weighted, sparse.csr_matrix(lexicon.scores(clipped))], format="csr")


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear term frequency times idf, each row scaled to unit length."""
    weighted = counts.astype(np.float32).tocsr()
    weighted.data = 1.0 + np.log(weighted.data)
    weighted = weighted.multiply(idf.astype(np.float32)).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    return sparse.diags(1.0 / np.where(norms == 0, 1.0, norms)).dot(weighted).tocsr()


@dataclass
class LanguageHead:
    classes: tuple[SentimentLabel, ...]
    idf: np.ndarray
    text_coef: np.ndarray
    text_bias: np.ndarray
    vector_coef: np.ndarray | None
    vector_bias: np.ndarray | None
    text_weight: float
    neutral_below: float
    lexicon: Lexicon | None = None

    def text_log_probs(self, features: sparse.csr_matrix) -> np.ndarray:
        return _log_softmax(np.asarray(features @ self.text_coef.T) + self.text_bias)

    def log_probs(self, features: sparse.csr_matrix, vectors: np.ndarray | None) -> np.ndarray:
        return self.fuse(self.text_log_probs(features), vectors)

    def fuse(self, text: np.ndarray, vectors: np.ndarray | None) -> np.ndarray:
        """Log-probabilities over :attr:`classes`, a row per text: the vector head's plus ``text_weight``
        times the text part's; the text part alone without vectors, without a vector head, or with vectors
        of another size (another embedder)."""
        if vectors is None or self.vector_coef is None or self.vector_bias is None:
            return text
        if vectors.shape[-1] != self.vector_coef.shape[1]:
            return text
        vector = _log_softmax(np.asarray(vectors, dtype=np.float32) @ self.vector_coef.T + self.vector_bias)
        return _log_softmax(vector + self.text_weight * text)

    def judge(self, log_probs: np.ndarray) -> list[Sentiment]:
        probs = np.exp(log_probs)
        judged = []
        for row in probs:
            best = int(row.argmax())
            label, confidence = self.classes[best], float(row[best])
            if "neutral" not in self.classes and confidence < self.neutral_below:
                label, confidence = "neutral", 1.0 - float(row.max() - row.min())
            judged.append(Sentiment(label=label, confidence=round(confidence, 3)))
        return judged


class SentimentModel:
    """Loaded once; ``classify`` and ``classify_text`` are plain functions over texts (thread-safe)."""

    def __init__(self, meta: dict[str, Any], heads: dict[str, LanguageHead]) -> None:
        self.meta = meta
        self.heads = heads
        self.featurize = featurizer(meta["features"])

    @classmethod
    def load(cls, folder: Path | None = None, embedding_model: str | None = None) -> SentimentModel:
        """The model in ``folder`` (default: the shipped one). Its vector heads are dropped, with only the
        text part used, when it was trained on another ``embedding_model`` than the pipeline's."""
        folder = folder or DEFAULT_DIR
        try:
            meta = json.loads((folder / "sentiment.json").read_text(encoding="utf-8"))
            tensors = load_file(str(folder / "sentiment.safetensors"))
        except (OSError, ValueError) as exc:
            raise SentimentModelError(
                f"cannot read the sentiment model in {folder}: {exc}; train one with "
                "`opinionwatch models train sentiment`, or unset sentiment.model for the shipped default"
            ) from None
        if meta.get("format") != FORMAT:
            raise SentimentModelError(f"{folder} holds sentiment format {meta.get('format')}, not {FORMAT}")
        same_model = embedding_model is None or _model_name(embedding_model) == meta.get("embedding_model")
        heads = {}
        lexicons: dict[str, Lexicon] = {}
        for language, info in meta["languages"].items():
            has_vector = same_model and f"{language}.vector_coef" in tensors
            heads[language] = LanguageHead(
                classes=tuple(info["classes"]),
                idf=tensors[f"{language}.idf"].astype(np.float32),
                text_coef=tensors[f"{language}.text_coef"].astype(np.float32),
                text_bias=tensors[f"{language}.text_bias"].astype(np.float32),
                vector_coef=tensors[f"{language}.vector_coef"].astype(np.float32) if has_vector else None,
                vector_bias=tensors[f"{language}.vector_bias"].astype(np.float32) if has_vector else None,
                text_weight=float(info["text_weight"]),
                neutral_below=float(info["neutral_below"]),
                lexicon=_trained_lexicon(folder, info.get("lexicon"), lexicons),
            )
        return cls(meta, heads)

    def save(self, folder: Path) -> None:
        """Write the weights and metadata atomically (a temporary name, then renamed)."""
        folder.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, np.ndarray] = {}
        for language, head in self.heads.items():
            tensors[f"{language}.idf"] = head.idf.astype(np.float16)
            tensors[f"{language}.text_coef"] = head.text_coef.astype(np.float16)
            tensors[f"{language}.text_bias"] = head.text_bias.astype(np.float32)
            if head.vector_coef is not None and head.vector_bias is not None:
                tensors[f"{language}.vector_coef"] = head.vector_coef.astype(np.float32)
                tensors[f"{language}.vector_bias"] = head.vector_bias.astype(np.float32)
        weights, meta = folder / "sentiment.safetensors.tmp", folder / "sentiment.json.tmp"
        save_file({name: np.ascontiguousarray(array) for name, array in tensors.items()}, str(weights))
        meta.write_text(json.dumps(self.meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        weights.replace(folder / "sentiment.safetensors")
        meta.replace(folder / "sentiment.json")

    def head(self, language: str) -> LanguageHead:
        """The head of ``language``; else English's; else (a model trained on one other language) its own."""
        found = self.heads.get(language.split("-")[0]) or self.heads.get(FALLBACK_LANGUAGE)
        return found or next(iter(self.heads.values()))

    def features(self, head: LanguageHead, texts: list[str]) -> sparse.csr_matrix:
        return text_features(self.featurize, head.idf, head.lexicon, texts)

    def classify(self, texts: list[str], language: str, vectors: np.ndarray | None = None) -> list[Sentiment]:
        """Document sentiment of texts in one language, with their embeddings when there are some."""
        if not texts:
            return []
        head = self.head(language)
        return head.judge(head.log_probs(self.features(head, texts), vectors))

    def text_log_probs(self, texts: list[str], language: str) -> np.ndarray:  # one call for many texts
        """Log-probabilities over :data:`LABELS` from the text part only (a missing class: -inf)."""
        head = self.head(language)
        found = head.text_log_probs(self.features(head, texts))
        full = np.full((len(texts), len(LABELS)), -np.inf, dtype=np.float32)
        for column, label in enumerate(head.classes):
            full[:, LABELS.index(label)] = found[:, column]
        return full

    def judge(self, log_probs: np.ndarray, language: str) -> Sentiment:
        """One :class:`Sentiment` from log-probabilities over :data:`LABELS`."""
        head = self.head(language)
        columns = [LABELS.index(label) for label in head.classes]
        return head.judge(_log_softmax(log_probs[None, columns]))[0]


def _trained_lexicon(
    folder: Path, trained: dict[str, str] | None, loaded: dict[str, Lexicon]
) -> Lexicon | None:
    """The lexicon a head was trained with (``{"name", "sha256"}`` in its metadata), loaded once per name;
    another version of it than the one trained with is refused (the weights would read other figures)."""
    if not trained:
        return None
    try:
        lexicon = loaded.get(trained["name"]) or Lexicon.load(trained["name"])
    except LexiconError as exc:
        raise SentimentModelError(f"{folder}: {exc}") from None
    if lexicon.sha256 != trained["sha256"]:
        raise SentimentModelError(
            f"{folder} was trained with another version of the {lexicon.name} lexicon than the one "
            "installed: retrain it with `opinionwatch models train sentiment`"
        )
    loaded[lexicon.name] = lexicon
    return lexicon


def _model_name(model: str) -> str:
    return Path(model).name


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
