"""Topics with BERTopic over stories and their stored vectors: one fit, deterministic, both languages.

``fit_topics`` clusters one representative per story (reprints never make a topic) with the vectors the
pipeline stored (no second encoder pass). The configuration differs from BERTopic's defaults where
news monitoring needs it, each measured in ``benchmarks/topics.py``:

- UMAP is seeded (``random_state``), so the same stories give the same topics;
- the smallest topic grows with the corpus (``min_topic_size`` by default half the square root of the
  number of stories, at least 5), so short texts do not scatter into hundreds of tiny topics and
  outliers (BERTopic's fixed 10 on 20,000 Chinese titles leaves about half the titles as outliers), and
  no topic takes more than a quarter of the stories (``MAX_TOPIC_SHARE``), so they do not collapse into
  two either;
- outliers are placed on their nearest topic when they are as close to its centroid as its own members
  are (``FLOOR_PERCENTILE``), since a monitoring user wants every story placed but not forced into the
  wrong topic; the share left out and the share placed this way are reported;
- keywords come from c-TF-IDF over segmented Chinese and whole Latin words (``nlp.topic_text``), with
  frequent words damped (``reduce_frequent_words``); the label is the top keywords, and the title of the
  story nearest the centroid represents the topic.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from nlp.normalize import HAN_RANGES
from nlp.topic_text import topic_words

FLOOR_PERCENTILE = 5
"""A story HDBSCAN left out, or an item between fits, joins its nearest topic when it is as close to the
centroid as 95% of the topic's members are: a floor per topic, since how tight a topic is varies with
the model (e5 compresses cosines into 0.7-1.0), the language and the theme. benchmarks/topics.py
measures the share placed and what it costs (precision of placement on labelled sets)."""
MAX_TOPIC_SHARE = 0.25
"""No topic may hold more than this share of the window's stories. HDBSCAN's excess-of-mass selection can
prefer one giant parent to its children, and which it prefers flips with noise in the last decimals:
20,000 Chinese titles came out as 2 topics (NMI 0.20) or 9 (0.66) from vectors that differed by 5e-5.
With the cap: 11 and 9 topics, NMI 0.67 and 0.66; BBC 0.77 and 0.80; cnews 0.87 both. The cap refuses a
cluster with no sub-clusters too, and HDBSCAN then makes all its points outliers: the week's biggest
story would vanish from the topics (the calendar world, seed 3, on its 14th day: the food crisis, 71 of
277 stories, all outliers). Such a cluster is kept whole (``_keep_capped_leaves``)."""
MIN_STORIES = 20
"""Fewer stories than this make no topics: UMAP and HDBSCAN need a neighbourhood to work with."""
KEYWORDS = 10
DECIMALS = 3
"""Vectors are rounded to this many decimals for clustering: an encoder's output differs in the last bits
with the batch it was computed in, which would otherwise change the fit."""
LABEL_WORDS = 3
HAN = re.compile(f"[{HAN_RANGES}]")


@dataclass(frozen=True)
class TopicDoc:
    """One story, as topics see it: its representative's text, and how far it reached."""

    story_id: str
    title: str
    text: str
    language: str
    day: date
    items: int = 1
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class FittedTopic:
    members: tuple[int, ...]
    """Rows of the fitted documents in this topic."""
    centroid: np.ndarray
    keywords: dict[str, tuple[str, ...]]
    """Top keywords per script: ``en`` (Latin words) and ``zh`` (segmented Chinese words)."""
    representative: int
    """The row of the story nearest the centroid."""
    floor: float
    """The cosine to the centroid that 95% of its members reach: how close a newcomer must be."""
    script: str = "en"
    """``zh`` when most of its stories are Chinese: its label is then in Chinese words."""

    @property
    def label(self) -> str:
        other = "en" if self.script == "zh" else "zh"
        words = [
            *self.keywords.get(self.script, ())[:LABEL_WORDS],
            *self.keywords.get(other, ())[:LABEL_WORDS],
        ]
        return ", ".join(words[:LABEL_WORDS]) if words else "(no keywords)"


@dataclass
class TopicFit:
    labels: np.ndarray
    """The topic row of each document, ``-1`` for a story no topic takes."""
    topics: list[FittedTopic]
    outliers_before: float
    """The share HDBSCAN left as outliers, before they were placed on the nearest topic."""

    @property
    def outliers(self) -> float:
        return float(np.mean(self.labels < 0)) if len(self.labels) else 0.0


@dataclass(frozen=True)
class FitOptions:
    seed: int = 42
    min_topic_size: int | None = None
    """``None``: half the square root of the number of stories, at least 5."""
    place_outliers: bool = True
    """Place outliers on their nearest topic (see ``FLOOR_PERCENTILE``); ``False`` leaves them out."""
    assign_threshold: float | None = None
    """A fixed cosine for placing instead of each topic's floor."""


def min_topic_size_for(count: int, configured: int | None) -> int:
    return configured if configured else max(5, round(math.sqrt(count) / 2))


def fit_topics(
    docs: Sequence[TopicDoc], vectors: np.ndarray, options: FitOptions, anchors: Sequence[int] | None = None
) -> TopicFit:
    """Topics of ``docs`` (rows of ``vectors``, normalised); the same input always gives the same fit
    (give the documents in an order that does not depend on arrival: ``topic_docs`` sorts them by text).

    ``anchors``: each document's topic at the last fit, ``-1`` for one it did not hold. They are UMAP's
    targets (BERTopic's semi-supervised ``y``): yesterday's topics pull their stories together, so a
    refit over a window that moved by one day keeps its clusters, while new stories are free to form new
    ones (on BBC cut into 14 days, 0.995 of stories keep their id from one fit to the next, against 0.88
    unanchored; the last fit's NMI is 0.83 against 0.78. With the documents in another order, UMAP gave
    0.98 against 0.90 and 0.78 against 0.80: ids hold either way, NMI moves within that noise)."""
    if len(docs) < MIN_STORIES:
        return TopicFit(labels=np.full(len(docs), -1), topics=[], outliers_before=1.0 if docs else 0.0)
    texts = [doc.text for doc in docs]
    model = _bertopic(len(docs), options)
    steady = np.round(vectors, DECIMALS)  # batch-dependent float noise must not move UMAP's neighbours
    with warnings.catch_warnings():  # UMAP says that a seed means one thread: that is the point
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        y = list(anchors) if anchors is not None and any(a >= 0 for a in anchors) else None
        labels = np.asarray(model.fit_transform(texts, embeddings=steady, y=y)[0])
    labels = _keep_capped_leaves(labels, model.hdbscan_model.condensed_tree_.to_numpy())
    before = float(np.mean(labels < 0))
    if options.place_outliers and (labels >= 0).any():
        labels = place_outliers(labels, vectors, options.assign_threshold)
    languages = [doc.language for doc in docs]
    return TopicFit(labels=labels, topics=describe(texts, labels, vectors, languages), outliers_before=before)


def _bertopic(count: int, options: FitOptions) -> Any:  # BERTopic is untyped
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    size = min_topic_size_for(count, options.min_topic_size)
    return BERTopic(
        umap_model=UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=options.seed
        ),
        hdbscan_model=HDBSCAN(
            min_cluster_size=size,
            max_cluster_size=max(size + 1, int(count * MAX_TOPIC_SHARE)),
            metric="euclidean",
            prediction_data=False,
        ),
        vectorizer_model=CountVectorizer(analyzer=_placeholder_words),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        calculate_probabilities=False,
    )


def _keep_capped_leaves(labels: np.ndarray, tree: np.ndarray) -> np.ndarray:
    """``labels`` with each cluster of HDBSCAN's condensed ``tree`` that has no sub-clusters and whose
    points are all outliers made a topic of its own. Excess of mass selects such a leaf unless an ancestor
    wins, whose label its points then take; all of them outliers means the size cap refused it. The root
    stays as HDBSCAN leaves it (a window that is one blob has no topics)."""
    kept, points = labels.copy(), len(labels)
    if not len(tree):
        return kept
    parents = {int(node) for node in tree["parent"]} - {int(tree["parent"].min())}
    with_subclusters = {int(node) for node in tree["parent"][tree["child"] >= points]}
    for leaf in sorted(parents - with_subclusters):
        members = tree["child"][(tree["parent"] == leaf) & (tree["child"] < points)]
        if len(members) and (kept[members] < 0).all():
            kept[members] = kept.max() + 1
    return kept


def _placeholder_words(text: str) -> list[str]:
    """BERTopic describes its clusters before outliers are placed; ``describe`` does it after, so BERTopic's
    own description is skipped (two fixed words: its c-TF-IDF fails on fewer, and on no words at all)."""
    return ["placeholder", "words"]


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(tokenizer=topic_words, lowercase=False, token_pattern=None)


def place_outliers(labels: np.ndarray, vectors: np.ndarray, threshold: float | None) -> np.ndarray:
    """Each outlier joins the topic whose centroid is nearest if it is as close as that topic's own members
    are (the topic's ``floor``), or at least ``threshold`` when one is set."""
    placed = labels.copy()
    centroids = topic_centroids(labels, vectors)
    floors = (
        member_floors(labels, vectors, centroids) if threshold is None else np.full(len(centroids), threshold)
    )
    for row, topic in zip(
        np.flatnonzero(labels < 0), nearest_topic(vectors[labels < 0], centroids, floors), strict=True
    ):
        placed[row] = topic
    return placed


def member_floors(labels: np.ndarray, vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Per topic, the cosine to its centroid that all but ``FLOOR_PERCENTILE``% of its members reach."""
    return np.array(
        [
            np.percentile(vectors[labels == topic] @ centroids[topic], FLOOR_PERCENTILE)
            for topic in range(len(centroids))
        ]
    )


def topic_centroids(labels: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The normalised mean vector of each topic ``0..max(labels)``, one row each."""
    count = int(labels.max()) + 1 if len(labels) else 0
    centroids = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    for topic in range(count):
        members = vectors[labels == topic]
        if len(members):
            mean = members.mean(axis=0)
            centroids[topic] = mean / (np.linalg.norm(mean) or 1.0)
    return centroids


def describe(
    texts: Sequence[str], labels: np.ndarray, vectors: np.ndarray, languages: Sequence[str]
) -> list[FittedTopic]:
    """Keywords (c-TF-IDF over each topic's documents, frequent words damped), centroid and representative
    story of every topic in ``labels``."""
    from bertopic.vectorizers import ClassTfidfTransformer

    centroids = topic_centroids(labels, vectors)
    count = len(centroids)
    if count == 0:
        return []
    floors = member_floors(labels, vectors, centroids)
    joined = [" ".join(texts[int(row)] for row in np.flatnonzero(labels == topic)) for topic in range(count)]
    vectorizer = _vectorizer()
    try:
        counts = vectorizer.fit_transform(joined)
        words = np.asarray(vectorizer.get_feature_names_out())
        weights = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(counts).toarray()
    except (ValueError, TypeError):  # no words (only numbers), or one: c-TF-IDF cannot weigh them
        words, weights = np.asarray([]), np.zeros((count, 0))
    topics = []
    for topic in range(count):
        members = np.flatnonzero(labels == topic)
        nearest = members[np.argmax(vectors[members] @ centroids[topic])]
        ranked = [str(words[i]) for i in np.argsort(-weights[topic], kind="stable") if weights[topic, i] > 0]
        topics.append(
            FittedTopic(
                members=tuple(int(m) for m in members),
                centroid=centroids[topic],
                keywords=_by_script(ranked),
                representative=int(nearest),
                floor=float(floors[topic]),
                script="zh" if 2 * sum(languages[int(m)] == "zh" for m in members) > len(members) else "en",
            )
        )
    return topics


def _by_script(ranked: list[str]) -> dict[str, tuple[str, ...]]:
    chinese = tuple(word for word in ranked if HAN.search(word))[:KEYWORDS]
    latin = tuple(word for word in ranked if not HAN.search(word))[:KEYWORDS]
    return {name: words for name, words in (("en", latin), ("zh", chinese)) if words}


def nearest_topic(vectors: np.ndarray, centroids: np.ndarray, floors: np.ndarray) -> list[int]:
    """The row of each vector's nearest centroid where its cosine reaches that topic's floor, else ``-1``."""
    if not len(centroids) or not len(vectors):
        return [-1] * len(vectors)
    cosines = vectors @ centroids.T
    best = cosines.argmax(axis=1)
    return [int(b) if cosines[row, b] >= floors[b] else -1 for row, b in enumerate(best)]
