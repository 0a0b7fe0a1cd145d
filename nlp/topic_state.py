"""What topics remember between fits: versioned JSON for records and lineage, safetensors for centroids.

Files in ``data_dir/topics/``: ``state.json`` (``version``, ids, labels, keywords, per-day figures,
signals, lineage) and ``centroids.safetensors`` (one float32 vector per topic, named ``topic.ID``). Both
are written atomically (temporary file, then rename; centroids first). Nothing is pickled. A state
written by a newer version is refused; a state that does not read is reported, never replaced.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError
from safetensors.numpy import load_file, save_file

STATE_VERSION = 1
STATE_FILE = "state.json"
CENTROIDS_FILE = "centroids.safetensors"

Signal = Literal["noise", "weak", "strong"]
Trend = Literal["new", "growing", "stable", "fading"]


class TopicStateError(Exception):
    """The topic state cannot be read or written; the message says which file and what to do."""


class DayFigures(BaseModel):
    stories: int
    items: int
    sources: int
    languages: dict[str, int] = Field(default_factory=dict)
    """Items per language."""
    sentiment: dict[str, int] = Field(default_factory=dict)
    """Items per sentiment label (negative, neutral, positive): empty where sentiment is off."""


class DaySignal(BaseModel):
    popularity: float
    signal: Signal
    trend: Trend


class TopicRecord(BaseModel):
    id: int
    label: str
    title: str = Field(description="The title of the story nearest the centroid at the latest fit.")
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    floor: float = Field(default=1.0, description="Cosine to the centroid a newcomer needs to join it.")
    status: Literal["active", "dormant", "merged"] = "active"
    merged_into: int | None = None
    born: date
    last_active: date
    labels: list[tuple[date, str]] = Field(default_factory=list, description="Each label and when it began.")
    days: dict[date, DayFigures] = Field(default_factory=dict)
    signals: dict[date, DaySignal] = Field(default_factory=dict)
    stories: list[str] = Field(default_factory=list, description="Its stories at the latest fit.")

    def label_on(self, day: date) -> str:
        """Its label as it was on ``day`` (the first one before it was born, the latest after)."""
        began = [label for since, label in self.labels if since <= day]
        return began[-1] if began else (self.labels[0][1] if self.labels else self.label)

    def sentiment_from(self, first: date) -> dict[str, int]:
        """Its items per sentiment label on the days from ``first`` on (its window, say)."""
        total: Counter[str] = Counter()
        for day, figures in self.days.items():
            if day >= first:
                total.update(figures.sentiment)
        return dict(total)


class LineageRecord(BaseModel):
    day: date
    kind: Literal["new", "split", "merge", "dormant", "revived"]
    parents: list[int] = Field(default_factory=list)
    children: list[int] = Field(default_factory=list)


class FitFigures(BaseModel):
    """One daily fit: how many stories, how many topics, and the outlier share before and after placing."""

    stories: int
    topics: int
    outliers_before: float
    outliers: float


class TopicState(BaseModel):
    version: int = STATE_VERSION
    model: str = ""
    next_id: int = 0
    fits: list[date] = Field(default_factory=list)
    fit_figures: dict[date, FitFigures] = Field(default_factory=dict)
    topics: dict[int, TopicRecord] = Field(default_factory=dict)
    lineage: list[LineageRecord] = Field(default_factory=list)
    centroids: dict[int, np.ndarray] = Field(default_factory=dict, exclude=True)

    model_config = {"arbitrary_types_allowed": True}

    def active(self) -> list[TopicRecord]:
        return [topic for topic in self.topics.values() if topic.status == "active"]

    def story_topics(self) -> dict[str, int]:
        """Story id -> the active topic that holds it at the latest fit."""
        return {story: topic.id for topic in self.active() for story in topic.stories}

    def label_of(self, topic_id: int, day: date, before: bool = False) -> str:
        """A topic's label on ``day``, or ``before`` that day's fit (a lineage event's parents as they were);
        ``#ID`` for an id the state does not hold."""
        topic = self.topics.get(topic_id)
        return topic.label_on(day - timedelta(days=1) if before else day) if topic else f"#{topic_id}"

    def resolve(self, topic_id: int) -> TopicRecord | None:
        """The topic an id names now: following merges to the topic that absorbed it."""
        seen = set()
        topic = self.topics.get(topic_id)
        while topic is not None and topic.merged_into is not None and topic.id not in seen:
            seen.add(topic.id)
            topic = self.topics.get(topic.merged_into)
        return topic


def load_state(folder: Path) -> TopicState:
    """The state in ``folder``; an empty state where there is none yet."""
    path = folder / STATE_FILE
    if not path.exists():
        return TopicState()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TopicStateError(f"{path} is corrupt ({exc}); move it aside to start topics afresh") from None
    version = raw.get("version") if isinstance(raw, dict) else None
    if not isinstance(version, int) or version > STATE_VERSION:
        raise TopicStateError(
            f"{path} was written by a newer OpinionWatch (state version {version}, this one reads up to "
            f"{STATE_VERSION}); upgrade OpinionWatch, or move the folder aside to start topics afresh"
        )
    try:
        state = TopicState.model_validate(raw)
    except ValidationError as exc:
        raise TopicStateError(f"{path} is corrupt: {exc}; move it aside to start topics afresh") from None
    state.centroids = _load_centroids(folder / CENTROIDS_FILE, state)
    return state


def _load_centroids(path: Path, state: TopicState) -> dict[int, np.ndarray]:
    if not state.topics:
        return {}
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises several kinds for a truncated or missing file
        raise TopicStateError(f"{path} is missing or corrupt ({exc}); move the topics folder aside") from None
    missing = [topic_id for topic_id in state.topics if f"topic.{topic_id}" not in tensors]
    if missing:
        raise TopicStateError(
            f"{path} lacks the centroids of topics {missing[:5]}; move the topics folder aside"
        )
    return {topic_id: tensors[f"topic.{topic_id}"] for topic_id in state.topics}


def save_state(folder: Path, state: TopicState) -> None:
    """Write ``state`` atomically: centroids first, then the JSON that names them."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        f"topic.{topic_id}": np.ascontiguousarray(v, dtype=np.float32)
        for topic_id, v in state.centroids.items()
    }
    scratch = folder / f".{CENTROIDS_FILE}.tmp"
    save_file(tensors, str(scratch), metadata={"version": str(STATE_VERSION)})
    os.replace(scratch, folder / CENTROIDS_FILE)
    scratch = folder / f".{STATE_FILE}.tmp"
    scratch.write_text(state.model_dump_json(indent=1), encoding="utf-8")
    os.replace(scratch, folder / STATE_FILE)
