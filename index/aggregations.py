"""Facets and date histograms in the Elasticsearch aggregation language, which tantivy speaks too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from index.base import FACET_FIELDS, IndexError_, SearchRequest

Facets = dict[str, list[tuple[str, int]]]
Histogram = list[tuple[datetime, int]]
HISTOGRAM, SPLIT = "__histogram", "__split"


def aggregations(request: SearchRequest) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for name in (*request.facets, *filter(None, [request.histogram_split])):
        if name not in FACET_FIELDS:
            raise IndexError_(f"cannot facet on {name!r}; facets: {', '.join(FACET_FIELDS)}")
    for name in request.facets:
        aggs[name] = {"terms": {"field": name, "size": 50}}
    if request.date_histogram:
        histogram = {"field": "published", "fixed_interval": request.date_histogram}
        if request.histogram_split:
            split = {"date_histogram": {**histogram, "min_doc_count": 1}}
            aggs[SPLIT] = {
                "terms": {"field": request.histogram_split, "size": 50},
                "aggs": {HISTOGRAM: split},
            }
        else:
            aggs[HISTOGRAM] = {"date_histogram": histogram}
    return aggs


def read_aggregations(aggs: dict[str, Any], request: SearchRequest) -> dict[str, Any]:
    """The :class:`SearchResult` fields an answer's aggregations fill: facets and histograms."""
    facets: Facets = {
        name: [(str(b["key"]), int(b["doc_count"])) for b in aggs[name]["buckets"]]
        for name in request.facets
        if name in aggs
    }
    split = {str(bucket["key"]): _histogram(bucket) for bucket in aggs.get(SPLIT, {}).get("buckets", [])}
    return {"facets": facets, "histogram": _histogram(aggs), "split_histograms": split}


def _histogram(aggs: dict[str, Any]) -> Histogram:
    return [
        (datetime.fromtimestamp(b["key"] / 1000, UTC), int(b["doc_count"]))
        for b in aggs.get(HISTOGRAM, {}).get("buckets", [])
    ]
