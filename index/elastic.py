"""The Elasticsearch backend: the same ``Index`` interface and answers as the embedded one.

Monthly indices (``{prefix}-items-YYYY.MM``, by publication date) behind the read alias
``{prefix}-items``, created from one index template. Text is indexed twice: as written (``title``,
``body``, for people) and pre-analysed by ``index.analysis`` (``*_terms`` with the built-in
``whitespace`` analyzer), so queries, Chinese bigrams included, match exactly as in the embedded
index. Writes go through a durable SQLite outbox: a document is removed from it only when
Elasticsearch has acknowledged it, so items processed while the cluster is down are indexed when it
returns; documents that Elasticsearch rejects go to a dead-letter table with the reason.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from config.settings import ElasticsearchSettings
from index.aggregations import aggregations, read_aggregations
from index.analysis import analyzed_text
from index.base import (
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
from index.elastic_pages import DeepPager
from index.elastic_query import compile_query, filters
from index.highlight import highlight_hit
from nlp import query as q

log = logging.getLogger(__name__)
CHUNK = 500
MAX_WINDOW = 10_000
"""Elasticsearch's default index.max_result_window: deeper pages use search_after."""
HIDDEN = ["vector", "title_terms", "body_terms"]
OUTBOX = """
CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, doc TEXT NOT NULL, queued_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (id TEXT PRIMARY KEY, doc TEXT NOT NULL, reason TEXT NOT NULL,
                                         failed_at TEXT NOT NULL);
"""


def client_for(settings: ElasticsearchSettings) -> Elasticsearch:
    auth: dict[str, Any] = {}
    if settings.api_key is not None:
        auth["api_key"] = settings.api_key.get_secret_value()
    elif settings.username and settings.password is not None:
        auth["basic_auth"] = (settings.username, settings.password.get_secret_value())
    if settings.ca_certs is not None:
        auth["ca_certs"] = str(settings.ca_certs)
    return Elasticsearch(
        settings.url,
        request_timeout=30,
        max_retries=3,
        retry_on_timeout=True,
        retry_on_status=(429, 502, 503, 504),
        **auth,
    )


SORTS: dict[str, list[Any]] = {
    "date": [{"published": "desc"}, {"id": "asc"}],
    "risk": [{"risk_points": "desc"}, {"published": "desc"}, {"id": "asc"}],
    "relevance": ["_score", {"id": "asc"}],
}


class ElasticsearchIndex:
    """Implements :class:`index.base.Index` on an Elasticsearch cluster, with a durable outbox."""

    def __init__(
        self, settings: ElasticsearchSettings, state_dir: Path, client: Elasticsearch | None = None
    ) -> None:
        self.settings = settings
        self.client = client or client_for(settings)
        self.alias = f"{settings.index_prefix}-items"
        state_dir.mkdir(parents=True, exist_ok=True)
        self.outbox = sqlite3.connect(
            state_dir / "elasticsearch-outbox.sqlite", timeout=30, check_same_thread=False
        )
        self.outbox.execute("PRAGMA journal_mode=WAL")
        self.outbox.executescript(OUTBOX)
        self._template_ready = False
        self.max_window = MAX_WINDOW
        self.pages = DeepPager(self.client, self.alias)

    def close(self) -> None:
        self.outbox.close()
        self.pages.close()
        self.client.close()

    def drop(self) -> None:
        """Delete this prefix's indices (by name: nodes refuse wildcard deletes) and index template, for
        tests and benchmarks that made their own."""
        names = list(self.client.indices.get(index=f"{self.alias}-*", allow_no_indices=True))
        if names:
            self.client.indices.delete(index=",".join(names))
        self.client.options(ignore_status=404).indices.delete_index_template(name=self.alias)

    # -- setup -------------------------------------------------------------------------------------
    def init(self, dims: int | None = None) -> None:
        """Create or update the index template (idempotent); indices are created from it on first write.

        Without ``dims`` the vector size is fixed by the first vector indexed into each monthly index."""
        text = {"type": "text", "analyzer": self.settings.analyzer}
        terms = {"type": "text", "analyzer": "whitespace"}
        keyword = {"type": "keyword"}
        properties: dict[str, Any] = {
            "id": keyword,
            "url": keyword,
            "source": keyword,
            "domain": keyword,
            "kind": keyword,
            "language": keyword,
            "watchlists": keyword,
            "story_id": keyword,
            "first_of_story": {"type": "boolean"},
            "published": {"type": "date"},
            "date_precision": keyword,
            "outlet": keyword,
            "matched": {"type": "object", "enabled": False},
            "topic_id": keyword,
            "topic_label": keyword,
            "sentiment": keyword,
            "sentiment_confidence": {"type": "float"},
            "entity_sentiments": {"type": "object", "enabled": False},
            "toward": keyword,
            "risk": keyword,
            "risk_points": {"type": "integer"},
            "risk_reasons": {"type": "object", "enabled": False},
            "title": text,
            "body": text,
            "title_terms": terms,
            "body_terms": terms,
            "vector": {
                "type": "dense_vector",
                "similarity": "cosine",
                "index": True,
                **({"dims": dims} if dims else {}),
            },
        }
        self.client.indices.put_index_template(
            name=self.alias,
            index_patterns=[f"{self.alias}-*"],
            template={
                "settings": {"number_of_shards": 1, "number_of_replicas": self.settings.replicas},
                "mappings": {"dynamic": "strict", "properties": properties},
                "aliases": {self.alias: {}},
            },
        )
        # Indices made by an earlier version gain the fields added since (adding fields is allowed), and
        # their documents the values of those derived from what they store.
        self.client.indices.put_mapping(
            index=f"{self.alias}-*",
            properties={name: value for name, value in properties.items() if name != "vector"},
            allow_no_indices=True,
        )
        self._mark_first_of_story()

    # -- writes ------------------------------------------------------------------------------------
    def upsert(self, docs: list[IndexDoc]) -> None:
        """Queue ``docs`` durably, then try to deliver everything queued."""
        if not docs:
            return
        now = datetime.now(UTC).isoformat()
        with self.outbox:
            self.outbox.executemany(
                "INSERT OR REPLACE INTO outbox VALUES (?, ?, ?)",
                [(doc.id, json.dumps(_source(doc)), now) for doc in docs],
            )
        if not self._template_ready:
            try:
                if not self._template_current():
                    self.init(next((len(d.vector) for d in docs if d.vector is not None), None))
                self._template_ready = True
            except TransportError as exc:
                log.warning(
                    "elasticsearch unavailable, documents stay in the outbox", extra={"error": str(exc)}
                )
                return
        self.flush()

    def flush(self) -> dict[str, int]:
        """Deliver the outbox; returns counts of indexed, dead-lettered and still pending documents."""
        counts = {"indexed": 0, "dead": 0, "pending": 0}
        try:
            for chunk in self._outbox_chunks():
                self._deliver(chunk, counts)
            self.client.indices.refresh(index=self.alias, ignore_unavailable=True, allow_no_indices=True)
        except TransportError as exc:  # the cluster is unreachable: everything stays queued
            log.warning("elasticsearch unavailable, documents stay in the outbox", extra={"error": str(exc)})
        counts["pending"] = int(self.outbox.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        return counts

    def _outbox_chunks(self) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """The outbox in insertion order, a chunk at a time; what stays queued waits for the next flush."""
        last = 0
        while True:
            rows = self.outbox.execute(
                "SELECT rowid, id, doc FROM outbox WHERE rowid > ? ORDER BY rowid LIMIT ?", (last, CHUNK)
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(doc_id, json.loads(doc)) for _, doc_id, doc in rows]

    def _deliver(self, chunk: list[tuple[str, dict[str, Any]]], counts: dict[str, int]) -> None:
        placed = self._existing_indices([doc_id for doc_id, _ in chunk])
        actions = [
            {
                "_op_type": "index",
                "_index": placed.get(doc_id) or self._monthly(source),
                "_id": doc_id,
                "_source": source,
            }
            for doc_id, source in chunk
        ]
        delivered, dead = [], []
        for ok, info in helpers.streaming_bulk(
            self.client,
            actions,
            max_retries=5,
            initial_backoff=1,
            max_backoff=30,
            raise_on_error=False,
            raise_on_exception=True,
        ):
            result = info["index"]
            if ok:
                delivered.append(result["_id"])
            elif result.get("status") in (429, 503):
                continue  # retried and still refused: stays in the outbox for the next flush
            else:
                dead.append((result["_id"], json.dumps(result.get("error"))[:2000]))
        now = datetime.now(UTC).isoformat()
        sources = dict(chunk)
        with self.outbox:
            self.outbox.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in delivered])
            self.outbox.executemany(
                "INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?, ?)",
                [(i, json.dumps(sources[i]), reason, now) for i, reason in dead],
            )
            self.outbox.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i, _ in dead])
        counts["indexed"] += len(delivered)
        counts["dead"] += len(dead)

    def _existing_indices(self, ids: list[str]) -> dict[str, str]:
        """Where documents already are, so a re-indexed document never lands in a second monthly index."""
        try:
            found = self.client.search(
                index=self.alias, query={"ids": {"values": ids}}, size=len(ids), source=False
            )
        except NotFoundError:
            return {}
        return {hit["_id"]: hit["_index"] for hit in found["hits"]["hits"]}

    def _monthly(self, source: dict[str, Any]) -> str:
        return f"{self.alias}-{source['published'][:7].replace('-', '.')}"

    def set_topics(self, topics: TopicTags) -> int:
        """Partial updates of the documents in the window whose topic changed (a point-in-time walk)."""
        window = {"range": {"published": {"gte": topics.since.isoformat(), "lt": topics.until.isoformat()}}}
        actions = []
        try:
            for hit in self._walk(window, include=["story_id", "topic_id", "topic_label"]):
                source = dict(hit["_source"])
                if topics.tag(source):
                    update = {"topic_id": source["topic_id"], "topic_label": source["topic_label"]}
                    actions.append(
                        {"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": update}
                    )
        except TransportError as exc:
            raise IndexError_(
                f"elasticsearch unavailable, topics not tagged (the next fit retries): {exc}"
            ) from None
        if actions:
            helpers.bulk(self.client, actions, chunk_size=CHUNK, refresh="wait_for")
        return len(actions)

    def _walk(
        self, query: dict[str, Any], size: int = CHUNK, include: list[str] | None = None,
        exclude: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        """The hits of ``query`` (their sources with only the ``include`` fields, or without the
        ``exclude`` ones), in a point-in-time snapshot, ``size`` a page; none when there is no index yet."""
        try:
            pit = self.client.open_point_in_time(index=self.alias, keep_alive="2m")["id"]
        except NotFoundError:
            return
        try:
            after: list[Any] | None = None
            while True:
                page = self.client.search(
                    pit={"id": pit, "keep_alive": "2m"}, query=query, size=size, sort=["_shard_doc"],
                    search_after=after, source_includes=include, source_excludes=exclude,
                )  # fmt: skip
                hits = page["hits"]["hits"]
                if not hits:
                    return
                yield from hits
                after = hits[-1]["sort"]
        finally:
            self.client.close_point_in_time(id=pit)

    def _template_current(self) -> bool:
        """Whether the index template exists and maps every field this version writes."""
        found = self.client.options(ignore_status=404).indices.get_index_template(name=self.alias)
        templates = found.body.get("index_templates", []) if found.meta.status == 200 else []
        mapped = templates[0]["index_template"]["template"]["mappings"]["properties"] if templates else {}
        return "first_of_story" in mapped

    def _mark_first_of_story(self) -> int:
        """``first_of_story`` on documents indexed before it existed (without it, the new-story counts of
        their days would read zero and every watchlist would look like a spike)."""
        missing = {"bool": {"must_not": {"exists": {"field": "first_of_story"}}}}
        actions = (  # streamed: an index of millions is marked without holding them all
            {"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"],
             "doc": {"first_of_story": hit["_source"].get("story_id", hit["_id"]) == hit["_id"]}}
            for hit in self._walk(missing, include=["story_id"])
        )  # fmt: skip
        marked, _ = helpers.bulk(self.client, actions, chunk_size=CHUNK, refresh="wait_for")
        if marked:
            log.info("marked the documents that started their stories", extra={"documents": marked})
        return int(marked)

    def dead_letters(self) -> list[tuple[str, str, str]]:
        return [tuple(row) for row in self.outbox.execute("SELECT id, reason, failed_at FROM dead_letters")]

    def retry(self) -> dict[str, int]:
        """Queue dead letters again and deliver (after a mapping fix, say)."""
        with self.outbox:
            self.outbox.execute("INSERT OR REPLACE INTO outbox SELECT id, doc, failed_at FROM dead_letters")
            self.outbox.execute("DELETE FROM dead_letters")
        return self.flush()

    def status(self) -> dict[str, Any]:
        pending = int(self.outbox.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        dead = int(self.outbox.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])
        try:
            answer: Any = self.client.cat.indices(index=f"{self.alias}-*", format="json").body
            rows: list[dict[str, Any]] = list(answer)
            indices = {row["index"]: int(row["docs.count"] or 0) for row in rows}
            reachable = True
        except NotFoundError:
            indices, reachable = {}, True
        except TransportError:
            indices, reachable = {}, False
        return {"reachable": reachable, "indices": indices, "outbox": pending, "dead_letters": dead}

    def export(self, batch: int = 1000) -> Iterator[IndexDoc]:
        """Every document with its vector, in a point-in-time snapshot paged with ``search_after``."""
        for hit in self._walk({"match_all": {}}, batch, exclude=["title_terms", "body_terms"]):
            source = hit["_source"]
            vector = np.asarray(source["vector"], dtype=np.float32) if "vector" in source else None
            yield doc_from_stored(source, vector)

    def recreate(self, dims: int | None = None) -> dict[str, int]:
        """Rebuild every index under the current template (after a mapping change) without ``_reindex``:
        all documents go to the durable outbox first, then the indices are dropped and refilled."""
        docs = list(self.export())
        now = datetime.now(UTC).isoformat()
        with self.outbox:
            self.outbox.executemany(
                "INSERT OR REPLACE INTO outbox VALUES (?, ?, ?)",
                [(doc.id, json.dumps(_source(doc)), now) for doc in docs],
            )
        names = list(self.client.indices.get(index=f"{self.alias}-*", allow_no_indices=True))
        if names:
            self.client.indices.delete(index=",".join(names))
        self.init(dims)
        self._template_ready = True
        return self.flush()

    # -- reads -------------------------------------------------------------------------------------
    def count(self) -> int:
        try:
            return int(self.client.count(index=self.alias)["count"])
        except NotFoundError:
            return 0

    def search(self, request: SearchRequest) -> SearchResult:
        node = q.parse(request.query) if request.query and request.query.strip() else None
        query = {
            "bool": {"must": [compile_query(node) if node else {"match_all": {}}], "filter": filters(request)}
        }
        body: dict[str, Any] = {
            "track_total_hits": True,
            "source_excludes": HIDDEN,
            "aggs": aggregations(request),
        }
        if request.vector is not None:
            wanted = request.offset + request.limit
            vector = np.asarray(request.vector, dtype=np.float32)
            body["knn"] = {
                "field": "vector",
                "query_vector": (vector / (np.linalg.norm(vector) or 1.0)).tolist(),
                "k": wanted,
                "num_candidates": max(100, 10 * wanted),
                "filter": query,
            }
            body.update(size=wanted)
        else:
            body.update(query=query, size=request.limit, from_=request.offset)
            body["sort"] = SORTS[request.sort]
        collapse = collapse_field(request)
        if collapse is not None:
            if request.offset + request.limit > self.max_window:
                raise IndexError_(f"collapsed results go only {self.max_window} deep: narrow the search")
            body["collapse"] = {"field": collapse}
        try:
            if request.vector is None and request.offset + request.limit > self.max_window:
                answer = self.pages.page(body, request.offset, self.max_window)
            else:
                answer = self.client.search(index=self.alias, **body)
        except NotFoundError:
            return SearchResult(total=0, hits=[])
        except ApiError as exc:
            raise IndexError_(f"Elasticsearch refused the search: {exc}") from None
        hits = (
            answer["hits"]["hits"][request.offset :] if request.vector is not None else answer["hits"]["hits"]
        )
        terms = q.positive_terms(node) if node else []
        shown = [_hit(hit, terms) for hit in hits]
        if request.vector is not None:
            total = int(self.client.count(index=self.alias, query=query)["count"])
        else:
            total = int(answer["hits"]["total"]["value"])
        aggregated = read_aggregations(answer.get("aggregations", {}), request)
        return SearchResult(total=total, hits=shown, **aggregated)


def _source(doc: IndexDoc) -> dict[str, Any]:
    source = stored_form(doc)
    source["first_of_story"] = doc.first_of_story
    source["title_terms"] = analyzed_text(doc.title)
    source["body_terms"] = analyzed_text(doc.body)
    if doc.vector is not None:
        source["vector"] = [float(x) for x in np.asarray(doc.vector, dtype=np.float32)]
    return source


def _hit(hit: dict[str, Any], terms: list[str]) -> Hit:
    doc = dict(hit["_source"])
    return Hit(
        id=str(doc["id"]),
        score=float(hit.get("_score") or 0.0),
        doc=doc,
        highlights=highlight_hit(doc, terms),
    )
