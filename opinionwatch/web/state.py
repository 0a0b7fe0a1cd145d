"""The web page's own small state: users' saved searches, their feedback on items, their interface
language (``data_dir/web.sqlite``). Any number of ``opinionwatch web`` processes share it: WAL, a busy
timeout, and one short transaction per write."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

FeedbackKind = Literal["not_relevant", "wrong_sentiment", "wrong_risk", "other"]
FEEDBACK_KINDS: tuple[str, ...] = ("not_relevant", "wrong_sentiment", "wrong_risk", "other")

SCHEMA = """
CREATE TABLE IF NOT EXISTS saved_searches (
    id INTEGER PRIMARY KEY, user TEXT NOT NULL, name TEXT NOT NULL, params TEXT NOT NULL,
    created TEXT NOT NULL, UNIQUE (user, name)
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, user TEXT NOT NULL, item_id TEXT NOT NULL, kind TEXT NOT NULL,
    watchlist TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', item TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS preferences (user TEXT PRIMARY KEY, language TEXT NOT NULL);
"""


@dataclass(frozen=True)
class SavedSearch:
    id: int
    user: str
    name: str
    params: dict[str, Any]
    created: datetime


@dataclass(frozen=True)
class Feedback:
    id: int
    user: str
    item_id: str
    kind: str
    watchlist: str
    note: str
    item: dict[str, Any]
    """What the item looked like when judged (title, url, sentiment, risk, watchlists, matched)."""
    created: datetime


class WebStateError(ValueError):
    """A request the state cannot take (a duplicate name, an unknown id); the message says which."""


class WebState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    def _write(self, sql: str, values: tuple[Any, ...]) -> sqlite3.Cursor:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self.db.execute(sql, values)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return cursor

    def save_search(self, user: str, name: str, params: dict[str, Any], now: datetime) -> SavedSearch:
        try:
            cursor = self._write(
                "INSERT INTO saved_searches (user, name, params, created) VALUES (?, ?, ?, ?)",
                (user, name, json.dumps(params, sort_keys=True, ensure_ascii=False), now.isoformat()),
            )
        except sqlite3.IntegrityError:
            raise WebStateError(f"you already have a saved search named {name!r}") from None
        return SavedSearch(int(cursor.lastrowid or 0), user, name, params, now)

    def saved_searches(self, user: str | None = None) -> list[SavedSearch]:
        where, values = ("WHERE user = ?", (user,)) if user is not None else ("", ())
        with self.lock:
            rows = self.db.execute(
                f"SELECT id, user, name, params, created FROM saved_searches {where} ORDER BY user, name",
                values,
            ).fetchall()
        return [SavedSearch(r[0], r[1], r[2], json.loads(r[3]), datetime.fromisoformat(r[4])) for r in rows]

    def saved_search(self, user: str, search_id: int) -> SavedSearch:
        found = [s for s in self.saved_searches(user) if s.id == search_id]
        if not found:
            raise WebStateError(f"no saved search {search_id} of yours")
        return found[0]

    def delete_search(self, user: str, search_id: int) -> None:
        cursor = self._write("DELETE FROM saved_searches WHERE user = ? AND id = ?", (user, search_id))
        if cursor.rowcount == 0:
            raise WebStateError(f"no saved search {search_id} of yours")

    def add_feedback(
        self, user: str, item: dict[str, Any], kind: str, watchlist: str, note: str, now: datetime
    ) -> Feedback:
        if kind not in FEEDBACK_KINDS:
            raise WebStateError(f"unknown feedback {kind!r}; one of {', '.join(FEEDBACK_KINDS)}")
        cursor = self._write(
            "INSERT INTO feedback (user, item_id, kind, watchlist, note, item, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                user,
                str(item["id"]),
                kind,
                watchlist,
                note,
                json.dumps(item, ensure_ascii=False),
                now.isoformat(),
            ),
        )
        return Feedback(int(cursor.lastrowid or 0), user, str(item["id"]), kind, watchlist, note, item, now)

    def feedback(self, since: datetime | None = None) -> list[Feedback]:
        with self.lock:
            rows = self.db.execute(
                "SELECT id, user, item_id, kind, watchlist, note, item, created FROM feedback "
                "WHERE created >= ? ORDER BY created, id",
                ((since or datetime.min).isoformat(),),
            ).fetchall()
        return [
            Feedback(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), datetime.fromisoformat(r[7]))
            for r in rows
        ]

    def language(self, user: str) -> str | None:
        with self.lock:
            row = self.db.execute("SELECT language FROM preferences WHERE user = ?", (user,)).fetchone()
        return None if row is None else str(row[0])

    def set_language(self, user: str, language: str) -> None:
        self._write(
            "INSERT INTO preferences (user, language) VALUES (?, ?) "
            "ON CONFLICT (user) DO UPDATE SET language = excluded.language",
            (user, language),
        )
