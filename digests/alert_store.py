"""Alerts and their lifecycle (``data_dir/alerts.sqlite``): one alert per episode, later growth recorded
as a new version of the same alert, open → acknowledged → resolved with who and when. Several processes
(the service, the command line, the search page) may use it at once."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crawlers.database import open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, rule TEXT NOT NULL, kind TEXT NOT NULL,
    severity TEXT NOT NULL, subject TEXT NOT NULL, title TEXT NOT NULL, reason TEXT NOT NULL,
    evidence TEXT NOT NULL, figures TEXT NOT NULL, first_seen TEXT NOT NULL, fired TEXT NOT NULL,
    updated TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1, state TEXT NOT NULL DEFAULT 'open',
    acknowledged_by TEXT, acknowledged_at TEXT, resolved_by TEXT, resolved_at TEXT, episodes TEXT NOT NULL,
    last_seen TEXT
);
CREATE INDEX IF NOT EXISTS alerts_episodes ON alerts (episodes, fired);
"""
LAST_SEEN_COLUMN = "ALTER TABLE alerts ADD COLUMN last_seen TEXT"
"""Stores written before alerts remembered when their episode was last seen gain the column on opening."""
STATES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True)
class Evidence:
    """A story (or source, or topic) an alert cites, with its link and reach."""

    id: str
    title: str
    url: str = ""
    items: int = 0
    sites: int = 0


@dataclass(frozen=True)
class Finding:
    """What an alert says: ``key`` names the episode (the same episode, the same key)."""

    key: str
    rule: str
    kind: str
    severity: str
    subject: str
    title: str
    reason: str


@dataclass(frozen=True)
class Candidate(Finding):
    """What a rule found, before the store decides whether it is a new alert, an update or nothing."""

    first_seen: datetime
    evidence: tuple[Evidence, ...] = ()
    figures: dict[str, int] = field(default_factory=dict)
    """Sizes that only grow within an episode (stories, sites, items, risk points): growth is an update."""
    episodes: str = ""
    """What a new episode must differ in to be a new alert within the rule's cooldown (the rule and its
    watchlist for a volume spike); empty: the key alone."""
    last_seen: datetime | None = None
    """When the episode was last seen (its newest story). What begins no more than the cooldown after an
    open alert of the same ``episodes`` was last seen continues that alert: a risk episode that outlives
    the rule's lookback keeps its alert when its first story falls out of sight."""


@dataclass(frozen=True)
class Alert(Finding):
    id: int
    evidence: tuple[Evidence, ...]
    figures: dict[str, int]
    first_seen: datetime
    fired: datetime
    updated: datetime
    version: int
    state: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("first_seen", "fired", "updated", "acknowledged_at", "resolved_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


class AlertError(Exception):
    """An alert that does not exist, or a change its state does not allow."""


class AlertStore:
    def __init__(self, path: Path) -> None:
        self.db = open_database(path, SCHEMA)
        if "last_seen" not in {row[1] for row in self.db.execute("PRAGMA table_info(alerts)")}:
            with self.db:
                self.db.execute(LAST_SEEN_COLUMN)

    def close(self) -> None:
        self.db.close()

    def offer(self, found: Candidate, now: datetime, cooldown: timedelta) -> tuple[Alert, bool] | None:
        """Record what a rule found: a new alert, or a new version of the episode's alert when it grew.
        The episode's alert has the same key, or the same ``episodes`` and was fired within ``cooldown``,
        or first seen within what was found (a span that grew back to an earlier start), or last seen no
        more than ``cooldown`` before what was found began. Returns the alert and whether it is new;
        ``None`` when nothing changed that people are told of."""
        with self.db:
            episodes = found.episodes or found.key
            current = self._row("key = ?", (found.key,)) or self._row(
                "episodes = ? AND (fired >= ? OR first_seen >= ? OR last_seen >= ?) AND state != 'resolved' "
                "ORDER BY fired DESC",
                (episodes, (now - cooldown).isoformat(), found.first_seen.isoformat(),
                 (found.first_seen - cooldown).isoformat()),
            )  # fmt: skip
            last_seen = found.last_seen.isoformat() if found.last_seen else None
            if current is None:
                cursor = self.db.execute(
                    "INSERT INTO alerts (key, rule, kind, severity, subject, title, reason, evidence, "
                    "figures, first_seen, fired, updated, episodes, last_seen) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (found.key, found.rule, found.kind, found.severity, found.subject, found.title,
                     found.reason, _evidence(found.evidence), json.dumps(found.figures),
                     found.first_seen.isoformat(), now.isoformat(), now.isoformat(), episodes, last_seen),
                )  # fmt: skip
                return self.get(int(cursor.lastrowid or 0)), True
            if last_seen:
                self.db.execute(
                    "UPDATE alerts SET last_seen = ? WHERE id = ? AND (last_seen IS NULL OR last_seen < ?)",
                    (last_seen, current.id, last_seen),
                )
            if not _grew(current.figures, found.figures):
                return None
            figures = {k: max(v, current.figures.get(k, 0)) for k, v in found.figures.items()}
            self.db.execute(
                "UPDATE alerts SET title = ?, reason = ?, evidence = ?, figures = ?, updated = ?, "
                "version = version + 1, severity = ? WHERE id = ?",
                (found.title, found.reason, _evidence(found.evidence), json.dumps(figures), now.isoformat(),
                 _higher(current.severity, found.severity), current.id),
            )  # fmt: skip
            return self.get(current.id), False

    def get(self, alert_id: int) -> Alert:
        found = self._row("id = ?", (alert_id,))
        if found is None:
            raise AlertError(f"no alert {alert_id}; `opinionwatch alerts list` shows them")
        return found

    def list(self, state: str | None = None, limit: int = 100) -> list[Alert]:
        where, values = ("state = ?", (state,)) if state else ("1 = 1", ())
        rows = self.db.execute(
            f"SELECT * FROM alerts WHERE {where} ORDER BY fired DESC LIMIT ?", (*values, limit)
        )
        return [_alert(row) for row in rows]

    def acknowledge(self, alert_id: int, who: str, now: datetime) -> Alert:
        return self._move(alert_id, "acknowledged", ("open",), who, now)

    def resolve(self, alert_id: int, who: str, now: datetime) -> Alert:
        return self._move(alert_id, "resolved", ("open", "acknowledged"), who, now)

    def _move(self, alert_id: int, state: str, allowed: tuple[str, ...], who: str, now: datetime) -> Alert:
        current = self.get(alert_id)
        if current.state not in allowed:
            raise AlertError(f"alert {alert_id} is {current.state}; it cannot become {state}")
        column = "acknowledged" if state == "acknowledged" else "resolved"
        with self.db:
            self.db.execute(
                f"UPDATE alerts SET state = ?, {column}_by = ?, {column}_at = ? WHERE id = ?",
                (state, who, now.isoformat(), alert_id),
            )
        return self.get(alert_id)

    def _row(self, where: str, values: tuple[Any, ...]) -> Alert | None:
        row = self.db.execute(f"SELECT * FROM alerts WHERE {where} LIMIT 1", values).fetchone()
        return _alert(row) if row else None


def _alert(row: tuple[Any, ...]) -> Alert:
    (id_, key, rule, kind, severity, subject, title, reason, evidence, figures, first_seen, fired, updated,
     version, state, acked_by, acked_at, resolved_by, resolved_at, _, _) = row  # fmt: skip
    return Alert(
        key=key, rule=rule, kind=kind, severity=severity, subject=subject, title=title, reason=reason,
        id=id_, evidence=tuple(Evidence(**e) for e in json.loads(evidence)), figures=json.loads(figures),
        first_seen=datetime.fromisoformat(first_seen), fired=datetime.fromisoformat(fired),
        updated=datetime.fromisoformat(updated), version=version, state=state,
        acknowledged_by=acked_by, acknowledged_at=datetime.fromisoformat(acked_at) if acked_at else None,
        resolved_by=resolved_by, resolved_at=datetime.fromisoformat(resolved_at) if resolved_at else None,
    )  # fmt: skip


def _evidence(evidence: tuple[Evidence, ...]) -> str:
    return json.dumps([asdict(e) for e in evidence], ensure_ascii=False)


def _grew(before: dict[str, int], now: dict[str, int]) -> bool:
    """Grown enough to tell people again: risk points up at all, a count up by half and by 2 at least."""
    for name, value in now.items():
        old = before.get(name, 0)
        if name == "risk_points" and value > old or value >= max(old + 2, old * 1.5):
            return True
    return False


def _higher(first: str, second: str) -> str:
    order = ("info", "warning", "critical")
    return max(first, second, key=order.index)
