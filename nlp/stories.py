"""Deduplication into stories that keep their reprint counts: exact hash, then MinHash near-duplicates.

Nothing is dropped: every item joins exactly one story. State lives in SQLite, so a
new item joins a story from an earlier run without re-processing history.
"""

from __future__ import annotations

import hashlib
import operator
import re
import sqlite3
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH
from pydantic import BaseModel

from config.settings import StorySettings
from nlp.normalize import tokens
from nlp.records import Item, StoryLevel

SEMANTIC_THRESHOLDS = {"all-MiniLM-L6-v2": 0.9, "multilingual-e5-small": 0.92}
"""Calibrated cosine thresholds per embedding model (benchmarks/dedup.py, benchmarks/multilingual.py);
unknown models skip the level. e5 compresses cosines into 0.7-1.0, so its threshold sits higher in that
range: on the reprint set, 0.88 gives F1 0.81, 0.90 0.93, 0.92 0.967 (0.93-0.97 the same)."""
SHINGLE = 3
SCHEME = "affine32"  # datasketch >= 2.0; signatures are stored as uint32
MIN_TOKENS_FOR_NEAR = 12
RETRIEVAL_JACCARD = 0.2
"""LSH finds candidates down to this Jaccard; the decision is Jaccard or containment (truncated reprints)."""
NUMBER = re.compile(r"\d[\d,.]*\d|\d")
UNSUPPORTED_MARGIN = 0.1
"""Without a shared number to support it, a semantic match needs this much more cosine."""
COMPLETE_FRACTION = 0.8
PRECISION_RANK = {"datetime": 0, "date": 1, "none": 2}
COSINE_BLOCK = 256
"""Items whose cosines with the window are computed in one matrix product (far faster than one
matrix-vector product each); rows added meanwhile are compared one by one."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS story_items (
    item_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, content_hash TEXT NOT NULL, minhash BLOB,
    published TEXT NOT NULL, source TEXT NOT NULL, domain TEXT NOT NULL, language TEXT NOT NULL,
    text_len INTEGER NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, vector BLOB,
    shingles INTEGER NOT NULL DEFAULT 0, numbers TEXT NOT NULL DEFAULT '',
    date_precision TEXT NOT NULL DEFAULT 'datetime'
);
CREATE INDEX IF NOT EXISTS story_items_hash ON story_items (content_hash);
CREATE INDEX IF NOT EXISTS story_items_story ON story_items (story_id);
CREATE INDEX IF NOT EXISTS story_items_published ON story_items (published);
"""


class Story(BaseModel):
    id: str
    canonical_item_id: str
    title: str
    url: str
    member_count: int
    sources: list[str]
    domains: list[str]
    languages: list[str]
    first_seen: datetime
    last_seen: datetime
    member_ids: list[str]


@dataclass(frozen=True)
class _Facts:
    """What deduplication needs of one item, computed once."""

    signature: MinHash | None
    size: int
    numbers: frozenset[str]


class _Grown:
    """Rows appended one at a time to an array whose capacity doubles when full."""

    def __init__(self, dtype: type, width: int = 0) -> None:
        self.dtype = dtype
        self.data: np.ndarray = np.zeros((0, width) if width else 0, dtype=dtype)
        self.size = 0

    def append(self, value: object) -> None:
        if self.size == len(self.data):
            grown = np.zeros((max(256, 2 * self.size), *self.data.shape[1:]), dtype=self.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class _Bands:
    """LSH over MinHash signatures: the rows whose signatures agree with a query on every value of at
    least one band. Rows are small integers kept in typed arrays per bucket, so a query's candidates are
    gathered and deduplicated in a few numpy steps (template-heavy sites give hundreds per query)."""

    def __init__(self, bands: int, width: int) -> None:
        self.width = width
        self.tables: list[dict[bytes, array[int]]] = [{} for _ in range(bands)]
        self.rows = 0

    def add(self, row: int, hashvalues: np.ndarray) -> None:
        for table, key in zip(self.tables, self._keys(hashvalues), strict=True):
            table.setdefault(key, array("q")).append(row)
        self.rows = max(self.rows, row + 1)

    def query(self, hashvalues: np.ndarray) -> np.ndarray:
        """The candidate rows, sorted and each once."""
        keys = self._keys(hashvalues)
        found = [bucket for table, key in zip(self.tables, keys, strict=True) if (bucket := table.get(key))]
        if not found:
            return np.zeros(0, dtype=np.int64)
        hit = np.zeros(self.rows, dtype=bool)
        hit[np.concatenate([np.frombuffer(bucket, dtype=np.int64) for bucket in found])] = True
        return np.flatnonzero(hit)

    def _keys(self, hashvalues: np.ndarray) -> list[bytes]:
        width = self.width
        return [hashvalues[band * width : (band + 1) * width].tobytes() for band in range(len(self.tables))]


class _Window:
    """The recent past that new items are compared with: MinHash signatures behind an LSH index and,
    optionally, embeddings; each level's rows live in arrays, so an item is scored against all of its
    candidates at once."""

    def __init__(self, num_perm: int, bands: tuple[int, int]) -> None:
        self.bands = _Bands(*bands)
        self.items: set[str] = set()
        self.signature_rows: dict[str, int] = {}
        self.signatures = _Grown(np.uint32, num_perm)
        self.signature_times = _Grown(np.float64)
        self.sizes = _Grown(np.float64)
        self.signature_stories: list[str] = []
        self.vectors: _Grown | None = None
        self.times = _Grown(np.float64)
        self.stories: list[str] = []
        self.numbers: list[frozenset[str]] = []

    def add(self, item_id: str, story: str, when: datetime, facts: _Facts, vector: np.ndarray | None) -> None:
        self.items.add(item_id)
        if facts.signature is not None and item_id not in self.signature_rows:
            self.signature_rows[item_id] = self.signatures.size
            self.bands.add(self.signatures.size, _values(facts.signature))
            self.signatures.append(_values(facts.signature))
            self.signature_times.append(when.timestamp())
            self.sizes.append(facts.size)
            self.signature_stories.append(story)
        if vector is not None:
            self.vectors = self.vectors or _Grown(np.float32, len(vector))
            self.vectors.append(vector)
            self.times.append(when.timestamp())
            self.stories.append(story)
            self.numbers.append(facts.numbers)

    def reprint_of(self, facts: _Facts, when: datetime, settings: StorySettings) -> str | None:
        """The story of the best reprint within ``settings.window_days``: MinHash Jaccard above the
        threshold, or most of the shorter text contained in the longer (truncated reprints)."""
        if facts.signature is None:
            return None
        values = _values(facts.signature)
        rows = self.bands.query(values)
        rows = rows[
            np.abs(self.signature_times.view()[rows] - when.timestamp()) <= settings.window_days * 86400
        ]
        if not len(rows):
            return None
        scores = np.count_nonzero(self.signatures.view()[rows] == values, axis=1) / len(values)  # ~ Jaccard
        sizes = self.sizes.view()[rows]
        contained = (
            scores * (facts.size + sizes) / ((1 + scores) * np.maximum(1, np.minimum(facts.size, sizes)))
        )
        reprint = (scores >= settings.near_duplicate_threshold) | (
            contained >= settings.near_duplicate_containment
        )
        if not reprint.any():
            return None
        return self.signature_stories[rows[int(np.argmax(np.where(reprint, scores, -1.0)))]]

    def cosines(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of every row so far with each of ``vectors`` (rows x vectors): one matrix product."""
        if self.vectors is None:
            return np.zeros((0, len(vectors)), dtype=np.float32)
        return self.vectors.view() @ vectors.T

    def most_similar(
        self,
        vector: np.ndarray,
        numbers: frozenset[str],
        when: datetime,
        days: int,
        threshold: float,
        known: np.ndarray | None = None,
    ) -> str | None:
        """The story of the most similar recent item above ``threshold``, supported by shared figures
        (different events on one topic rarely share them), or ``UNSUPPORTED_MARGIN`` more cosine.
        ``known`` holds the cosines with the first rows, already computed by :meth:`cosines`."""
        if self.vectors is None:
            return None
        done = 0 if known is None else len(known)
        scores = self.vectors.view()[done:] @ vector
        if known is not None:
            scores = np.concatenate([known, scores])
        scores[np.abs(self.times.view() - when.timestamp()) > days * 86400] = -1.0
        above = np.flatnonzero(scores >= threshold)
        for row in above[np.argsort(-scores[above])][:20]:
            if _figures_agree(numbers, self.numbers[row]) or scores[row] >= threshold + UNSUPPORTED_MARGIN:
                return self.stories[row]
        return None


def _values(signature: MinHash) -> np.ndarray:
    """A signature's hash values as stored (uint32: the affine32 scheme's values fit)."""
    return np.asarray(signature.hashvalues, dtype=np.uint32)


def _shingle_hashes(pieces: Iterable[str]) -> list[int]:
    """datasketch's default 32-bit hash of each shingle (the first four bytes of its SHA-1, little-endian),
    read from all the digests at once rather than one call each."""
    digests = b"".join([hashlib.sha1(piece.encode("utf-8")).digest() for piece in pieces])
    return np.frombuffer(digests, dtype="<u4")[:: hashlib.sha1().digest_size // 4].tolist()


def _figures_agree(left: frozenset[str], right: frozenset[str]) -> bool:
    """Two shared figures (one if a side has only one): chance agreement of two figures is rare."""
    needed = min(2, len(left), len(right))
    return needed > 0 and len(left & right) >= needed


def numbers_in(text: str) -> frozenset[str]:
    """Figures in the text (10 and up, not years), normalised: strong evidence of the same event."""
    found = set()
    for match in NUMBER.findall(text):
        value = match.replace(",", "").rstrip(".")
        if len(value) == 4 and value.isdigit() and 1900 <= int(value) <= 2099:
            continue
        try:
            if float(value) >= 10:
                found.add(value)
        except ValueError:
            continue
    return frozenset(found)


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
    return SEMANTIC_THRESHOLDS.get(model.rstrip("/").split("/")[-1])


class StoryStore:
    def __init__(self, path: Path, settings: StorySettings, semantic_threshold: float | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.semantic_threshold = semantic_threshold
        self._permutations = MinHash(num_perm=settings.num_perm, seed=1, scheme=SCHEME)
        lsh = MinHashLSH(threshold=RETRIEVAL_JACCARD, num_perm=settings.num_perm)  # for its band layout
        self._bands = (lsh.b, lsh.r)
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)  # used by one thread at a time
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        _add_missing_columns(self.db)
        self._window: tuple[datetime, bool, _Window, int] | None = None

    def close(self) -> None:
        self.db.close()

    def assign(self, items: list[Item], vectors: np.ndarray | None = None) -> None:
        """Set ``story_id`` and ``story_level`` on every item (in place) and record them, in one transaction.

        ``vectors`` (one normalised embedding per item) enables the semantic level.
        """
        if not items:
            return
        since = min(item.filed_at for item in items) - timedelta(days=self.settings.window_days)
        semantic = vectors is not None and self.semantic_threshold is not None
        window = self._window_since(since, semantic)
        try:
            with self.db:
                for row, item in enumerate(items):
                    vector = column = None
                    if semantic and vectors is not None:
                        vector = vectors[row]
                        if row % COSINE_BLOCK == 0:
                            known = window.cosines(vectors[row : row + COSINE_BLOCK])
                        column = known[:, row % COSINE_BLOCK]
                    facts = self._facts(item)
                    item.story_id, item.story_level = self._story_for(item, window, vector, facts, column)
                    self._record(item, facts, vector)
                    window.add(item.id, item.story_id, item.filed_at, facts, vector)
            if self._window is not None:
                self._window = (*self._window[:3], self._last_row())
        except BaseException:
            self._window = None  # it holds items the rolled-back transaction did not keep
            raise

    def _window_since(self, since: datetime, semantic: bool) -> _Window:
        """The window of the previous call, extended back to ``since`` if needed (a batch streamed in
        chunks loads it once); matches are filtered by each item's own time span, so older rows in it
        change nothing. Rows written by another process meanwhile make it reload."""
        if self._window is not None:
            start, with_vectors, window, last_row = self._window
            span = timedelta(days=self.settings.window_days)
            if with_vectors == semantic and since < start + span and last_row == self._last_row():
                if since < start:
                    self._load_window(since, semantic, until=start, into=window)
                    self._window = (since, semantic, window, last_row)
                return window
        window = self._load_window(since, semantic)
        self._window = (since, semantic, window, self._last_row())
        return window

    def _last_row(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(rowid), 0) FROM story_items").fetchone()[0])

    def _story_for(
        self, item: Item, window: _Window, vector: np.ndarray | None, facts: _Facts, known: np.ndarray | None
    ) -> tuple[str, StoryLevel]:
        row = self.db.execute("SELECT story_id FROM story_items WHERE item_id = ?", (item.id,)).fetchone()
        if row:
            return str(row[0]), "known"
        row = self.db.execute(
            "SELECT story_id FROM story_items WHERE content_hash = ? ORDER BY published LIMIT 1",
            (item.content_hash,),
        ).fetchone()
        if row:
            return str(row[0]), "exact"
        near = window.reprint_of(facts, item.filed_at, self.settings)
        if near:
            return near, "near"
        if vector is not None and self.semantic_threshold is not None:
            similar = window.most_similar(
                vector,
                facts.numbers,
                item.filed_at,
                self.settings.window_days,
                self.semantic_threshold,
                known,
            )
            if similar:
                return similar, "semantic"
        return item.id, "new"

    def _facts(self, item: Item) -> _Facts:
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
        return _Facts(signature, len(pieces), numbers_in(item.text))

    def _signature(self, values: np.ndarray) -> MinHash:
        return MinHash(num_perm=len(values), seed=1, hashvalues=values, scheme=SCHEME)

    def _load_window(
        self, since: datetime, with_vectors: bool, until: datetime | None = None, into: _Window | None = None
    ) -> _Window:
        """Rows published from ``since`` (to ``until``), into a new window or ``into`` (skipping its rows)."""
        window = into or _Window(self.settings.num_perm, self._bands)
        rows = self.db.execute(
            "SELECT item_id, story_id, minhash, published, vector, shingles, numbers FROM story_items "
            "WHERE published >= ? AND published < ?",
            (since.isoformat(), (until or datetime.max.replace(tzinfo=since.tzinfo)).isoformat()),
        )
        for item_id, story_id, blob, when, vector, size, figures in rows:
            if item_id in window.items:
                continue
            signature = self._signature(np.frombuffer(blob, dtype=np.uint32)) if blob else None
            stored = np.frombuffer(vector, dtype=np.float32) if with_vectors and vector else None
            facts = _Facts(signature, int(size), frozenset(figures.split()))
            window.add(item_id, story_id, datetime.fromisoformat(when), facts, stored)
        return window

    def _record(self, item: Item, facts: _Facts, vector: np.ndarray | None) -> None:
        signature = facts.signature
        blob = _values(signature).tobytes() if signature is not None else None
        vector_blob = np.asarray(vector, dtype=np.float32).tobytes() if vector is not None else None
        self.db.execute(
            "INSERT OR REPLACE INTO story_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )

    def stories(self, story_ids: Iterable[str]) -> dict[str, Story]:
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
        return {story_id: _story(story_id, rows) for story_id, rows in members.items()}


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Columns added after a store was first written, with their defaults (older stores open as they are)."""
    present = {row[1] for row in db.execute("PRAGMA table_info(story_items)")}
    if "date_precision" not in present:
        db.execute("ALTER TABLE story_items ADD COLUMN date_precision TEXT NOT NULL DEFAULT 'datetime'")
        db.commit()


def _story(story_id: str, rows: list[tuple]) -> Story:
    """The canonical item is the earliest complete version; a timed one before any dated only by day or
    undated (a day-only date is local midnight, which would make a later reprint look earlier)."""
    longest = max(row[5] for row in rows)
    complete = [row for row in rows if row[5] >= COMPLETE_FRACTION * longest]
    canonical = min(complete, key=lambda row: (PRECISION_RANK[row[8]], row[1], row[0]))
    stamps = [datetime.fromisoformat(row[1]) for row in rows]
    return Story(
        id=story_id,
        canonical_item_id=canonical[0],
        title=canonical[6],
        url=canonical[7],
        member_count=len(rows),
        sources=sorted({row[2] for row in rows}),
        domains=sorted({row[3] for row in rows}),
        languages=sorted({row[4] for row in rows}),
        first_seen=min(stamps),
        last_seen=max(stamps),
        member_ids=[row[0] for row in rows],
    )
