"""One way to open the project's SQLite files: WAL (readers never wait for the writer), a 30 s busy
timeout (several processes share a data folder), the schema applied."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_database(path: Path, schema: str, autocommit: bool = False) -> sqlite3.Connection:
    """The database at ``path`` (its folder made), with ``schema`` (idempotent DDL) applied. The connection
    may be handed between threads but is used by one at a time. ``autocommit``: no implicit transactions
    (the caller writes ``BEGIN IMMEDIATE`` itself)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False)  # a transaction begun before each write
    if autocommit:
        db.isolation_level = None
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db
