"""Deduplication into stories that keep their reprint counts: exact hash, then MinHash near-duplicates.

Nothing is dropped: every item joins exactly one story. State lives in SQLite, so a
new item joins a story from an earlier run without re-processing history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH
from pydantic import BaseModel

from config.settings import StorySettings
from nlp.normalize import tokens
from nlp.records import Item

SHINGLE = 3
SCHEME = "affine32"  # datasketch >= 2.0; signatures are stored as uint32
MIN_TOKENS_FOR_NEAR = 12
COMPLETE_FRACTION = 0.8
SCHEMA = """
CREATE TABLE IF NOT EXISTS story_items (
    item_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, content_hash TEXT NOT NULL, minhash BLOB,
    published TEXT NOT NULL, source TEXT NOT NULL, domain TEXT NOT NULL, language TEXT NOT NULL,
    text_len INTEGER NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL
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


class StoryStore:
    def __init__(self, path: Path, settings: StorySettings) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.db = sqlite3.connect(path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def assign(self, items: list[Item]) -> None:
        """Set ``story_id`` on every item (in place) and record them, in one transaction."""
        if not items:
            return
        since = min(item.published for item in items) - timedelta(days=self.settings.window_days)
        lsh, published = self._load_lsh(since)
        with self.db:
            for item in items:
                item.story_id = self._story_for(item, lsh, published)
                signature = self._minhash(item)
                self._record(item, signature)
                if signature is not None:
                    key = item.id
                    if key not in lsh:
                        lsh.insert(key, signature)
                    published[key] = (item.published, item.story_id)

    def _story_for(self, item: Item, lsh: MinHashLSH, published: dict[str, tuple[datetime, str]]) -> str:
        row = self.db.execute("SELECT story_id FROM story_items WHERE item_id = ?", (item.id,)).fetchone()
        if row:
            return str(row[0])
        row = self.db.execute(
            "SELECT story_id FROM story_items WHERE content_hash = ? ORDER BY published LIMIT 1",
            (item.content_hash,),
        ).fetchone()
        if row:
            return str(row[0])
        signature = self._minhash(item)
        if signature is None:
            return item.id
        window = timedelta(days=self.settings.window_days)
        best: tuple[float, str] | None = None
        for key in lsh.query(signature):
            when, story = published[key]
            if abs(when - item.published) > window:
                continue
            other = self._signature(self._stored_signature(key))
            score = signature.jaccard(other)
            if score >= self.settings.near_duplicate_threshold and (best is None or score > best[0]):
                best = (score, story)
        return best[1] if best else item.id

    def _minhash(self, item: Item) -> MinHash | None:
        words = tokens(item.text)
        if len(words) < MIN_TOKENS_FOR_NEAR:
            return None
        signature = MinHash(num_perm=self.settings.num_perm, seed=1, scheme=SCHEME)
        signature.update_batch(
            [" ".join(words[i : i + SHINGLE]).encode("utf-8") for i in range(len(words) - SHINGLE + 1)]
        )
        return signature

    def _signature(self, values: np.ndarray) -> MinHash:
        return MinHash(num_perm=len(values), seed=1, hashvalues=values, scheme=SCHEME)

    def _stored_signature(self, item_id: str) -> np.ndarray:
        row = self.db.execute("SELECT minhash FROM story_items WHERE item_id = ?", (item_id,)).fetchone()
        return np.frombuffer(row[0], dtype=np.uint32)

    def _load_lsh(self, since: datetime) -> tuple[MinHashLSH, dict[str, tuple[datetime, str]]]:
        lsh = MinHashLSH(threshold=self.settings.near_duplicate_threshold, num_perm=self.settings.num_perm)
        published: dict[str, tuple[datetime, str]] = {}
        rows = self.db.execute(
            "SELECT item_id, story_id, minhash, published FROM story_items "
            "WHERE minhash IS NOT NULL AND published >= ?",
            (since.isoformat(),),
        )
        for item_id, story_id, blob, when in rows:
            lsh.insert(item_id, self._signature(np.frombuffer(blob, dtype=np.uint32)))
            published[item_id] = (datetime.fromisoformat(when), story_id)
        return lsh, published

    def _record(self, item: Item, signature: MinHash | None) -> None:
        blob = signature.hashvalues.astype(np.uint32).tobytes() if signature is not None else None
        self.db.execute(
            "INSERT OR REPLACE INTO story_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.id,
                item.story_id,
                item.content_hash,
                blob,
                item.published.isoformat(),
                item.source,
                item.domain,
                item.language,
                len(item.text),
                item.title,
                item.url,
            ),
        )

    def stories(self, story_ids: Iterable[str]) -> dict[str, Story]:
        wanted = sorted(set(story_ids))
        members: dict[str, list[tuple]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.db.execute(
                "SELECT story_id, item_id, published, source, domain, language, text_len, title, url "
                f"FROM story_items WHERE story_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY published, item_id",
                chunk,
            )
            for row in rows:
                members.setdefault(row[0], []).append(row[1:])
        return {story_id: _story(story_id, rows) for story_id, rows in members.items()}


def _story(story_id: str, rows: list[tuple]) -> Story:
    longest = max(row[5] for row in rows)
    complete = [row for row in rows if row[5] >= COMPLETE_FRACTION * longest]
    canonical = complete[0]
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
