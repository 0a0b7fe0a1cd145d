"""Per-source crawl state in SQLite: the canonical URLs already handed on, and run reports."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from crawlers.records import SourceMarks, SourceReport

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_urls (
    url TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS source_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    started_at TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS source_runs_by_source ON source_runs (source, started_at);
CREATE TABLE IF NOT EXISTS source_marks (
    source TEXT PRIMARY KEY,
    marks TEXT NOT NULL
);
"""


class CrawlState:
    """Opened by the parent (read-write) and by crawl child processes (read-only lookups)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                path, timeout=30, check_same_thread=False
            )  # used by one thread at a time
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def seen(self, urls: Iterable[str]) -> set[str]:
        """The subset of ``urls`` already handed on by an earlier run."""
        wanted = list(urls)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT url FROM seen_urls WHERE url IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    def mark_seen(self, source_urls: Iterable[tuple[str, str]], when: datetime) -> None:
        """Record URLs as handed on; call only after the items are durably stored downstream."""
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO seen_urls (url, source, first_seen) VALUES (?, ?, ?)",
                [(url, source, when.isoformat()) for source, url in source_urls],
            )

    def marks(self) -> dict[str, SourceMarks]:
        rows = self.db.execute("SELECT source, marks FROM source_marks")
        return {source: SourceMarks.model_validate_json(marks) for source, marks in rows}

    def save_marks(self, reports: list[SourceReport]) -> None:
        """Remember where each source's next run starts; call only once its items are durably handed on."""
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO source_marks VALUES (?, ?)",
                [(r.source, r.marks.model_dump_json()) for r in reports if r.marks],
            )

    def record_run(self, report: SourceReport, started_at: datetime) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO source_runs (source, started_at, report) VALUES (?, ?, ?)",
                (report.source, started_at.isoformat(), report.model_dump_json()),
            )

    def recent_runs(self, source: str, limit: int = 20) -> list[SourceReport]:
        return [report for _, report in self.timed_runs(source, limit)]

    def first_run(self) -> datetime | None:
        """When the installation first crawled anything."""
        row = self.db.execute("SELECT MIN(started_at) FROM source_runs").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def timed_runs(self, source: str, limit: int = 20) -> list[tuple[datetime, SourceReport]]:
        """The source's latest runs with their start times, newest first."""
        rows = self.db.execute(
            "SELECT started_at, report FROM source_runs WHERE source = ? "
            "ORDER BY started_at DESC, id DESC LIMIT ?",
            (source, limit),
        )
        return [
            (datetime.fromisoformat(started), SourceReport.model_validate(json.loads(report)))
            for started, report in rows
        ]
