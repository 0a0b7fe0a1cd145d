"""Backend-independent reads built on ``Index.search``: hybrid ranking and collapsing by story."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from index.base import Hit, Index, SearchRequest

RRF_K = 60
"""The usual reciprocal-rank-fusion constant: later ranks still count, but little."""


def hybrid_search(index: Index, request: SearchRequest, vector: np.ndarray, depth: int = 50) -> list[Hit]:
    """BM25 and kNN, each with the request's filters, fused by reciprocal rank on the client
    (server-side RRF is not in Elasticsearch's free modules, and the embedded index has none)."""
    wanted = request.offset + request.limit
    window = max(depth, wanted)
    text = index.search(replace(request, vector=None, limit=window, offset=0, facets=(), date_histogram=None))
    near = index.search(
        replace(request, query=None, vector=vector, limit=window, offset=0, facets=(), date_histogram=None)
    )
    scores: dict[str, float] = {}
    hits: dict[str, Hit] = {}
    for ranking in (text.hits, near.hits):
        for rank, hit in zip(tied_ranks([hit.score for hit in ranking]), ranking, strict=True):
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
            if hit.id not in hits or (not hits[hit.id].highlights and hit.highlights):
                hits[hit.id] = hit
    ordered = sorted(scores, key=lambda key: (-scores[key], key))[request.offset : wanted]
    return [replace(hits[key], score=scores[key]) for key in ordered]


def tied_ranks(scores: list[float]) -> list[int]:
    """Competition ranks of scores sorted best first (``1, 2, 2, 4``): equal scores (a story's exact
    reprints) share a rank, so how a backend orders ties cannot change the fused order."""
    ranks: list[int] = []
    for position, score in enumerate(scores, start=1):
        ranks.append(ranks[-1] if ranks and score == scores[position - 2] else position)
    return ranks


@dataclass(frozen=True)
class StoryHit:
    hit: Hit
    matching_items: int
    """How many items of this story match the request (the story's reach for this query)."""


def search_stories(index: Index, request: SearchRequest, depth: int = 5) -> list[StoryHit]:
    """One hit per story (its best-ranked item), with the number of matching items in the story."""
    wide = index.search(replace(request, limit=(request.offset + request.limit) * depth, offset=0))
    first: dict[str, Hit] = {}
    counts: dict[str, int] = {}
    for hit in wide.hits:
        story = str(hit.doc["story_id"])
        counts[story] = counts.get(story, 0) + 1
        first.setdefault(story, hit)
    stories = list(first.items())[request.offset : request.offset + request.limit]
    return [StoryHit(hit, counts[story]) for story, hit in stories]
