"""Stable topic ids across daily fits, with lineage: matches, splits, merges, new, dormant and revived.

BERTopic numbers a fit's topics by size, so ids reshuffle on every refit (BERTopic issues #1632,
#1593), and ``merge_models`` keeps only the base model's topics (#2257, #2431). Here each new fit is
matched to the known topics instead, one to one (Hungarian assignment), by what they share:

- **stories** still in the window: the overlap of a known topic's stories with a new topic's, over
  the stories both fits saw (a Jaccard index), by the new topic that took the most of them only; a daily
  refit over a 7-day window shares 6/7 of its stories with the day before, so this decides almost every
  match;
- **meaning**, for a known topic with no stories left in the window (a dormant one coming back):
  centroid cosine at or above the model's calibrated value *and* keyword overlap.

A match keeps the old id (and its label history); a known topic whose carried stories now fall into two
or more new topics records a ``split``; two or more known topics whose stories mostly fall into one new
topic record a ``merge`` (the best match keeps its id; the others, unless they live on as another topic,
are ``merged`` into it; a topic merges into one topic at most); stories new since
the last fit count too, by the known topic that would have taken them (so coverage of two threads that
converges in one new topic is a merge, and one thread's coverage that diverges into new topics a split,
while the old stories still sit where they were); an unmatched
known topic becomes ``dormant`` (it can be ``revived``); any other new topic gets the next id (``new``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

MATCH_OVERLAP = 0.3
"""Least story overlap (Jaccard over the stories both fits saw) for a new topic to keep a known id."""
SPLIT_SHARE = 0.2
"""A known topic splits when at least two new topics each take this share of its carried stories."""
MERGE_SHARE = 0.5
"""Known topics merge when each sends at least this share of its carried stories to one new topic."""
MIN_SHARED = 2
"""Splits and merges need at least this many shared stories per branch (one story is not a trend)."""
MIN_FRESH_MERGE = 3
"""New stories a topic must send to another for a merge by its coverage: a thread that goes on as itself
and whose two new stories a neighbour took did not converge with it (calendar world, seed 3: "ai-safety +
ai-copyright" from two; the planted merges send 8 or more)."""
KEYWORD_OVERLAP = 0.2
"""Least keyword Jaccard for a match by meaning (a topic with no stories left in the window)."""
MEANING_COSINES = {"all-MiniLM-L6-v2": 0.75, "multilingual-e5-small": 0.93}
"""Centroid cosines at or above which topics with no stories in common may be the same topic."""
RELATED_COSINES = {"multilingual-e5-small": 0.9}
"""Centroid cosines below which two topics are not branches of one another (split, merge): on the
calendar world, sub-topics of one theme are 0.90-0.97 apart with multilingual-e5-small and unrelated
themes 0.85-0.88, so stories that merely sat nearest to a topic do not make a burst its branch. New
coverage within no topic's floor counts for each topic it is this close to (``topic_daily``). Models
without a measured value skip both."""


@dataclass(frozen=True)
class Known:
    """What matching needs of a known topic."""

    id: int
    stories: frozenset[str]
    centroid: np.ndarray
    keywords: frozenset[str]
    fresh: frozenset[str] = frozenset()
    """Stories new since the last fit that would have joined it (nearest centroid, within its floor)."""


@dataclass(frozen=True)
class Fresh:
    """What matching needs of a topic of the new fit."""

    stories: frozenset[str]
    centroid: np.ndarray
    keywords: frozenset[str]
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Its stories' vectors, where known: a known topic whose old stories joined it is related to what the
    topic holds besides them, not to a centroid they pulled towards themselves."""

    def centroid_without(self, stories: frozenset[str]) -> np.ndarray | None:
        """The centroid of its members other than ``stories`` (``None``: none, or no vectors known)."""
        rest = [vector for story, vector in self.vectors.items() if story not in stories]
        if not rest:
            return None
        mean = np.mean(rest, axis=0)
        return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12))


@dataclass(frozen=True)
class Event:
    kind: str
    """``new``, ``split``, ``merge``, ``dormant`` or ``revived``."""
    parents: tuple[int, ...]
    children: tuple[int, ...]


@dataclass
class Matching:
    ids: list[int]
    """The id of each new topic, in the fit's order."""
    events: list[Event]
    merged_into: dict[int, int]
    """Known ids merged into another id."""
    unmatched: list[int]
    """Known ids that matched nothing and were not merged: dormant from now on."""


def match_topics(
    known: Sequence[Known],
    fresh: Sequence[Fresh],
    next_id: int,
    meaning_cosine: float | None,
    dormant: frozenset[int] = frozenset(),
    related_cosine: float | None = None,
) -> Matching:
    """Ids for ``fresh`` topics and the lineage events relative to ``known`` (``dormant``: ids not active
    before this fit, so that a match says ``revived``); new ids count up from ``next_id``."""
    flows = _Flows(known, fresh, related_cosine)
    # A known topic's id goes where most of its stories went: a topic that took only the minority of them
    # (a burst that first sat in a fading topic, whose stories then went elsewhere) does not inherit it.
    most = flows.shared >= flows.shared.max(axis=1, initial=0.0, keepdims=True)
    score = np.where((flows.overlap >= MATCH_OVERLAP) & most, flows.overlap, 0.0)
    for row, topic in enumerate(known):
        if flows.carried[row] == 0 and meaning_cosine is not None:
            score[row] = [_by_meaning(topic, other, meaning_cosine) for other in fresh]
    ids: list[int] = [-1] * len(fresh)
    matched: dict[int, int] = {}
    """Row of a known topic -> the column that keeps its id."""
    if score.size:
        for row, col in zip(*linear_sum_assignment(score, maximize=True), strict=True):
            if score[row, col] > 0:
                ids[col] = known[row].id
                matched[int(row)] = int(col)
    for col in range(len(fresh)):
        if ids[col] < 0:
            ids[col], next_id = next_id, next_id + 1
    kept = {known[row].id for row in matched}
    events = [Event("revived", (topic_id,), (topic_id,)) for topic_id in sorted(kept & dormant)]
    merged_into: dict[int, int] = {}
    for col in range(len(fresh)):
        parents = sorted(known[row].id for row in flows.merging_into(col, matched))
        if len(parents) >= 2:
            events.append(Event("merge", tuple(parents), (ids[col],)))  # parents that live on elsewhere stay
            merged_into.update({p: ids[col] for p in parents if p != ids[col] and p not in kept})
    for row, topic in enumerate(known):
        taken = {col for other, col in matched.items() if other != row}
        branches = flows.splitting_from(row, matched.get(row), taken)
        if len(branches) >= 2:
            events.append(Event("split", (topic.id,), tuple(sorted(ids[col] for col in branches))))
    born = {child for event in events if event.kind in ("split", "merge") for child in event.children}
    known_ids = {topic.id for topic in known}
    events.extend(Event("new", (), (i,)) for i in ids if i not in known_ids and i not in born)
    unmatched = [t.id for t in known if t.id not in kept and t.id not in merged_into and t.id not in dormant]
    events.extend(Event("dormant", (topic_id,), ()) for topic_id in unmatched)
    return Matching(ids=ids, events=events, merged_into=merged_into, unmatched=unmatched)


class _Flows:
    """Where the known topics' stories went in the new fit: the stories they held that are still in the
    window (*carried*), and the stories new since the last fit that they would have taken (*fresh*)."""

    def __init__(self, known: Sequence[Known], fresh: Sequence[Fresh], related_cosine: float | None) -> None:
        window = frozenset().union(*(topic.stories for topic in fresh))
        before = frozenset().union(*(topic.stories for topic in known))
        self.shared = _counts([k.stories for k in known], [f.stories for f in fresh])
        self.carried = np.array([len(k.stories & window) for k in known], dtype=float)
        old_in_fresh = np.array([len(f.stories & before) for f in fresh], dtype=float)
        union = self.carried[:, None] + old_in_fresh[None, :] - self.shared
        self.overlap = self.shared / np.maximum(union, 1.0)
        self.new = _counts([k.fresh for k in known], [f.stories for f in fresh])
        self.new_total = np.array([len(k.fresh & window) for k in known], dtype=float)
        cosines = np.array([[float(k.centroid @ f.centroid) for f in fresh] for k in known]).reshape(
            self.shared.shape
        )
        self.related = (
            cosines >= related_cosine if related_cosine is not None else np.ones_like(cosines, bool)
        )
        self.fresh_related = self.related & _nearest_senders(known, fresh, self.new)
        """For fresh stories: the known topic is one of the two nearest to what it sent (coverage between
        two threads draws on both, not on a third whose centroid a few strays pulled closer)."""
        self.related_rest = self.related.copy()
        """For carried stories that joined another topic than their own continuation: related to the rest
        of that topic (a fading topic's last stories that a neighbour absorbed make no merge)."""
        if related_cosine is not None:
            for row, col in zip(*np.nonzero(self.shared), strict=True):
                rest = fresh[col].centroid_without(known[row].stories)
                if rest is not None:
                    self.related_rest[row, col] = float(known[row].centroid @ rest) >= related_cosine

    def _kinds(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        return (self.shared, self.carried), (self.new, self.new_total)

    def merging_into(self, col: int, own: dict[int, int]) -> set[int]:
        """Known topics whose stories went to topic ``col`` (``own``: row of a known topic -> the column
        that keeps its id): most of their carried stories, or most of their fresh ones, unless their
        carried stories mostly went to another topic than their own continuation: a topic that ended in
        one topic merged there, and coverage that fans out from it into another (a split's parent fading
        into its branches) is no second merge."""
        return {row for row in range(self.shared.shape[0]) if col in self._merge_targets(row, own.get(row))}

    def _merge_targets(self, row: int, own: int | None) -> set[int]:
        (shared, carried_total), (new, new_total) = self._kinds()
        carried = {
            c
            for c in range(shared.shape[1])
            if self._took(row, c, shared, carried_total, self.related if c == own else self.related_rest)
        }
        fresh = {
            c
            for c in range(new.shape[1])
            if new[row, c] >= MIN_FRESH_MERGE and self._took(row, c, new, new_total, self.fresh_related)
        }
        ended_in = carried - {own}
        return ended_in if ended_in else carried | fresh

    def _took(self, row: int, col: int, counts: np.ndarray, totals: np.ndarray, related: np.ndarray) -> bool:
        return bool(
            related[row, col]
            and counts[row, col] >= MIN_SHARED
            and counts[row, col] >= MERGE_SHARE * totals[row]
        )

    def splitting_from(self, row: int, own: int | None, taken: set[int]) -> list[int]:
        """Topics that each took a good share of a known topic's carried, or of its fresh, stories: its own
        continuation (``own``) and new topics, two or more of them. For fresh stories, two or more besides
        ``own``, and ``own`` keeps less than half of them: a burst that grows out of a topic's
        neighbourhood while the topic goes on is new, not a split. Stories that went to another known
        topic's continuation (``taken``) are a transfer, not a branch."""
        for counts, totals in self._kinds():
            cols = [
                c
                for c in range(counts.shape[1])
                if c not in taken
                and self.related[row, c]
                and counts[row, c] >= max(MIN_SHARED, SPLIT_SHARE * totals[row])
            ]
            if len(cols) < 2:
                continue
            if counts is self.shared:
                return cols
            kept = counts[row, own] if own is not None else 0.0
            if len([c for c in cols if c != own]) >= 2 and kept < MERGE_SHARE * totals[row]:
                return cols
        return []


def _nearest_senders(known: Sequence[Known], fresh: Sequence[Fresh], new: np.ndarray) -> np.ndarray:
    """Per known topic and new topic: whether the known topic is one of the two nearest to the mean of the
    fresh stories it sent there (true where their vectors are not known)."""
    nearest = np.ones_like(new, dtype=bool)
    if not known:
        return nearest
    centroids = np.vstack([topic.centroid for topic in known])
    for row, col in zip(*np.nonzero(new), strict=True):
        sent = [
            fresh[col].vectors[s] for s in known[row].fresh & fresh[col].stories if s in fresh[col].vectors
        ]
        if sent:
            nearest[row, col] = row in np.argsort(-(centroids @ np.mean(sent, axis=0)))[:2]
    return nearest


def _counts(left: Sequence[frozenset[str]], right: Sequence[frozenset[str]]) -> np.ndarray:
    return np.array([[len(a & b) for b in right] for a in left], dtype=float).reshape(len(left), len(right))


def _by_meaning(known: Known, fresh: Fresh, cosine: float) -> float:
    """A score below any story-overlap match, for a known topic whose stories all left the window."""
    union = known.keywords | fresh.keywords
    words = len(known.keywords & fresh.keywords) / len(union) if union else 0.0
    close = float(known.centroid @ fresh.centroid) >= cosine
    return MATCH_OVERLAP * words if close and words >= KEYWORD_OVERLAP else 0.0
