"""The daily topic fit over the stories of the last ``topics.window_days``, and topics for new items.

``fit_day`` reads one representative per story (its canonical item, with the vector the pipeline
stored) from the story store, fits (``nlp.topics``), matches the fit to the known topics
(``nlp.topic_lineage``), records figures per topic and day and the signals (``nlp.topic_signals``), and
saves the state (``nlp.topic_state``). Days are UTC days. ``TopicAssigner`` gives items that arrive
between fits the topic of their story, else the nearest active topic above the threshold.
"""

from __future__ import annotations

import logging
import time as timer
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from config.settings import TopicSettings
from nlp.records import Item
from nlp.stories import StoryStore
from nlp.story_signals import StorySignals
from nlp.topic_lineage import MEANING_COSINES, RELATED_COSINES, Event, Fresh, Known, Matching, match_topics
from nlp.topic_signals import classify
from nlp.topic_state import (
    STATE_FILE,
    DayFigures,
    FitFigures,
    LineageRecord,
    TopicRecord,
    TopicState,
    TopicStateError,
    load_state,
    save_state,
)
from nlp.topics import FitOptions, TopicDoc, TopicFit, fit_topics, nearest_topic

log = logging.getLogger(__name__)
Activity = list[tuple[str, str, datetime, str, str]]
BEFORE = "before-last-fit"
"""The state as the latest fit found it, so that fitting that day again gives the same result."""


@dataclass
class DailyFit:
    day: date
    stories: int
    topics: int
    outliers_before: float
    outliers: float
    events: list[LineageRecord] = field(default_factory=list)
    seconds: float = 0.0
    story_topics: dict[str, int] = field(default_factory=dict)
    """Story id -> topic id after this fit (the stories of the window that a topic holds)."""
    labels: dict[int, str] = field(default_factory=dict)
    """Topic id -> label, of the active topics."""
    window: tuple[datetime, datetime] = (datetime.min.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))


def window_of(day: date, window_days: int) -> tuple[datetime, datetime]:
    start = datetime.combine(day - timedelta(days=window_days - 1), time(), UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), UTC)


def topic_docs(store: StoryStore, activity: Activity) -> tuple[list[TopicDoc], np.ndarray]:
    """One document per story active in ``activity``: its canonical item's title, lead and vector."""
    stories = store.stories({row[1] for row in activity})
    found = store.texts_and_vectors(sorted(story.canonical_item_id for story in stories.values()))
    # Stored without a vector (an embedder that was off): nothing to cluster by. The rest in an order set
    # by their text, not by arrival or by ids (which depend on URLs): UMAP's result depends on the order.
    with_vectors = [story for story in stories.values() if story.canonical_item_id in found]
    wanted = sorted(with_vectors, key=lambda s: (*found[s.canonical_item_id][:2], s.canonical_item_id))
    docs, rows = [], []
    for story in wanted:
        title, lead, language, vector = found[story.canonical_item_id]
        docs.append(
            TopicDoc(
                story_id=story.id,
                title=title,
                text=f"{title}\n{lead}",
                language=language,
                day=story.first_seen.date(),
                items=story.member_count,
                sources=tuple(story.sources),
            )
        )
        rows.append(vector)
    dimension = len(rows[0]) if rows else 0
    return docs, np.vstack(rows) if rows else np.zeros((0, dimension), dtype=np.float32)


def fit_day(
    store: StoryStore,
    folder: Path,
    day: date,
    settings: TopicSettings,
    model: str,
    signals: StorySignals | None = None,
) -> DailyFit:
    """Fit the topics of ``day`` (its window of stories), keep ids stable, and save the state; with
    ``signals``, each topic's figures by day count its items' sentiment labels too."""
    started = timer.monotonic()
    state = load_state(folder)
    model_name = Path(model).name
    if state.model and state.model != model_name:
        raise TopicStateError(
            f"{folder / STATE_FILE} holds topics of model {state.model!r}, the configuration uses "
            f"{model_name!r}; move the folder aside to start topics afresh"
        )
    if state.fits and day < max(state.fits):
        raise TopicStateError(
            f"topics are fitted up to {max(state.fits)}; a fit for {day} would rewrite history"
        )
    if state.fits and day == max(state.fits) and (folder / BEFORE).exists():
        state = load_state(folder / BEFORE)  # a refit of the same day starts where that day's fit started
    save_state(folder / BEFORE, state)
    since, until = window_of(day, settings.window_days)
    activity = store.activity(since, until)
    docs, vectors = topic_docs(store, activity)
    options = FitOptions(
        settings.seed, settings.min_topic_size, settings.place_outliers, settings.assign_threshold
    )
    held = state.story_topics() if settings.anchor else {}
    fit = fit_topics(docs, vectors, options, [held.get(doc.story_id, -1) for doc in docs])
    matching = _match(state, docs, fit, vectors, model_name)
    labels = signals.sentiment_labels(since, until) if signals is not None else {}
    _record(state, day, docs, fit, matching, activity, labels)
    classify(state.active(), day, settings.window_days, settings.half_life_days)
    state.model, state.fits = model_name, sorted({*state.fits, day})
    state.fit_figures[day] = FitFigures(
        stories=len(docs),
        topics=len(fit.topics),
        outliers_before=round(fit.outliers_before, 4),
        outliers=round(fit.outliers, 4),
    )
    save_state(folder, state)
    result = DailyFit(
        day=day,
        stories=len(docs),
        topics=len(fit.topics),
        outliers_before=fit.outliers_before,
        outliers=fit.outliers,
        events=[event for event in state.lineage if event.day == day],
        seconds=timer.monotonic() - started,
        story_topics=state.story_topics(),
        labels={topic.id: topic.label for topic in state.active()},
        window=(since, until),
    )
    log.info("topics fitted", extra={"day": day.isoformat(), "stories": len(docs), "topics": len(fit.topics)})
    return result


def _match(
    state: TopicState, docs: list[TopicDoc], fit: TopicFit, vectors: np.ndarray, model: str
) -> Matching:
    candidates = [t for t in state.topics.values() if t.status in ("active", "dormant")]
    fresh_by_topic = _fresh_stories(state, docs, vectors, RELATED_COSINES.get(model))
    known = [
        Known(
            t.id,
            frozenset(t.stories),
            state.centroids[t.id],
            frozenset(_words(t.keywords)),
            frozenset(fresh_by_topic.get(t.id, ())),
        )
        for t in candidates
    ]
    fresh = [
        Fresh(
            frozenset(docs[row].story_id for row in topic.members),
            topic.centroid,
            frozenset(_words(topic.keywords)),
            {docs[row].story_id: vectors[row] for row in topic.members},
        )
        for topic in fit.topics
    ]
    dormant = frozenset(t.id for t in candidates if t.status == "dormant")
    return match_topics(
        known, fresh, state.next_id, MEANING_COSINES.get(model), dormant, RELATED_COSINES.get(model)
    )


def _fresh_stories(
    state: TopicState, docs: list[TopicDoc], vectors: np.ndarray, related: float | None
) -> dict[int, list[str]]:
    """Stories no known topic holds yet, under every active topic that would have taken them before this
    fit: each topic whose floor they reach (a story between two threads counts for both). A story that
    reaches no floor is coverage no known topic owns; it counts under every topic it is ``related`` to
    (centroid cosine), so that coverage converging from two threads into a new theme, which sits between
    them and below both their floors, shows as a merge of both."""
    held = set(state.story_topics())
    rows = [row for row, doc in enumerate(docs) if doc.story_id not in held]
    ids, centroids, floors = active_topics(state)
    if not ids or not rows:
        return {}
    found: dict[int, list[str]] = {}
    cosines = vectors[rows] @ centroids.T
    reach = cosines >= floors[None, :]
    if related is not None and state.fits:
        last_fit = max(state.fits)
        new = np.array([docs[row].day > last_fit for row in rows])
        orphans = new & ~reach.any(axis=1)
        reach[orphans] = cosines[orphans] >= related
    for position, row in enumerate(rows):
        for column in np.flatnonzero(reach[position]):
            found.setdefault(ids[column], []).append(docs[row].story_id)
    return found


def active_topics(state: TopicState) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The active topics' ids, centroids (one row each) and floors."""
    active = state.active()
    ids = [topic.id for topic in active]
    centroids = np.vstack([state.centroids[i] for i in ids]) if ids else np.zeros((0, 0), np.float32)
    return ids, centroids, np.array([topic.floor for topic in active])


def _words(keywords: dict[str, list[str]] | dict[str, tuple[str, ...]]) -> list[str]:
    return [word for words in keywords.values() for word in words]


def _record(
    state: TopicState,
    day: date,
    docs: list[TopicDoc],
    fit: TopicFit,
    matching: Matching,
    activity: Activity,
    labels: dict[str, str],
) -> None:
    window_days = {row[2].date() for row in activity} | {day}
    for topic in state.topics.values():  # the window's figures are recomputed from this fit
        topic.days = {d: figures for d, figures in topic.days.items() if d not in window_days}
        if topic.status == "active":
            topic.stories = []
    for fitted, topic_id in zip(fit.topics, matching.ids, strict=True):
        stories = {docs[row].story_id for row in fitted.members}
        figures = _figures(stories, activity, labels)
        label, title = fitted.label, docs[fitted.representative].title
        born = min(figures, default=day) if not state.fits else day  # the first fit sees history, not births
        record = state.topics.get(topic_id) or TopicRecord(
            id=topic_id, label=label, title=title, born=born, last_active=day
        )
        if not record.labels or record.labels[-1][1] != label:
            record.labels.append((day, label))
        keywords = {script: list(words) for script, words in fitted.keywords.items()}
        update = {"label": label, "title": title, "keywords": keywords, "floor": fitted.floor}
        record = record.model_copy(update={**update, "status": "active", "merged_into": None})
        record.days.update(figures)
        record.stories, record.last_active = sorted(stories), day
        state.topics[topic_id], state.centroids[topic_id] = record, fitted.centroid
    for old, new in matching.merged_into.items():
        state.topics[old].status, state.topics[old].merged_into = "merged", new
    for topic_id in matching.unmatched:
        state.topics[topic_id].status = "dormant"
    state.next_id = max([state.next_id, *(i + 1 for i in matching.ids)])
    fresh_events = [e for e in matching.events if not _repeated(e, state.lineage)]
    state.lineage.extend(
        LineageRecord(day=day, kind=e.kind, parents=list(e.parents), children=list(e.children))  # type: ignore[arg-type]
        for e in fresh_events
    )


def _repeated(event: Event, lineage: list[LineageRecord]) -> bool:
    """A split or merge whose every parent-child link an earlier one of its kind recorded: the same
    convergence (or divergence) seen again by a later fit, while the window still holds its stories."""
    if event.kind not in ("split", "merge"):
        return False
    links = {(p, c) for p in event.parents for c in event.children}
    seen = {
        (p, c)
        for record in lineage
        if record.kind == event.kind
        for p in record.parents
        for c in record.children
    }
    return links <= seen


def _figures(stories: set[str], activity: Activity, labels: dict[str, str]) -> dict[date, DayFigures]:
    by_day: dict[date, list[tuple[str, str, datetime, str, str]]] = {}
    for row in activity:
        if row[1] in stories:
            by_day.setdefault(row[2].date(), []).append(row)
    return {
        day: DayFigures(
            stories=len({row[1] for row in rows}),
            items=len(rows),
            sources=len({row[3] for row in rows}),
            languages=dict(Counter(row[4] for row in rows)),
            sentiment=dict(Counter(labels[row[0]] for row in rows if row[0] in labels)),
        )
        for day, rows in sorted(by_day.items())
    }


class TopicAssigner:
    """Topics for items between fits: their story's topic, else the nearest active one above a threshold.

    ``threshold``: a fixed cosine instead of each topic's floor. Reads the state again when a fit (in this
    or another process) has rewritten it."""

    def __init__(self, folder: Path, threshold: float | None) -> None:
        self.folder = folder
        self.threshold = threshold
        self._stamp: float | None = None
        self._story_topics: dict[str, int] = {}
        self._labels: dict[int, str] = {}
        self._ids: list[int] = []
        self._centroids = np.zeros((0, 0), dtype=np.float32)
        self._floors = np.zeros(0)

    def assign(self, items: list[Item], vectors: np.ndarray) -> None:
        self._refresh()
        if not self._labels:
            return
        loose = [row for row, item in enumerate(items) if item.story_id not in self._story_topics]
        nearest = nearest_topic(vectors[loose], self._centroids, self._floors) if loose else []
        by_row = dict(zip(loose, nearest, strict=False))
        for row, item in enumerate(items):
            topic_id = self._story_topics.get(item.story_id or "")
            if topic_id is None and by_row.get(row, -1) >= 0:
                topic_id = self._ids[by_row[row]]
            item.topic_id = topic_id
            item.topic_label = self._labels.get(topic_id, "") if topic_id is not None else ""

    def _refresh(self) -> None:
        path = self.folder / STATE_FILE
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if stamp == self._stamp:
            return
        state = load_state(self.folder)
        active = state.active()
        self._story_topics = state.story_topics()
        self._labels = {topic.id: topic.label for topic in active}
        self._ids, self._centroids, self._floors = active_topics(state)
        if self.threshold is not None:
            self._floors = np.full(len(self._ids), self.threshold)
        self._stamp = stamp
