"""Deduplication into stories that keep their reprint counts: exact hash, then MinHash near-duplicates.

Nothing is dropped: every item joins exactly one story. State lives in SQLite, so a
new item joins a story from an earlier run without re-processing history.
"""

from __future__ import annotations

import hashlib
import operator
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from config.settings import StorySettings
from nlp.facts import figures_in, numerals_in, translation_facts
from nlp.normalize import tokens
from nlp.records import Item, StoryLevel
from nlp.story_records import Story, story_from_rows
from nlp.story_window import Facts, Window, signature_values

SEMANTIC_THRESHOLDS = {"all-MiniLM-L6-v2": 0.9, "multilingual-e5-small": 0.92}
"""Calibrated cosine thresholds per embedding model (benchmarks/dedup.py, benchmarks/multilingual.py);
unknown models skip the level. e5 compresses cosines into 0.7-1.0, so its threshold sits higher in that
range: on the reprint set, 0.88 gives F1 0.81, 0.90 0.93, 0.92 0.967 (0.93-0.97 the same)."""
CROSSLINGUAL_THRESHOLDS = {"multilingual-e5-small": 0.8}
"""Calibrated cosines (passage vectors) above which an item in another language is a candidate for the
cross-language level, confirmed by shared facts (benchmarks/multilingual.py); models that do not align
languages (MiniLM) have none, and the level is off."""
SHINGLE = 3
SCHEME = "affine32"  # datasketch >= 2.0; signatures are stored as uint32
MIN_TOKENS_FOR_NEAR = 12
RETRIEVAL_JACCARD = 0.2
"""LSH finds candidates down to this Jaccard; the decision is Jaccard or containment (truncated reprints)."""
Embed = Callable[[list[Item]], np.ndarray]
"""Normalised vectors of the given items, one row each."""
NUMERAL = "#:"
LEAD_CHARS = 600
"""Characters of body text kept with each item, for topic keywords (nlp.topic_daily)."""
COSINE_BLOCK = 256
"""Items whose cosines with the window are computed in one matrix product (far faster than one
matrix-vector product each); rows added meanwhile are compared one by one."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS story_items (
    item_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, content_hash TEXT NOT NULL, minhash BLOB,
    published TEXT NOT NULL, source TEXT NOT NULL, domain TEXT NOT NULL, language TEXT NOT NULL,
    text_len INTEGER NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, vector BLOB,
    shingles INTEGER NOT NULL DEFAULT 0, numbers TEXT NOT NULL DEFAULT '',
    date_precision TEXT NOT NULL DEFAULT 'datetime', facts TEXT NOT NULL DEFAULT '',
    lead TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS story_items_hash ON story_items (content_hash);
CREATE INDEX IF NOT EXISTS story_items_story ON story_items (story_id);
CREATE INDEX IF NOT EXISTS story_items_published ON story_items (published);
"""


def _shingle_hashes(pieces: Iterable[str]) -> list[int]:
    """datasketch's default 32-bit hash of each shingle (the first four bytes of its SHA-1, little-endian),
    read from all the digests at once rather than one call each."""
    digests = b"".join([hashlib.sha1(piece.encode("utf-8")).digest() for piece in pieces])
    return np.frombuffer(digests, dtype="<u4")[:: hashlib.sha1().digest_size // 4].tolist()


def shingles(text: str) -> set[str]:
    """Token 3-grams (words; single characters for Chinese); empty for texts too short to compare."""
    words = tokens(text)
    if len(words) < MIN_TOKENS_FOR_NEAR:
        return set()
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def semantic_threshold_for(settings: StorySettings, model: str) -> float | None:
    """The configured threshold, else the calibrated one for ``model``, else None (semantic level off)."""
    if settings.semantic_threshold is not None:
        return settings.semantic_threshold
    return SEMANTIC_THRESHOLDS.get(_model_name(model))


def crosslingual_threshold_for(settings: StorySettings, model: str) -> float | None:
    """The configured cross-language threshold, else the calibrated one for ``model``, else None (off)."""
    if settings.crosslingual_threshold is not None:
        return settings.crosslingual_threshold
    return CROSSLINGUAL_THRESHOLDS.get(_model_name(model))


def _model_name(model: str) -> str:
    """The model's name without its folder or backend (``multilingual-e5-small@onnx-int8``)."""
    return model.rstrip("/").split("/")[-1].split("@")[0]


class StoryStore:
    def __init__(
        self,
        path: Path,
        settings: StorySettings,
        semantic_threshold: float | None = None,
        crosslingual_threshold: float | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.semantic_threshold = semantic_threshold
        self.crosslingual_threshold = crosslingual_threshold
        self._permutations = MinHash(num_perm=settings.num_perm, seed=1, scheme=SCHEME)
        lsh = MinHashLSH(threshold=RETRIEVAL_JACCARD, num_perm=settings.num_perm)  # for its band layout
        self._bands = (lsh.b, lsh.r)
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)  # used by one thread at a time
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        _add_missing_columns(self.db)
        self._window: tuple[datetime, bool, Window, int] | None = None

    def close(self) -> None:
        self.db.close()

    def assign(self, items: list[Item], vectors: np.ndarray | None = None) -> None:
        """Set ``story_id`` and ``story_level`` on every item (in place) and record them, in one transaction.

        ``vectors`` (one normalised embedding per item) enables the semantic and cross-language levels.
        """
        if not items:
            return
        with_vectors = vectors is not None and self._vector_levels
        window = self._window_for(items, with_vectors)
        facts = self.facts(items)
        self._in_transaction(
            lambda: self._assign_rows(items, vectors if with_vectors else None, facts, window)
        )

    def facts(self, items: list[Item]) -> list[Facts]:
        """What the store compares ``items`` by besides their vectors (MinHash signature, figures,
        names): a function of each item alone, so another thread may compute it ahead of
        :meth:`assign_embedding`."""
        return [self._facts(item) for item in items]

    def assign_embedding(
        self, items: list[Item], embed: Embed, facts: list[Facts] | None = None
    ) -> np.ndarray:
        """:meth:`assign`, calling the encoder only for the items that need it, and each item's vector.

        A reprint (the same item seen before, the same text, or a near-duplicate of a recent item) joins
        its story without a vector and takes the vector of the item it reprints, from this batch or the
        store; ``embed`` is called once, with the other items (and any reprint whose original has no
        stored vector), which then go through every level as in :meth:`assign`. ``facts``: the items'
        :meth:`facts`, if computed already.
        """
        if not items:
            return np.zeros((0, 0), dtype=np.float32)
        window = self._window_for(items, self._vector_levels)
        facts = facts if facts is not None else self.facts(items)
        vectors: list[np.ndarray | None] = [None] * len(items)
        self._in_transaction(lambda: self._assign_embedding(items, facts, vectors, window, embed))
        return np.stack(vectors)  # type: ignore[arg-type]  # every row is set: borrowed or embedded

    def _assign_embedding(
        self,
        items: list[Item],
        facts: list[Facts],
        vectors: list[np.ndarray | None],
        window: Window,
        embed: Embed,
    ) -> None:
        """Reprints of the past are decided first and borrow their original's vector; items that need the
        vector levels are embedded in one call and decided in order; reprints of those (in this batch)
        follow them, with their story and vector."""
        pending, deferred = self._reprints_first(items, facts, vectors, window)
        needed = [row for row in range(len(items)) if vectors[row] is None and row not in deferred]
        for row, vector in zip(needed, embed([items[row] for row in needed]) if needed else [], strict=True):
            vectors[row] = vector
            if items[row].id not in pending:  # a reprint whose original has no stored vector: its own
                self._settle(items[row], facts[row], vector, window)
        rows = sorted(pending.values())
        own = np.stack([vectors[row] for row in rows]) if rows else None  # type: ignore[misc]  # stored, too
        self._assign_rows([items[row] for row in rows], own, [facts[row] for row in rows], window)
        for row, (source, level) in sorted(deferred.items()):
            item, vectors[row] = items[row], vectors[source]
            item.story_id, item.story_level = items[source].story_id, level
            self._settle(item, facts[row], vectors[row], window)

    def _reprints_first(
        self, items: list[Item], facts: list[Facts], vectors: list[np.ndarray | None], window: Window
    ) -> tuple[dict[str, int], dict[int, tuple[int, StoryLevel]]]:
        """Decide the reprints of the past (with their original's vector, where one is stored); return the
        items that need a vector of their own (id -> row, each findable meanwhile by its text and
        signature) and the reprints of those (row -> (original's row, level))."""
        pending: dict[str, int] = {}
        pending_texts: dict[str, int] = {}  # content hash -> first pending row with that text
        deferred: dict[int, tuple[int, StoryLevel]] = {}
        rows_of = {item.id: row for row, item in enumerate(items)}
        for row, item in enumerate(items):
            found = self._reprint(item, window, facts[row])
            if (found is None or found[1] == "near") and item.content_hash in pending_texts:
                deferred[row] = pending_texts[item.content_hash], "exact"  # as plain assign finds it
            elif found is not None and found[2] in pending:
                deferred[row] = pending[found[2]], found[1]
            elif found is not None:
                item.story_id, item.story_level, original = found
                earlier = rows_of.get(original)
                vectors[row] = vectors[earlier] if earlier is not None else None
                if vectors[row] is None:  # an item of the past (or of this batch that had none)
                    vectors[row] = self._stored_vector(original)
                self._settle(item, facts[row], vectors[row], window)
            else:
                pending[item.id] = row
                pending_texts.setdefault(item.content_hash, row)
                window.add(item.id, item.id, item.filed_at, facts[row], None)
        return pending, deferred

    def _settle(self, item: Item, facts: Facts, vector: np.ndarray | None, window: Window) -> None:
        """Record an item whose story is decided, and add it to the window (its vector where a level
        compares vectors)."""
        self._record(item, facts, vector)
        window.add(item.id, str(item.story_id), item.filed_at, facts, vector if self._vector_levels else None)

    def _stored_vector(self, item_id: str) -> np.ndarray | None:
        row = self.db.execute("SELECT vector FROM story_items WHERE item_id = ?", (item_id,)).fetchone()
        return np.frombuffer(row[0], dtype=np.float32).copy() if row and row[0] else None

    @property
    def _vector_levels(self) -> bool:
        return self.semantic_threshold is not None or self.crosslingual_threshold is not None

    def _window_for(self, items: list[Item], with_vectors: bool) -> Window:
        since = min(item.filed_at for item in items) - timedelta(days=self.settings.window_days)
        return self._window_since(since, with_vectors)

    def _in_transaction(self, work: Callable[[], None]) -> None:
        try:
            with self.db:
                work()
            if self._window is not None:
                self._window = (*self._window[:3], self._last_row())
        except BaseException:
            self._window = None  # it holds items the rolled-back transaction did not keep
            raise

    def _assign_rows(
        self, items: list[Item], vectors: np.ndarray | None, facts: list[Facts], window: Window
    ) -> None:
        """Every level for each item in order; the cosines with the window come in blocks of rows."""
        for row, item in enumerate(items):
            vector = column = None
            if vectors is not None:
                vector = vectors[row]
                if row % COSINE_BLOCK == 0:
                    known = window.cosines(vectors[row : row + COSINE_BLOCK])
                column = known[:, row % COSINE_BLOCK]
            item.story_id, item.story_level = self._story_for(item, window, vector, facts[row], column)
            self._settle(item, facts[row], vector, window)

    def _window_since(self, since: datetime, with_vectors: bool) -> Window:
        """The window of the previous call, extended back to ``since`` if needed (a batch streamed in
        chunks loads it once); matches are filtered by each item's own time span, so older rows in it
        change nothing. Rows written by another process meanwhile make it reload."""
        if self._window is not None:
            start, loaded_vectors, window, last_row = self._window
            span = timedelta(days=self.settings.window_days)
            if loaded_vectors == with_vectors and since < start + span and last_row == self._last_row():
                if since < start:
                    self._load_window(since, with_vectors, until=start, into=window)
                    self._window = (since, with_vectors, window, last_row)
                return window
        window = self._load_window(since, with_vectors)
        self._window = (since, with_vectors, window, self._last_row())
        return window

    def _last_row(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(rowid), 0) FROM story_items").fetchone()[0])

    def _reprint(self, item: Item, window: Window, facts: Facts) -> tuple[str, StoryLevel, str] | None:
        """The story of an item seen before, of the same text, or of a near-duplicate, with the level and
        the item it reprints; None for an item that needs the vector levels."""
        row = self.db.execute("SELECT story_id FROM story_items WHERE item_id = ?", (item.id,)).fetchone()
        if row:
            return str(row[0]), "known", item.id
        row = self.db.execute(
            "SELECT story_id, item_id FROM story_items WHERE content_hash = ? ORDER BY published LIMIT 1",
            (item.content_hash,),
        ).fetchone()
        if row:
            return str(row[0]), "exact", str(row[1])
        near = window.reprint_of(facts, item.filed_at, self.settings, exclude=item.id)
        if near:
            return near[0], "near", near[1]
        return None

    def _story_for(
        self, item: Item, window: Window, vector: np.ndarray | None, facts: Facts, known: np.ndarray | None
    ) -> tuple[str, StoryLevel]:
        found = self._reprint(item, window, facts)
        if found:
            return found[0], found[1]
        if vector is None:
            return item.id, "new"
        scores = window.scores(vector, item.filed_at, self.settings.window_days, known)
        if self.semantic_threshold is not None:
            similar = window.most_similar(scores, facts, self.semantic_threshold)
            if similar:
                return similar, "semantic"
        if self.crosslingual_threshold is not None:
            joined = window.across_languages(scores, facts, self.crosslingual_threshold)
            if joined:
                return joined, "crosslingual"
        return item.id, "new"

    def _facts(self, item: Item) -> Facts:
        pieces = shingles(item.text)
        signature = None
        if pieces:
            signature = MinHash(
                num_perm=self.settings.num_perm,
                seed=1,
                permutations=self._permutations.permutations,
                scheme=SCHEME,
                hashfunc=operator.index,  # the values are hashed already, by _shingle_hashes
            )
            signature.update_batch(_shingle_hashes(pieces))
        whole = f"{item.title}\n{item.text}"
        entities = frozenset(m.via for m in item.mentions if m.via != "query")
        evidence = translation_facts(item.title, item.text, item.language, entities)
        return Facts(signature, len(pieces), figures_in(whole), item.language, evidence, numerals_in(whole))

    def _signature(self, values: np.ndarray) -> MinHash:
        return MinHash(num_perm=len(values), seed=1, hashvalues=values, scheme=SCHEME)

    def _load_window(
        self, since: datetime, with_vectors: bool, until: datetime | None = None, into: Window | None = None
    ) -> Window:
        """Rows published from ``since`` (to ``until``), into a new window or ``into`` (skipping its rows)."""
        window = into or Window(self.settings.num_perm, self._bands)
        rows = self.db.execute(
            "SELECT item_id, story_id, minhash, published, vector, shingles, numbers, language, facts "
            "FROM story_items "
            "WHERE published >= ? AND published < ?",
            (since.isoformat(), (until or datetime.max.replace(tzinfo=since.tzinfo)).isoformat()),
        )
        for item_id, story_id, blob, when, vector, size, figures, language, evidence in rows:
            if item_id in window.items:
                continue
            signature = self._signature(np.frombuffer(blob, dtype=np.uint32)) if blob else None
            stored = np.frombuffer(vector, dtype=np.float32) if with_vectors and vector else None
            facts = _stored_facts(signature, int(size), figures, language, evidence)
            window.add(item_id, story_id, datetime.fromisoformat(when), facts, stored)
        return window

    def _record(self, item: Item, facts: Facts, vector: np.ndarray | None) -> None:
        signature = facts.signature
        blob = signature_values(signature).tobytes() if signature is not None else None
        vector_blob = np.asarray(vector, dtype=np.float32).tobytes() if vector is not None else None
        self.db.execute(
            "INSERT OR REPLACE INTO story_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.id,
                item.story_id,
                item.content_hash,
                blob,
                item.filed_at.isoformat(),
                item.source,
                item.domain,
                item.language,
                len(item.text),
                item.title,
                item.url,
                vector_blob,
                facts.size,
                " ".join(sorted(facts.numbers)),
                item.date_precision,
                " ".join(sorted([*facts.evidence, *(NUMERAL + numeral for numeral in facts.numerals)])),
                item.text[:LEAD_CHARS],
            ),
        )

    def stories(self, story_ids: Iterable[str]) -> dict[str, Story]:
        members = self.member_rows(story_ids)
        return {story_id: story_from_rows(story_id, rows) for story_id, rows in members.items()}

    def member_rows(self, story_ids: Iterable[str]) -> dict[str, list[tuple]]:
        """Each story's items, oldest first: ``(item_id, published, source, domain, language, text_len,
        title, url, date_precision)``."""
        wanted = sorted(set(story_ids))
        members: dict[str, list[tuple]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.db.execute(
                "SELECT story_id, item_id, published, source, domain, language, text_len, title, url, "
                "date_precision "
                f"FROM story_items WHERE story_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY published, item_id",
                chunk,
            )
            for row in rows:
                members.setdefault(row[0], []).append(row[1:])
        return members

    def activity(self, since: datetime, until: datetime) -> list[tuple[str, str, datetime, str, str]]:
        """``(item_id, story_id, published, source, language)`` of the items filed in ``[since, until)``."""
        rows = self.db.execute(
            "SELECT item_id, story_id, published, source, language FROM story_items "
            "WHERE published >= ? AND published < ? ORDER BY published, item_id",
            (since.isoformat(), until.isoformat()),
        )
        return [(i, s, datetime.fromisoformat(p), src, lang) for i, s, p, src, lang in rows]

    def texts_and_vectors(self, item_ids: list[str]) -> dict[str, tuple[str, str, str, np.ndarray]]:
        """``item_id -> (title, lead, language, vector)`` of the given items that have a stored vector."""
        found = {}
        for start in range(0, len(item_ids), 500):
            chunk = item_ids[start : start + 500]
            rows = self.db.execute(
                "SELECT item_id, title, lead, language, vector FROM story_items "
                f"WHERE vector IS NOT NULL AND item_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update(
                {i: (t, lead, lang, np.frombuffer(v, dtype=np.float32)) for i, t, lead, lang, v in rows}
            )
        return found


def _stored_facts(signature: MinHash | None, size: int, figures: str, language: str, facts: str) -> Facts:
    """Facts as :meth:`StoryStore._record` stored them (numerals among the facts, marked ``#:``)."""
    tokens = facts.split()
    return Facts(
        signature,
        size,
        frozenset(figures.split()),
        language,
        frozenset(token for token in tokens if not token.startswith(NUMERAL)),
        frozenset(token[len(NUMERAL) :] for token in tokens if token.startswith(NUMERAL)),
    )


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Columns added after a store was first written, with their defaults (older stores open as they are)."""
    present = {row[1] for row in db.execute("PRAGMA table_info(story_items)")}
    for column, default in (("date_precision", "'datetime'"), ("facts", "''"), ("lead", "''")):
        if column not in present:
            db.execute(f"ALTER TABLE story_items ADD COLUMN {column} TEXT NOT NULL DEFAULT {default}")
    db.commit()
