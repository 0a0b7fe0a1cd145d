"""A durable outbox: every message to every recipient is a row, written before anything is sent and keyed by
what it is for (``digest/<team>/<day>/<recipient>``), so a message is delivered at most once per key across
crashes, restarts and processes, and a message that could not be sent yet is not lost.

A row's states::

    pending --claim--> claimed --commit--> sending --ok--> sent
       ^                  |                   |
       +---- transient ---+                   +--- transient (the content was not accepted) ---> pending
                          +---- permanent ------------------------------------------------------> failed

``claimed`` belongs to one delivering process; nothing has left yet, so a claim left by a crash is handed
back (``pending``) once it is stale. ``sending`` is the point of no return: the notifier calls ``commit``
just before the content leaves (before SMTP DATA). A row left ``sending`` by a crash may have been
delivered: it becomes ``uncertain`` and is never sent again (``opinionwatch status`` reports it, with the
message's Message-ID to look up in the server's log). Exactly once is therefore "at most once, and at least
once unless the process dies in the instant between the server's acceptance and our record of it".
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Protocol

from crawlers.database import open_database

log = logging.getLogger(__name__)
SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, recipient TEXT NOT NULL,
    payload BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL, updated TEXT NOT NULL, next_attempt TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt);
"""
STATES = ("pending", "claimed", "sending", "sent", "failed", "uncertain")


class DeliveryError(Exception):
    """A delivery that did not happen. ``transient``: try again later (4xx, a dropped connection, a
    timeout); otherwise permanent (5xx, a refused recipient). The message names where and why, never a
    secret."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Envelope:
    """One message to one recipient, as the outbox holds it."""

    key: str
    channel: str
    recipient: str
    payload: bytes


class Notifier(Protocol):
    """Delivers one envelope; calls ``commit()`` just before the content leaves, raises DeliveryError."""

    def deliver(self, envelope: Envelope, commit: Callable[[], None]) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    first_s: float = 60.0
    most_s: float = 3600.0
    attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed try: doubling from ``first_s``, at most ``most_s``."""
        return timedelta(seconds=min(self.most_s, self.first_s * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Delivered:
    """What one delivery pass did: keys sent, retried later, failed for good (with why)."""

    sent: tuple[str, ...] = ()
    retrying: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()


class Outbox:
    """The ``outbox`` table in ``data_dir/outbox.sqlite``; safe to use from several processes."""

    def __init__(self, path: Path, retry: RetryPolicy | None = None, stale_after_s: float = 300.0) -> None:
        self.db = open_database(path, SCHEMA, autocommit=True)
        self.retry = retry or RetryPolicy()
        self.stale_after = timedelta(seconds=stale_after_s)
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"
        """Marks this process's claims, so a claim taken over by another process is never committed."""

    def close(self) -> None:
        self.db.close()

    def enqueue(
        self, envelopes: Iterable[Envelope], now: datetime, not_before: datetime | None = None
    ) -> int:
        """Add the envelopes whose keys are new, all or none, to be sent from ``not_before`` (default: now);
        how many were new."""
        stamp = now.isoformat()
        due = (not_before or now).isoformat()
        with self._transaction():
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO outbox (key, channel, recipient, payload, created, updated, "
                "next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(e.key, e.channel, e.recipient, e.payload, stamp, stamp, due) for e in envelopes],
            )
            return self.db.total_changes - before

    def deliver(
        self, notifiers: Mapping[str, Notifier], now: Callable[[], datetime], prefix: str = ""
    ) -> Delivered:
        """Try every due envelope (whose key starts with ``prefix``) once, each through its channel's
        notifier; one failing never stops the others."""
        self.recover(now())
        sent: list[str] = []
        retrying: list[str] = []
        failed: list[tuple[str, str]] = []
        for row_id, envelope, attempts in self._due(now(), prefix):
            if not self._claim(row_id, now()):
                continue  # another process took it
            notifier = notifiers.get(envelope.channel)
            try:
                if notifier is None:
                    raise DeliveryError(f"no notifier for channel {envelope.channel!r}", transient=False)
                notifier.deliver(envelope, partial(self._commit, row_id, now))
            except DeliveryError as error:
                if self._failed(row_id, attempts + 1, error, now()):
                    retrying.append(envelope.key)
                else:
                    failed.append((envelope.key, str(error)))
                continue
            self._move(row_id, "sending", "sent", now())
            sent.append(envelope.key)
        return Delivered(tuple(sent), tuple(retrying), tuple(failed))

    def recover(self, now: datetime) -> int:
        """Stale claims go back to ``pending``; stale ``sending`` rows (a process died at the point of no
        return) become ``uncertain``. How many became uncertain."""
        cutoff = (now - self.stale_after).isoformat()
        with self._transaction():
            self.db.execute(
                "UPDATE outbox SET state = 'pending', owner = '', updated = ? "
                "WHERE state = 'claimed' AND updated < ?",
                (now.isoformat(), cutoff),
            )
            cursor = self.db.execute(
                "UPDATE outbox SET state = 'uncertain', updated = ?, error = 'the process stopped while "
                "sending: it may have been delivered, so it is not sent again' "
                "WHERE state = 'sending' AND updated < ?",
                (now.isoformat(), cutoff),
            )
        if cursor.rowcount:
            log.warning("outbox rows left mid-send are now uncertain", extra={"rows": cursor.rowcount})
        return cursor.rowcount

    def states(self, prefix: str = "") -> dict[str, str]:
        """Each key's state."""
        rows = self.db.execute("SELECT key, state FROM outbox WHERE key >= ? AND key < ?", _span(prefix))
        return dict(rows.fetchall())

    def depth(self) -> dict[str, int]:
        """How many rows are in each state."""
        counts = dict.fromkeys(STATES, 0)
        counts.update(self.db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
        return counts

    def problems(self, limit: int = 20) -> list[dict[str, str]]:
        """The latest failed and uncertain rows, with why."""
        rows = self.db.execute(
            "SELECT key, state, updated, error FROM outbox WHERE state IN ('failed', 'uncertain') "
            "ORDER BY updated DESC LIMIT ?",
            (limit,),
        )
        return [{"key": k, "state": s, "updated": u, "error": e} for k, s, u, e in rows]

    def _due(self, now: datetime, prefix: str) -> list[tuple[int, Envelope, int]]:
        rows = self.db.execute(
            "SELECT id, key, channel, recipient, payload, attempts FROM outbox WHERE state = 'pending' "
            "AND next_attempt <= ? AND key >= ? AND key < ? ORDER BY id",
            (now.isoformat(), *_span(prefix)),
        )
        return [(i, Envelope(k, c, r, bytes(p)), a) for i, k, c, r, p, a in rows]

    def _move(self, row_id: int, old: str, new: str, now: datetime) -> bool:
        with self._transaction():
            cursor = self.db.execute(
                "UPDATE outbox SET state = ?, updated = ? WHERE id = ? AND state = ? AND owner = ?",
                (new, now.isoformat(), row_id, old, self.owner),
            )
        return cursor.rowcount == 1

    def _claim(self, row_id: int, now: datetime) -> bool:
        with self._transaction():
            cursor = self.db.execute(
                "UPDATE outbox SET state = 'claimed', owner = ?, updated = ? "
                "WHERE id = ? AND state = 'pending'",
                (self.owner, now.isoformat(), row_id),
            )
        return cursor.rowcount == 1

    def _commit(self, row_id: int, now: Callable[[], datetime]) -> None:
        with self._transaction():
            cursor = self.db.execute(
                "UPDATE outbox SET state = 'sending', updated = ? WHERE id = ? AND state = 'claimed' "
                "AND owner = ?",
                (now().isoformat(), row_id, self.owner),
            )
        if cursor.rowcount != 1:
            raise DeliveryError("another process took this message over; not sent from here", transient=True)

    def _failed(self, row_id: int, attempts: int, error: DeliveryError, now: datetime) -> bool:
        """Record a failed try: back to ``pending`` after a back-off when transient and tries are left
        (True), else ``failed``."""
        again = error.transient and attempts < self.retry.attempts
        state, when = ("pending", now + self.retry.delay(attempts)) if again else ("failed", now)
        with self._transaction():
            self.db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?, updated = ?, error = ? "
                "WHERE id = ? AND state IN ('claimed', 'sending') AND owner = ?",
                (state, attempts, when.isoformat(), now.isoformat(), str(error)[:2000], row_id, self.owner),
            )
        level = logging.WARNING if again else logging.ERROR
        log.log(level, "delivery failed", extra={"row": row_id, "attempts": attempts, "error": str(error)})
        return again

    def _transaction(self) -> _Immediate:
        return _Immediate(self.db)


class _Immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error): writers from other processes wait."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def _span(prefix: str) -> tuple[str, str]:
    """Key bounds of a prefix, for an index range scan (``""`` is every key)."""
    return prefix, prefix + "\U0010ffff"
