"""What the scheduler ran: one row per job run (job, start, end, outcome, counts, error) in
``data_dir/runs.sqlite``, written around the job so that a run cut short by a crash stays visible.

A run still marked ``running`` when a new scheduler starts was cut short (the run lock guarantees that no
other scheduler is writing): it is marked ``interrupted``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crawlers.database import open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL, started TEXT NOT NULL, ended TEXT,
    outcome TEXT NOT NULL, counts TEXT NOT NULL DEFAULT '{}', error TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_job ON runs (job, started);
"""
Counts = dict[str, int]
Observer = Callable[[str, str, float, float], None]


@dataclass(frozen=True)
class JobRun:
    job: str
    started: datetime
    ended: datetime | None
    outcome: str
    """``running``, ``ok``, ``failed`` or ``interrupted``."""
    counts: Counts
    error: str


class RunLog:
    """The ``runs`` table; one connection, used by the scheduler's one worker thread at a time."""

    def __init__(self, path: Path, observer: Observer | None = None) -> None:
        self.observer = observer
        """Told of every finished run: ``observer(job, outcome, seconds, ended_unix_time)`` (metrics)."""
        self.db = open_database(path, SCHEMA)
        if "key" not in {row[1] for row in self.db.execute("PRAGMA table_info(runs)")}:
            self.db.execute("ALTER TABLE runs ADD COLUMN key TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        self.db.close()

    def mark_interrupted(self, now: datetime) -> int:
        """Runs left ``running`` by a process that ended without finishing them; how many."""
        with self.db:
            cursor = self.db.execute(
                "UPDATE runs SET outcome = 'interrupted', ended = ? WHERE outcome = 'running'",
                (now.isoformat(),),
            )
        return cursor.rowcount

    def record(
        self, job: str, clock: Callable[[], datetime], work: Callable[[], Counts], key: str = ""
    ) -> Counts:
        """Run ``work`` as ``job``: a row before it starts, its outcome, counts or error after; an error is
        recorded and raised again. ``key`` names what the run is for (a digest's day), for :meth:`done`."""
        with self.db:
            run_id = self.db.execute(
                "INSERT INTO runs (job, started, outcome, key) VALUES (?, ?, 'running', ?)",
                (job, clock().isoformat(), key),
            ).lastrowid
        timer = time.monotonic()
        try:
            counts = work()
        except Exception as exc:
            self._finish(job, run_id, clock(), "failed", {}, f"{type(exc).__name__}: {exc}", timer)
            raise
        self._finish(job, run_id, clock(), "ok", counts, "", timer)
        return counts

    def _finish(
        self,
        job: str,
        run_id: int | None,
        now: datetime,
        outcome: str,
        counts: Counts,
        error: str,
        timer: float,
    ) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET ended = ?, outcome = ?, counts = ?, error = ? WHERE id = ?",
                (now.isoformat(), outcome, json.dumps(counts), error[:2000], run_id),
            )
        if self.observer is not None:
            self.observer(job, outcome, time.monotonic() - timer, now.timestamp())

    def done(self, job: str, key: str) -> bool:
        """Whether a run of ``job`` for ``key`` has succeeded. (A run cut short is done again: what it
        sends goes through the outbox, which never sends one message twice.)"""
        found = self.db.execute(
            "SELECT 1 FROM runs WHERE job = ? AND key = ? AND outcome = 'ok'", (job, key)
        ).fetchone()
        return found is not None

    def last_key(self, job: str) -> str | None:
        """The greatest key of the job's successful runs (a digest's latest day)."""
        row = self.db.execute("SELECT MAX(key) FROM runs WHERE job = ? AND outcome = 'ok'", (job,)).fetchone()
        return row[0] if row and row[0] else None

    def first_started(self, exclude: tuple[str, ...] = ()) -> datetime | None:
        """When the first recorded run (of a job not in ``exclude``) started."""
        marks = ", ".join("?" * len(exclude)) or "''"
        row = self.db.execute(f"SELECT MIN(started) FROM runs WHERE job NOT IN ({marks})", exclude).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def latest(self) -> dict[str, JobRun]:
        """Each job's latest run."""
        rows = self.db.execute(
            "SELECT job, started, ended, outcome, counts, error FROM runs WHERE id IN "
            "(SELECT MAX(id) FROM runs GROUP BY job) ORDER BY job"
        )
        return {
            job: JobRun(
                job,
                datetime.fromisoformat(started),
                datetime.fromisoformat(ended) if ended else None,
                outcome,
                json.loads(counts),
                error,
            )
            for job, started, ended, outcome, counts, error in rows
        }
