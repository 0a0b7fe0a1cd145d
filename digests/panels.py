"""The digest's panels beside its stories: a 14-day volume and negative-share series per watchlist, new and
growing topics, sources that are broken or quiet (and since when), what changed since the team's last
digest, and a note when the digest goes out late. Each panel reads only what its context gives; a panel
with nothing to read is left out of the digest, never shown broken."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from crawlers.health import assess, failing_since
from crawlers.records import SourceReport
from index.base import Index, SearchRequest
from nlp.topic_state import TopicState

if TYPE_CHECKING:
    from digests.digest import Digest, DigestStory

CHART_DAYS = 14
TOPICS_SHOWN = 5
RISK_ORDER = ("none", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class Snapshot:
    """What one digest listed, to tell the next one what changed: story id -> its title, sites, members,
    risk level and whether it was negative toward a watched entity."""

    day: date
    stories: dict[str, dict[str, str | int | bool]]

    @classmethod
    def of(cls, digest: Digest) -> Snapshot:
        return cls(
            digest.day,
            {
                e.story.id: {"title": e.title, "sites": e.sites, "members": e.story.member_count,
                             "risk": e.risk, "negative": e.negative}
                for e in digest.entries
            },
        )  # fmt: skip


@dataclass(frozen=True)
class LateNote:
    """The digest goes out after its send time because the service was not running then."""

    due: datetime
    sent: datetime
    missed: tuple[date, ...] = ()
    """Earlier days whose digests were missed too (not sent; ``opinionwatch digest --date D --send``)."""


@dataclass(frozen=True)
class PanelContext:
    """What the panels may read; everything optional."""

    source_runs: Callable[[str], list[tuple[datetime, SourceReport]]] | None = None
    """A source's runs with their start times, newest first."""
    sources: tuple[str, ...] = ()
    broken_after: int = 3
    topics: TopicState | None = None
    previous: Snapshot | None = None
    late: LateNote | None = None
    chart_days: int = CHART_DAYS


@dataclass(frozen=True)
class VolumeDay:
    day: date
    items: int
    negative: int

    @property
    def negative_share(self) -> float:
        return self.negative / self.items if self.items else 0.0


@dataclass(frozen=True)
class Volume:
    """One watchlist's matching items per local day, and how many were negative (as a whole, or toward
    one of the watchlist's entities)."""

    watchlist: str
    title: str
    days: tuple[VolumeDay, ...]


@dataclass(frozen=True)
class TopicLine:
    label: str
    trend: str
    signal: str
    stories: int
    items: int
    example: str
    """The title of the story nearest the topic's centre."""
    yours: int = 0
    """How many of the topic's stories are in this digest."""


@dataclass(frozen=True)
class SourceLine:
    name: str
    state: str
    since: datetime | None
    reason: str


@dataclass(frozen=True)
class Change:
    kind: str
    """``new``, ``grew``, ``riskier`` or ``negative``."""
    story_id: str
    title: str
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class Panels:
    volumes: tuple[Volume, ...] = ()
    topics: tuple[TopicLine, ...] = ()
    sources: tuple[SourceLine, ...] | None = None
    """``None``: source health was not read; empty: every source is fine."""
    changes: tuple[Change, ...] | None = None
    """``None``: there is no earlier digest to compare with."""
    dropped: int = 0
    """Stories of the last digest that are not in this one."""
    previous_day: date | None = None
    """The day of the digest compared with."""
    late: LateNote | None = None
    charts: dict[str, bytes] = field(default_factory=dict)
    """PNG per watchlist name, made when the digest is rendered."""


def build_panels(digest: Digest, index: Index, context: PanelContext) -> Panels:
    changes, dropped = _changes(digest.entries, context.previous)
    return Panels(
        volumes=tuple(_volume(digest, w.name, w.display_title, index, context.chart_days)
                      for w in (s.watchlist for s in digest.sections)),
        topics=_topics(digest, context.topics),
        sources=_sources(context) if context.source_runs else None,
        changes=changes,
        dropped=dropped,
        previous_day=context.previous.day if context.previous else None,
        late=context.late,
    )  # fmt: skip


def _volume(digest: Digest, watchlist: str, title: str, index: Index, days: int) -> Volume:
    zone = ZoneInfo(digest.team.timezone)
    series = []
    for offset in range(days - 1, -1, -1):
        day = digest.day - timedelta(days=offset)
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        request = SearchRequest(watchlists=(watchlist,), since=start, until=end, limit=0)
        total = index.search(request).total
        negative = index.search(
            replace(request, query=f'sentiment:negative OR toward:"{watchlist}:negative"')
        ).total
        series.append(VolumeDay(day, total, negative if total else 0))
    return Volume(watchlist, title, tuple(series))


def _topics(digest: Digest, state: TopicState | None) -> tuple[TopicLine, ...]:
    """Active topics that are new or growing on the digest's day (or the latest fitted day before it)."""
    if state is None or not state.fits:
        return ()
    fitted = [day for day in state.fits if day <= digest.day]
    if not fitted:
        return ()
    day = max(fitted)
    listed = {entry.story.id for entry in digest.entries}
    lines = []
    for topic in state.active():
        signal = topic.signals.get(day)
        figures = topic.days.get(day)
        if signal is None or signal.trend not in ("new", "growing"):
            continue
        lines.append(
            (
                signal.popularity,
                TopicLine(topic.label, signal.trend, signal.signal, figures.stories if figures else 0,
                          figures.items if figures else 0, topic.title, len(listed & set(topic.stories))),
            )
        )  # fmt: skip
    lines.sort(key=lambda pair: (-pair[0], pair[1].label))
    return tuple(line for _, line in lines[:TOPICS_SHOWN])


def _sources(context: PanelContext) -> tuple[SourceLine, ...]:
    """Sources that are broken (since when: the first failure of the current streak) or quiet."""
    assert context.source_runs is not None
    lines = []
    for name in context.sources:
        runs = context.source_runs(name)
        health = assess([report for _, report in runs], context.broken_after)
        if health.state == "ok":
            continue
        since = failing_since(runs) if health.state == "broken" else None
        lines.append(SourceLine(name, health.state, since, health.reason))
    return tuple(sorted(lines, key=lambda line: (line.state != "broken", line.name)))


def _changes(
    entries: Sequence[DigestStory], previous: Snapshot | None
) -> tuple[tuple[Change, ...] | None, int]:
    if previous is None:
        return None, 0
    changes = []
    for entry in entries:
        before = previous.stories.get(entry.story.id)
        if before is None:
            changes.append(Change("new", entry.story.id, entry.title))
            continue
        if entry.sites > int(before["sites"]):
            changes.append(
                Change("grew", entry.story.id, entry.title, str(before["sites"]), str(entry.sites))
            )
        if RISK_ORDER.index(entry.risk) > RISK_ORDER.index(str(before["risk"])):
            changes.append(Change("riskier", entry.story.id, entry.title, str(before["risk"]), entry.risk))
        if entry.negative and not before["negative"]:
            changes.append(Change("negative", entry.story.id, entry.title))
    dropped = len(set(previous.stories) - {entry.story.id for entry in entries})
    return tuple(changes), dropped
