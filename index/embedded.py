"""The embedded index: tantivy for text, filters and facets; SQLite beside it for vectors.

See ``docs/design/embedded-index.md`` for why. Commits are atomic in both stores, so a
``kill -9`` in the middle of a write loses only the batch that was not yet committed.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import tantivy
from tantivy import FieldType, Occur, Order, Query

from index.aggregations import aggregations, read_aggregations
from index.analysis import analyze, analyzed_text
from index.ann import AnnSettings, VectorCells, doc_key, unit_rows
from index.base import (
    KEYWORD_FIELDS,
    Hit,
    IndexDoc,
    IndexError_,
    SearchRequest,
    SearchResult,
    TopicTags,
    collapse_field,
    doc_from_stored,
    stored_form,
)
from index.highlight import highlight_hit
from nlp import query as q

log = logging.getLogger(__name__)
SCHEMA_VERSION = 5
"""2 added ``topic_id``, 3 sentiment and risk, 4 made ``key`` searchable (the vector index's hits are
filtered by it), 5 ``first_of_story``; an index of an older format is rebuilt from its stored documents
when opened."""
KEYWORDS = ("id", "source", "domain", "language", "kind", "story_id", "topic_id", "sentiment", "risk")
ADDED_IN = {"topic_id": 2, "sentiment": 3, "risk": 3, "toward": 3, "risk_key": 3, "first_of_story": 5}
WRITER_HEAP = 64_000_000
RISK_SHIFT = 36
"""Bits of seconds below the risk points in ``risk_key`` (enough for any date of the next 2,000 years)."""
KNN_FIRST_CHUNK = 256
COLLAPSE_POOL = 3
"""Ranked hits asked for per collapsed hit wanted (and the factor a ranking widens by when too few)."""


def _schema(version: int = SCHEMA_VERSION) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in (*KEYWORDS, "watchlists", "toward", "first_of_story"):
        if ADDED_IN.get(name, 1) <= version:
            builder.add_text_field(name, stored=False, tokenizer_name="raw", fast=True)
    builder.add_text_field("title", stored=False, tokenizer_name="whitespace")
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
    builder.add_date_field("published", stored=False, indexed=True, fast=True)
    if version >= ADDED_IN["risk_key"]:
        builder.add_unsigned_field("risk_key", stored=False, indexed=False, fast=True)
    builder.add_unsigned_field("key", stored=False, indexed=version >= 4, fast=True)
    builder.add_bytes_field("doc", stored=True)
    return builder.build()


class EmbeddedIndex:
    """Implements :class:`index.base.Index` in one folder: ``text/`` (tantivy) and ``vectors.sqlite``."""

    def __init__(self, path: Path, ann: AnnSettings | None = None) -> None:
        self.path = path
        self.ann = ann or AnnSettings()
        self._vector_cells: VectorCells | None = None
        self._vector_lock = threading.Lock()
        text_dir = path / "text"
        text_dir.mkdir(parents=True, exist_ok=True)
        self._check_version(path / "VERSION", text_dir)
        self.schema = _schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(text_dir), reuse=True)
        except ValueError as exc:
            raise IndexError_(f"cannot open the embedded index at {text_dir}: {exc}") from None
        self.vectors = sqlite3.connect(path / "vectors.sqlite", timeout=30, check_same_thread=False)
        self.vectors.execute("PRAGMA journal_mode=WAL")
        self.vectors.execute("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._matrix: tuple[list[str], np.ndarray] | None = None

    def _check_version(self, marker: Path, text_dir: Path) -> None:
        found = int(marker.read_text().strip() or 0) if marker.exists() else SCHEMA_VERSION
        if 1 <= found < SCHEMA_VERSION:
            self._rebuild_from(found, text_dir)
        elif found != SCHEMA_VERSION:
            raise IndexError_(
                f"{self.path} holds an index of format {found}, this version reads {SCHEMA_VERSION}; "
                "rebuild it (delete the folder and run again)"
            )
        marker.write_text(f"{SCHEMA_VERSION}\n")

    def _rebuild_from(self, version: int, text_dir: Path) -> None:
        """An older format lacks fields added since (:data:`ADDED_IN`): re-add every stored document under
        the current schema (the vectors are kept as they are); the old text index is removed only once the
        new one has committed."""
        log.info(
            "rebuilding the embedded index for format %s", SCHEMA_VERSION, extra={"path": str(self.path)}
        )
        old = tantivy.Index(_schema(version), path=str(text_dir), reuse=True)
        old.reload()
        searcher = old.searcher()
        found = searcher.search(Query.all_query(), max(1, int(searcher.num_docs)), count=False).hits
        stored = [self._stored_doc(searcher, address) for _, address in found]
        fresh = text_dir.with_name("text.rebuilding")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(fresh), reuse=False)
        self._write([doc_from_stored(doc, None) for doc in stored])
        shutil.rmtree(text_dir)
        fresh.rename(text_dir)

    def close(self) -> None:
        if self._vector_cells is not None and self._vector_cells.unsaved:
            self._vector_cells.save()
        self.vectors.close()

    def count(self) -> int:
        self.index.reload()
        return int(self.index.searcher().num_docs)

    def upsert(self, docs: list[IndexDoc]) -> None:
        if not docs:
            return
        with self.vectors:
            self.vectors.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [
                    (d.id, np.asarray(d.vector, dtype=np.float32).tobytes())
                    for d in docs
                    if d.vector is not None
                ],
            )
        self._write(docs)
        self._matrix = None

    def _write(self, docs: list[IndexDoc]) -> None:
        writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
        try:
            for doc in {d.id: d for d in docs}.values():
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(self._document(doc))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        self.index.reload()

    def set_topics(self, topics: TopicTags) -> int:
        self.index.reload()
        searcher = self.index.searcher()
        window = Query.range_query(
            self.schema, "published", FieldType.Date, topics.since, topics.until, True, False
        )
        count = int(searcher.search(window, 1, count=True).count)  # type: ignore[attr-defined]
        changed = []
        for _, address in searcher.search(window, max(1, count), count=False).hits if count else []:
            stored = self._stored_doc(searcher, address)
            if topics.tag(stored):
                changed.append(doc_from_stored(stored, None))
        if changed:
            self._write(changed)
        return len(changed)

    def _document(self, doc: IndexDoc) -> tantivy.Document:
        document = tantivy.Document()
        for name in KEYWORDS:
            document.add_text(name, getattr(doc, name))
        for watchlist in doc.watchlists:
            document.add_text("watchlists", watchlist)
        for toward in doc.toward:
            document.add_text("toward", toward)
        document.add_text("first_of_story", "yes" if doc.first_of_story else "no")
        document.add_unsigned("risk_key", _risk_key(doc))
        document.add_text("title", analyzed_text(doc.title))
        document.add_text("body", analyzed_text(doc.body))
        document.add_date("published", doc.published.astimezone(UTC))
        document.add_unsigned("key", doc_key(doc.id))
        document.add_bytes("doc", json.dumps(stored_form(doc), ensure_ascii=False).encode("utf-8"))
        return document

    def export(self, batch: int = 1000) -> Iterator[IndexDoc]:
        """Every document with its vector, for migration to another backend."""
        self.index.reload()
        searcher = self.index.searcher()
        total = int(searcher.num_docs)
        for offset in range(0, total, batch):
            result = searcher.search(Query.all_query(), batch, count=False, offset=offset)
            stored = [self._stored_doc(searcher, address) for _, address in result.hits]
            vectors = self._vectors_of([str(doc["id"]) for doc in stored])
            for doc in stored:
                yield doc_from_stored(doc, vectors.get(str(doc["id"])))

    def _vectors_of(self, ids: list[str]) -> dict[str, np.ndarray]:
        marks = ",".join("?" * len(ids))
        rows = (
            self.vectors.execute(f"SELECT id, vector FROM vectors WHERE id IN ({marks})", ids) if ids else []
        )
        return {row[0]: np.frombuffer(row[1], dtype=np.float32) for row in rows}

    def search(self, request: SearchRequest) -> SearchResult:
        self.index.reload()
        searcher = self.index.searcher()
        node = q.parse(request.query) if request.query and request.query.strip() else None
        query = self._with_filters(self._compile(node) if node else Query.all_query(), request)
        terms = q.positive_terms(node) if node else []
        collapse = collapse_field(request)
        if collapse is not None:
            shown, total = self._collapsed(searcher, query, request, collapse, terms)
        else:
            if request.vector is not None:
                with self._vector_lock:  # the vector store and its index are shared by the caller's threads
                    hits, total = self._knn(searcher, query, request)
            else:
                hits, total = self._ranked(searcher, query, request)
            shown = [self._hit(searcher, address, score, terms) for score, address in hits]
        spec = aggregations(request)
        aggregated = read_aggregations(searcher.aggregate(query, spec) if spec else {}, request)
        return SearchResult(total=total, hits=shown, **aggregated)

    def _ranked(
        self, searcher: Any, query: Query, request: SearchRequest
    ) -> tuple[list[tuple[float, Any]], int]:
        if request.sort in ("date", "risk"):
            result = searcher.search(
                query,
                max(1, request.limit),
                count=True,
                order_by_field="published" if request.sort == "date" else "risk_key",
                offset=request.offset,
                order=Order.Desc,
            )
            hits = [(_sort_score(request.sort, key), address) for key, address in result.hits][
                : request.limit
            ]
            return hits, int(result.count)
        result = searcher.search(query, max(1, request.limit), count=True, offset=request.offset)
        hits = [(float(score), address) for score, address in result.hits][: request.limit]
        return hits, int(result.count)

    def _collapsed(
        self, searcher: Any, query: Query, request: SearchRequest, field: str, terms: list[str]
    ) -> tuple[list[Hit], int]:
        """The best hit of each ``field`` value, in rank order: stored documents are read one by one until
        enough values are seen (a wider ranking is asked for only when reprints ate the first), and only
        the returned ones are highlighted."""
        wanted = request.offset + request.limit
        pool, read = wanted * COLLAPSE_POOL, 0
        best: dict[str, tuple[float, dict[str, Any]]] = {}
        while True:
            ranked, total = self._ranked(searcher, query, replace(request, offset=0, limit=pool))
            for score, address in ranked[read:]:
                doc = self._stored_doc(searcher, address)
                best.setdefault(str(doc.get(field) or doc["id"]), (score, doc))
                if len(best) == wanted:
                    break
            read = len(ranked)
            if len(best) >= wanted or read < pool:
                break
            pool *= COLLAPSE_POOL
        chosen = list(best.values())[request.offset : wanted]
        hits = [Hit(str(doc["id"]), score, doc, highlight_hit(doc, terms)) for score, doc in chosen]
        return hits, total

    def _knn(
        self, searcher: Any, query: Query, request: SearchRequest
    ) -> tuple[list[tuple[float, Any]], int]:
        """Cosine kNN among the documents that pass the filters: exact up to ``ann.min_vectors`` vectors,
        else through the vector index (:mod:`index.ann`)."""
        assert request.vector is not None
        total = int(searcher.search(query, 1, count=True).count)
        if total == 0:
            return [], 0
        cells = self._cells()
        if cells is None:
            return self._exact_knn(searcher, query, request), total
        wanted = request.offset + request.limit
        if total <= self.ann.min_vectors and total < int(searcher.num_docs):
            keys, scores = self._knn_among(searcher, query, cells, request.vector, wanted, total)
            return self._passing(searcher, query, keys, scores)[request.offset : wanted], total
        share = total / max(1, int(searcher.num_docs))
        asked = min(cells.size, int(wanted / share * 2) + 50)
        while True:
            keys, scores = cells.search(request.vector, asked)
            picked = self._passing(searcher, query, keys, scores)
            if len(picked) >= wanted or asked >= cells.size:
                return picked[request.offset : wanted], total
            asked = min(cells.size, asked * 4)

    def _knn_among(
        self, searcher: Any, query: Query, cells: VectorCells, vector: Any, wanted: int, total: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact kNN over a small filtered set: every cell scanned, only the set's vectors compared."""
        addresses = [address for _, address in searcher.search(query, total, count=False).hits]
        allowed = np.asarray(searcher.fast_field_values("key", addresses), dtype=np.int64)
        return cells.search(vector, wanted, among=allowed)

    def _passing(
        self, searcher: Any, query: Query, keys: np.ndarray, scores: np.ndarray
    ) -> list[tuple[float, Any]]:
        """The candidates (keys, best first) that pass ``query``, with their addresses."""
        if len(keys) == 0:
            return []
        clause = Query.boolean_query(
            [(Occur.Must, query), (Occur.Must, Query.term_set_query(self.schema, "key", keys.tolist()))]
        )
        addresses = [address for _, address in searcher.search(clause, len(keys), count=False).hits]
        found = dict(zip(searcher.fast_field_values("key", addresses), addresses, strict=True))
        pairs = zip(keys.tolist(), scores, strict=True)
        return [(float(score), found[key]) for key, score in pairs if key in found]

    def _cells(self) -> VectorCells | None:
        """The vector index, synced, once the collection is large enough to need it."""
        if self._vector_cells is None:
            count = int(self.vectors.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            if count < self.ann.min_vectors:
                return None
            self._vector_cells = VectorCells(self.path, self.vectors, self.ann)
        self._vector_cells.sync()
        return self._vector_cells

    def _exact_knn(self, searcher: Any, query: Query, request: SearchRequest) -> list[tuple[float, Any]]:
        """Exact cosine kNN: rank every vector, keep the best that pass the filters (checked in chunks)."""
        ids, matrix = self._all_vectors()
        if not ids:
            return []
        vector = np.asarray(request.vector, dtype=np.float32)
        scores = matrix @ (vector / (np.linalg.norm(vector) or 1.0))
        order = np.argsort(-scores)
        wanted = request.offset + request.limit
        picked: list[tuple[float, Any]] = []
        position, chunk = 0, max(KNN_FIRST_CHUNK, 2 * wanted)
        while position < len(order) and len(picked) < wanted:
            rows = order[position : position + chunk]
            position += len(rows)
            chunk *= 4
            keys = np.array([doc_key(ids[row]) for row in rows], dtype=np.int64)
            picked.extend(self._passing(searcher, query, keys, scores[rows]))
        return picked[request.offset : wanted]

    def _all_vectors(self) -> tuple[list[str], np.ndarray]:
        if self._matrix is None:
            rows = self.vectors.execute("SELECT id, vector FROM vectors ORDER BY id").fetchall()
            ids = [row[0] for row in rows]
            if rows:
                matrix = unit_rows(np.stack([np.frombuffer(row[1], dtype=np.float32) for row in rows]))
            else:
                matrix = np.zeros((0, 0), dtype=np.float32)
            self._matrix = (ids, matrix)
        return self._matrix

    def _stored_doc(self, searcher: Any, address: Any) -> dict[str, Any]:
        stored = searcher.doc(address).to_dict()["doc"][0]
        return dict(json.loads(bytes(stored).decode("utf-8")))

    def _hit(self, searcher: Any, address: Any, score: float, terms: list[str]) -> Hit:
        doc = self._stored_doc(searcher, address)
        return Hit(id=str(doc["id"]), score=score, doc=doc, highlights=highlight_hit(doc, terms))

    def _compile(self, node: q.Node) -> Query:
        if isinstance(node, q.Term | q.Phrase):
            return self._leaf(node)
        if isinstance(node, q.Or):
            return Query.boolean_query([(Occur.Should, self._compile(child)) for child in node.children])
        if isinstance(node, q.And):
            clauses = []
            for child in node.children:
                if isinstance(child, q.Not):
                    clauses.append((Occur.MustNot, self._compile(child.child)))
                else:
                    clauses.append((Occur.Must, self._compile(child)))
            if all(occur == Occur.MustNot for occur, _ in clauses):
                clauses.append((Occur.Must, Query.all_query()))
            return Query.boolean_query(clauses)
        if isinstance(node, q.Not):
            return Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, self._compile(node.child))]
            )
        return self._near(node)

    def _leaf(self, node: q.Term | q.Phrase) -> Query:
        if node.field in KEYWORD_FIELDS:
            return Query.term_query(self.schema, KEYWORD_FIELDS[node.field], node.text)
        words = analyze(node.text)
        if not words:
            return Query.empty_query()
        fields = [node.field] if node.field else ["title", "body"]
        clauses = [(Occur.Should, self._words(name, words, 0)) for name in fields]
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)

    def _words(self, field: str, words: list[str], slop: int) -> Query:
        if len(words) == 1:
            return Query.term_query(self.schema, field, words[0])
        return Query.phrase_query(self.schema, field, list[str | tuple[int, str]](words), slop)

    def _near(self, node: q.Near) -> Query:
        left = [w for term in q.positive_terms(node.left) for w in analyze(term)]
        right = [w for term in q.positive_terms(node.right) for w in analyze(term)]
        if not left or not right:
            return Query.empty_query()
        clauses = [
            (Occur.Should, self._words(name, words, node.distance))
            for name in ("title", "body")
            for words in (left + right, right + left)
        ]
        return Query.boolean_query(clauses)

    def _with_filters(self, query: Query, request: SearchRequest) -> Query:
        clauses = [(Occur.Must, query)]
        if request.since or request.until:
            clauses.append(
                (
                    Occur.Must,
                    Query.range_query(
                        self.schema,
                        "published",
                        FieldType.Date,
                        request.since,
                        request.until,
                        True,
                        request.until is None,
                    ),
                )
            )
        for field, values in (
            ("source", request.sources),
            ("language", request.languages),
            ("watchlists", request.watchlists),
            ("topic_id", request.topics),
            ("sentiment", request.sentiments),
            ("risk", request.risks),
        ):
            if values:
                clauses.append((Occur.Must, Query.term_set_query(self.schema, field, list(values))))
        if request.first_of_story:
            clauses.append((Occur.Must, Query.term_query(self.schema, "first_of_story", "yes")))
        return query if len(clauses) == 1 else Query.boolean_query(clauses)


def _risk_key(doc: IndexDoc) -> int:
    """Risk points, then publication time (seconds), in one number: sorting by it gives the riskiest
    first and, among equals, the newest."""
    return (max(0, doc.risk_points) << RISK_SHIFT) | max(0, int(doc.published.timestamp()))


def _sort_score(sort: str, key: int | float) -> float:
    return float(key) / 1e9 if sort == "date" else float(int(key) >> RISK_SHIFT)
