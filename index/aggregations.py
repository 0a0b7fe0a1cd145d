"""Facets and date histograms in the Elasticsearch aggregation language, which tantivy speaks too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from index.base import FACET_FIELDS, IndexError_, SearchRequest

Facets = dict[str, list[tuple[str, int]]]
Histogram = list[tuple[datetime, int]]


def aggregations(request: SearchRequest) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for name in request.facets:
        if name not in FACET_FIELDS:
            raise IndexError_(f"cannot facet on {name!r}; facets: {', '.join(FACET_FIELDS)}")
        aggs[name] = {"terms": {"field": name, "size": 50}}
    if request.date_histogram:
        aggs["__histogram"] = {
            "date_histogram": {"field": "published", "fixed_interval": request.date_histogram}
        }
    return aggs


def read_aggregations(aggs: dict[str, Any], request: SearchRequest) -> tuple[Facets, Histogram]:
    facets = {
        name: [(str(b["key"]), int(b["doc_count"])) for b in aggs[name]["buckets"]]
        for name in request.facets
        if name in aggs
    }
    histogram = [
        (datetime.fromtimestamp(b["key"] / 1000, UTC), int(b["doc_count"]))
        for b in aggs.get("__histogram", {}).get("buckets", [])
    ]
    return facets, histogram
