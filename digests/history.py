"""What each team's digests listed (``data_dir/digests.sqlite``), so the next one can say what changed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from crawlers.database import open_database
from digests.panels import Snapshot

SCHEMA = """
CREATE TABLE IF NOT EXISTS digests (
    team TEXT NOT NULL, day TEXT NOT NULL, stories TEXT NOT NULL, PRIMARY KEY (team, day)
);
"""


class DigestHistory:
    def __init__(self, path: Path) -> None:
        self.db = open_database(path, SCHEMA)

    def close(self) -> None:
        self.db.close()

    def save(self, team: str, snapshot: Snapshot) -> None:
        """Keep the first snapshot of a team's day: the one its recipients got."""
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO digests (team, day, stories) VALUES (?, ?, ?)",
                (team, snapshot.day.isoformat(), json.dumps(snapshot.stories, ensure_ascii=False)),
            )

    def previous(self, team: str, day: date) -> Snapshot | None:
        """The team's latest digest before ``day``."""
        row = self.db.execute(
            "SELECT day, stories FROM digests WHERE team = ? AND day < ? ORDER BY day DESC LIMIT 1",
            (team, day.isoformat()),
        ).fetchone()
        return Snapshot(date.fromisoformat(row[0]), json.loads(row[1])) if row else None
