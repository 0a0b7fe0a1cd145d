"""Translate search requests and query trees into Elasticsearch's query DSL, and read answers back."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from index.analysis import analyze
from index.base import KEYWORD_FIELDS, SearchRequest
from nlp import query as q


def filters(request: SearchRequest) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if request.since or request.until:
        bounds = {}
        if request.since:
            bounds["gte"] = request.since.astimezone(UTC).isoformat()
        if request.until:
            bounds["lt"] = request.until.astimezone(UTC).isoformat()
        filters.append({"range": {"published": bounds}})
    for field, values in (
        ("source", request.sources),
        ("language", request.languages),
        ("watchlists", request.watchlists),
        ("topic_id", request.topics),
        ("sentiment", request.sentiments),
        ("risk", request.risks),
    ):
        if values:
            filters.append({"terms": {field: list(values)}})
    if request.first_of_story:
        filters.append({"term": {"first_of_story": True}})
    return filters


def compile_query(node: q.Node) -> dict[str, Any]:
    if isinstance(node, q.Term | q.Phrase):
        return _leaf(node)
    if isinstance(node, q.Or):
        return {
            "bool": {"should": [compile_query(child) for child in node.children], "minimum_should_match": 1}
        }
    if isinstance(node, q.And):
        must = [compile_query(c) for c in node.children if not isinstance(c, q.Not)]
        must_not = [compile_query(c.child) for c in node.children if isinstance(c, q.Not)]
        return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}
    if isinstance(node, q.Not):
        return {"bool": {"must": [{"match_all": {}}], "must_not": [compile_query(node.child)]}}
    return _near(node)


def _leaf(node: q.Term | q.Phrase) -> dict[str, Any]:
    if node.field in KEYWORD_FIELDS:
        return {"term": {KEYWORD_FIELDS[node.field]: node.text}}
    words = analyze(node.text)
    if not words:
        return {"match_none": {}}
    fields = [f"{node.field}_terms"] if node.field else ["title_terms", "body_terms"]
    return {
        "bool": {
            "should": [{"match_phrase": {field: " ".join(words)}} for field in fields],
            "minimum_should_match": 1,
        }
    }


def _near(node: q.Near) -> dict[str, Any]:
    def span(words: list[str], field: str) -> dict[str, Any]:
        if len(words) == 1:
            return {"span_term": {field: words[0]}}
        return {
            "span_near": {"clauses": [{"span_term": {field: w}} for w in words], "slop": 0, "in_order": True}
        }

    left = [w for term in q.positive_terms(node.left) for w in analyze(term)]
    right = [w for term in q.positive_terms(node.right) for w in analyze(term)]
    if not left or not right:
        return {"match_none": {}}
    clauses = [
        {
            "span_near": {
                "clauses": [span(left, field), span(right, field)],
                "slop": node.distance,
                "in_order": False,
            }
        }
        for field in ("title_terms", "body_terms")
    ]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}
