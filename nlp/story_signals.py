"""Sentiment and risk kept per item beside the story store, and read back per story.

A table of its own in the story database (``item_signals``): an item's judgement is written after its
story is known, and a story's sentiment, entity sentiments and risk are aggregated from its members
(:mod:`nlp.risk`). Reach is counted from the story store's own rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import TypeAdapter

from config.settings import RiskSettings
from nlp.records import EntitySentiment, Item, Risk, Sentiment
from nlp.risk import Reach, story_entity_sentiments, story_risk, story_sentiment
from nlp.stories import StoryStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS item_signals (
    item_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, signals TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS item_signals_story ON item_signals (story_id);
"""
CHUNK = 500
_ENTITIES = TypeAdapter(list[EntitySentiment])


@dataclass(frozen=True)
class StoryJudgement:
    """A story's sentiment, its sentiment toward each entity, and its risk, from its members."""

    sentiment: Sentiment = field(default_factory=Sentiment)
    entity_sentiments: list[EntitySentiment] = field(default_factory=list)
    risk: Risk = field(default_factory=Risk)


class StorySignals:
    """Reads and writes ``item_signals`` in the story store's database (from the thread that uses it)."""

    def __init__(self, stories: StoryStore, settings: RiskSettings) -> None:
        self.db = stories.db
        self.settings = settings
        self.db.executescript(SCHEMA)

    def reach(self, story_ids: Iterable[str]) -> dict[str, Reach]:
        """Weighted distinct sites that ran each story within ``reach_hours`` of its first item."""
        members: dict[str, list[tuple[datetime, str, str]]] = {}
        for chunk in _chunks(sorted(set(story_ids))):
            found_rows = self.db.execute(
                "SELECT story_id, published, domain, source FROM story_items "
                f"WHERE story_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for story_id, published, domain, source in found_rows:
                members.setdefault(story_id, []).append((datetime.fromisoformat(published), domain, source))
        window = timedelta(hours=self.settings.reach_hours)
        weights = self.settings.source_weights
        found = {}
        for story_id, rows in members.items():
            first = min(when for when, _, _ in rows)
            sites: dict[str, float] = {}
            for when, domain, source in rows:
                if when - first <= window:
                    sites[domain] = max(sites.get(domain, 0.0), weights.get(source, 1.0))
            found[story_id] = Reach(
                sites=round(sum(sites.values()), 2), items=len(rows), hours=self.settings.reach_hours
            )
        return found

    def record(self, items: list[Item]) -> None:
        rows = [
            (
                item.id,
                item.story_id or item.id,
                json.dumps(
                    {
                        "sentiment": item.sentiment.model_dump(),
                        "entities": [entity.model_dump() for entity in item.entity_sentiments],
                        "risk": item.risk.model_dump(),
                    },
                    ensure_ascii=False,
                ),
            )
            for item in items
        ]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO item_signals VALUES (?, ?, ?)", rows)

    def sentiment_labels(self, since: datetime, until: datetime) -> dict[str, str]:
        """The sentiment label of each item filed in ``[since, until)`` that has one recorded."""
        rows = self.db.execute(
            "SELECT i.item_id, json_extract(s.signals, '$.sentiment.label') FROM story_items i "
            "JOIN item_signals s ON s.item_id = i.item_id WHERE i.published >= ? AND i.published < ?",
            (since.isoformat(), until.isoformat()),
        )
        return {item_id: label for item_id, label in rows if label}

    def judgements(self, story_ids: Iterable[str]) -> dict[str, StoryJudgement]:
        """Each story's judgement, aggregated from the members recorded so far."""
        members: dict[str, list[dict]] = {}
        for chunk in _chunks(sorted(set(story_ids))):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT story_id, signals FROM item_signals WHERE story_id IN ({marks})",
                chunk,
            )
            for story_id, signals in rows:
                members.setdefault(story_id, []).append(json.loads(signals))
        return {
            story_id: StoryJudgement(
                sentiment=story_sentiment([Sentiment(**m["sentiment"]) for m in found]),
                entity_sentiments=story_entity_sentiments(
                    [_ENTITIES.validate_python(m["entities"]) for m in found]
                ),
                risk=story_risk([Risk(**m["risk"]) for m in found]),
            )
            for story_id, found in members.items()
        }


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
