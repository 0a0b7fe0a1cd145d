"""The alert rules, each a plain function of what the installation knows at ``now``: the index, the
stories, the sources' run history and the topics. They are recomputed from history at every check (after
each crawl), so a restart loses nothing; the alert store turns repeated findings into one alert per
episode. Counting is by story, never by item: a wire story reprinted 40 times is one story whose reach
(items, distinct sites) grows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from config.alert_settings import AlertRule
from config.settings import Settings
from config.wording import Templates
from crawlers.health import assess, failing_since
from crawlers.records import SourceReport
from digests.alert_store import Candidate, Evidence
from digests.anomaly import SpikeSettings, detect_episodes
from index.base import Index, SearchRequest, risk_at_least
from nlp.stories import StoryStore
from nlp.story_records import Story
from nlp.topic_state import TopicState

WORDING = Templates(
    {
        "title_volume": "{watchlist}: coverage {kind}",
        "title_risk": "{watchlist}: {level} risk · {story}",
        "title_negative": "{watchlist}: coverage turned negative",
        "title_source": "source {source} is broken",
        "title_topic": "emerging topic: {label}",
        "reason_volume_hour": "{count} new stories in the hour to {until} UTC, usually {baseline} "
        "({score} sd, {what} than usual)",
        "reason_volume_hours": "{count} new stories in the {hours} hours to {until} UTC, usually "
        "{baseline} ({score} sd, {what} than usual)",
        "reason_risk_episode": "{n} risky stories since {since} UTC; the riskiest: {reasons}",
        "reason_risk_sites": "risk terms on {sites} sites",
        "reason_negative": "{negative} of {total} items in the last 24 hours are negative toward it "
        "({share}), against {before} over the six days before",
        "reason_topic": "{trend} and a strong signal on {day} ({stories} stories)",
    }
)
"""Alerts' titles and reasons, as stored and shown in English; ``WORDING.parts`` reads one back for a
team's language (``digests.labels``). A risk alert's reasons are the risk's own (:data:`nlp.risk.REASONS`),
joined by ``"; "``; a broken source's are its health's (:data:`crawlers.health.REASONS`)."""
RISK_REASON_SEPARATOR = "; "

PAGE = 500
RECENT = timedelta(hours=24)
"""Findings older than this are history, not news: they are not raised (after a restart, say)."""
EPISODE_LOOKBACK = timedelta(days=7)
"""How far back an episode that is still news (a story within ``RECENT``) is traced to its start: its
alert keeps one key however long it lasts."""
HOUR = timedelta(hours=1)
EVIDENCE = 5


@dataclass(frozen=True)
class World:
    """What the rules read."""

    settings: Settings
    index: Index
    stories: StoryStore
    now: datetime
    source_runs: Callable[[str, int], list[tuple[datetime, SourceReport]]] | None = None
    """A source's latest ``limit`` runs with their start times, newest first."""
    topics: TopicState | None = None
    watching_since: datetime | None = None
    """When collection began: hours before it are unknown, not zero, and make no baseline."""


def inactive(settings: Settings) -> dict[str, str]:
    """Rules that need a capability not built or switched off, with why (reported, never silently off)."""
    why = {}
    for rule in settings.alerts.rules:
        if rule.kind == "negative_turn" and not settings.sentiment.enabled:
            why[rule.name] = "needs sentiment (sentiment.enabled: true)"
        if rule.kind == "risk" and not settings.risk.enabled:
            why[rule.name] = "needs risk levels (risk.enabled: true)"
        if rule.kind == "emerging_topic" and not settings.topics.enabled:
            why[rule.name] = "needs topics (topics.enabled: true)"
    return why


def evaluate(world: World) -> list[Candidate]:
    off = inactive(world.settings)
    found: list[Candidate] = []
    for rule in world.settings.alerts.rules:
        if rule.name not in off:
            found.extend(RULES[rule.kind](rule, world))
    return found


def _watchlists(rule: AlertRule, world: World) -> list[str]:
    return rule.watchlists or [w.name for w in world.settings.watchlists]


def volume(rule: AlertRule, world: World) -> list[Candidate]:
    """New stories per hour against the time-of-day baseline (``digests.anomaly``), per watchlist: the
    hourly counts of the items that started their stories, one search (an index aggregation, not a read
    of every item), and the episode's stories read only for an alert's evidence."""
    found = []
    spike = SpikeSettings(step=HOUR, sensitivity=rule.sensitivity, min_count=rule.min_count, dips=rule.dips)
    start = _hour(world.now) - timedelta(days=spike.history_days + 1)
    if world.watching_since is not None:
        start = max(start, _hour(world.watching_since))
    for watchlist in _watchlists(rule, world):
        new_stories = SearchRequest(
            watchlists=(watchlist,), since=start, until=world.now, first_of_story=True
        )
        hourly = world.index.search(replace(new_stories, limit=0, date_histogram="1h")).histogram
        counts = {_hour(when): count for when, count in hourly}
        hours = int((_hour(world.now) - start) / HOUR) + 1
        series = [(start + n * HOUR, float(counts.get(start + n * HOUR, 0))) for n in range(hours)]
        for detection in detect_episodes(series, spike, cooldown=timedelta(hours=rule.cooldown_hours)):
            if detection.at < world.now - RECENT:
                continue
            episode = [
                str(doc["story_id"]) for doc in _docs(world.index, replace(new_stories, since=detection.at))
            ]
            evidence, figures = _reach(world.stories, episode)
            one_hour = detection.window <= HOUR
            reason = WORDING["reason_volume_hour" if one_hour else "reason_volume_hours"].format(
                count=f"{detection.count:g}",
                hours=f"{detection.window / HOUR:g}",
                until=f"{detection.at + HOUR:%Y-%m-%d %H:%M}",
                baseline=f"{detection.baseline:g}",
                score=f"{detection.score:+.1f}",
                what="more" if detection.kind == "spike" else "fewer",
            )
            title = WORDING["title_volume"].format(watchlist=_title(world, watchlist), kind=detection.kind)
            found.append(Candidate(
                key=f"{rule.name}/{watchlist}/{detection.at:%Y%m%dT%H}", rule=rule.name, kind="volume",
                severity=rule.severity, subject=watchlist, reason=reason, first_seen=detection.at,
                title=title, evidence=evidence,
                figures={"stories": len(episode), **figures}, episodes=f"{rule.name}/{watchlist}",
            ))  # fmt: skip
    return found


def risk(rule: AlertRule, world: World) -> list[Candidate]:
    """Stories reaching the rule's level, or carrying a risk term on ``min_sites`` sites, per watchlist: one
    alert per episode (risky stories no more than the rule's cooldown apart, the latest within the last
    day), so that a burst of twenty risky stories is one alert whose updates say it grew or turned more
    severe."""
    found = []
    gap = timedelta(hours=rule.cooldown_hours)
    for watchlist in _watchlists(rule, world):
        risky = _risky_stories(rule, world, watchlist)
        for episode in _episodes(sorted(risky.values(), key=lambda r: (r.first_seen, r.story_id)), gap):
            if episode[-1].first_seen >= world.now - RECENT:
                found.append(_risk_candidate(rule, world, watchlist, episode))
    return found


@dataclass(frozen=True)
class _Risky:
    story_id: str
    first_seen: datetime
    doc: dict[str, Any]
    """The story's riskiest item."""


def _risky_stories(rule: AlertRule, world: World, watchlist: str) -> dict[str, _Risky]:
    request = SearchRequest(watchlists=(watchlist,), since=world.now - EPISODE_LOOKBACK, until=world.now,
                            risks=risk_at_least("low"))  # fmt: skip
    by_story: dict[str, list[dict[str, Any]]] = {}
    for doc in _docs(world.index, request):
        by_story.setdefault(str(doc["story_id"]), []).append(doc)
    known = world.stories.stories(by_story)
    risky = {}
    for sid, docs in by_story.items():
        riskiest = max(docs, key=lambda d: int(d.get("risk_points", 0)))
        story = known.get(sid)
        sites = len(story.domains) if story else 1
        if riskiest.get("risk") in risk_at_least(rule.level) or sites >= rule.min_sites:
            first = min(datetime.fromisoformat(str(d["published"])) for d in docs)
            risky[sid] = _Risky(sid, first, riskiest)
    return risky


def _episodes(risky: list[_Risky], gap: timedelta) -> list[list[_Risky]]:
    """Runs of stories (in order of first sight) with no more than ``gap`` between neighbours."""
    runs: list[list[_Risky]] = []
    for story in risky:
        if runs and story.first_seen - runs[-1][-1].first_seen <= gap:
            runs[-1].append(story)
        else:
            runs.append([story])
    return runs


def _risk_candidate(rule: AlertRule, world: World, watchlist: str, episode: list[_Risky]) -> Candidate:
    """One episode's alert, keyed by its first story (the key holds while the episode grows); titled and
    explained by its riskiest story (the first of equals, so that the title changes only when a riskier
    story comes)."""
    riskiest = min(episode, key=lambda r: (-int(r.doc.get("risk_points", 0)), r.first_seen)).doc
    level = str(riskiest.get("risk"))
    evidence, figures = _reach(world.stories, [r.story_id for r in episode])
    sites = figures["sites"]
    reasons = RISK_REASON_SEPARATOR.join(riskiest.get("risk_reasons", []))
    reason = reasons or WORDING["reason_risk_sites"].format(sites=sites)
    if len(episode) > 1:
        since = f"{episode[0].first_seen:%Y-%m-%d %H:%M}"
        reason = WORDING["reason_risk_episode"].format(n=len(episode), since=since, reasons=reason)
    title = WORDING["title_risk"].format(
        watchlist=_title(world, watchlist), level=level, story=riskiest["title"]
    )
    return Candidate(
        key=f"{rule.name}/{watchlist}/{episode[0].story_id}", rule=rule.name, kind="risk",
        severity="critical" if level == "critical" else rule.severity, subject=watchlist,
        title=title, reason=reason,
        first_seen=episode[0].first_seen, last_seen=episode[-1].first_seen, evidence=evidence,
        figures={"risk_points": int(riskiest.get("risk_points", 0)), "stories": len(episode), **figures},
        episodes=f"{rule.name}/{watchlist}",
    )  # fmt: skip


def negative_turn(rule: AlertRule, world: World) -> list[Candidate]:
    """The share of items negative toward the watchlist's entities over the last day, against the six days
    before: a rise of ``jump`` or more, with at least ``min_count`` negative items."""
    found = []
    for watchlist in _watchlists(rule, world):
        if not world.settings.watchlist(watchlist).entities:
            continue
        day = _share(world.index, watchlist, world.now - RECENT, world.now)
        week = _share(world.index, watchlist, world.now - 7 * RECENT, world.now - RECENT)
        negative, total = day
        before = week[0] / week[1] if week[1] else 0.0
        if total == 0 or negative < rule.min_count or negative / total - before < rule.jump:
            continue
        found.append(Candidate(
            key=f"{rule.name}/{watchlist}/{world.now:%Y%m%d}", rule=rule.name, kind="negative_turn",
            severity=rule.severity, subject=watchlist,
            title=WORDING["title_negative"].format(watchlist=_title(world, watchlist)),
            reason=WORDING["reason_negative"].format(
                negative=negative, total=total, share=f"{negative / total:.0%}", before=f"{before:.0%}"
            ),
            first_seen=world.now - RECENT, figures={"negative": negative},
            episodes=f"{rule.name}/{watchlist}",
        ))  # fmt: skip
    return found


def source_broken(rule: AlertRule, world: World) -> list[Candidate]:
    """A source judged broken (failing, or a listing gone empty), told apart from merely quiet."""
    if world.source_runs is None:
        return []
    found = []
    for source in world.settings.sources:
        runs, since = _streak(world.source_runs, source.name) if source.enabled else ([], None)
        health = assess([report for _, report in runs[:20]], world.settings.crawl.broken_after)
        if health.state != "broken":
            continue
        since = since or world.now
        found.append(Candidate(
            key=f"{rule.name}/{source.name}/{since:%Y%m%dT%H%M}", rule=rule.name, kind="source_broken",
            severity=rule.severity, subject=source.name,
            title=WORDING["title_source"].format(source=source.name),
            reason=health.reason, first_seen=since, episodes=f"{rule.name}/{source.name}",
        ))  # fmt: skip
    return found


def emerging_topic(rule: AlertRule, world: World) -> list[Candidate]:
    """A topic whose signal turned strong while new or growing, at the latest fit."""
    state = world.topics
    fitted = [
        day for day in (state.fits if state else []) if day < world.now.date()
    ]  # a day's fit follows it
    if state is None or not fitted:
        return []
    day = max(fitted)
    found = []
    for topic in state.active():
        if topic.born <= min(state.fits):
            continue  # present from the first fit: the world as it was found, not something emerging
        signal = topic.signals.get(day)
        if signal is None or signal.signal != "strong" or signal.trend not in ("new", "growing"):
            continue
        figures = topic.days.get(day)
        stories, items = (figures.stories, figures.items) if figures else (0, 0)
        found.append(Candidate(
            key=f"{rule.name}/topic-{topic.id}", rule=rule.name, kind="emerging_topic",
            severity=rule.severity, subject=f"topic-{topic.id}",
            title=WORDING["title_topic"].format(label=topic.label),
            reason=WORDING["reason_topic"].format(trend=signal.trend, day=day, stories=stories),
            first_seen=world.now,
            evidence=(Evidence(f"topic-{topic.id}", topic.title),),
            figures={"stories": stories, "items": items},
        ))  # fmt: skip
    return found


RULES: dict[str, Callable[[AlertRule, World], list[Candidate]]] = {
    "volume": volume, "risk": risk, "negative_turn": negative_turn, "source_broken": source_broken,
    "emerging_topic": emerging_topic,
}  # fmt: skip


def _streak(
    source_runs: Callable[[str, int], list[tuple[datetime, SourceReport]]], source: str
) -> tuple[list[tuple[datetime, SourceReport]], datetime | None]:
    """The source's runs back to the start of its current failure streak, and that start: the episode's
    key stays the same however long the outage lasts."""
    limit = 20
    while True:
        runs = source_runs(source, limit)
        since = failing_since(runs)
        if len(runs) < limit or since is None or since != runs[-1][0]:
            return runs, since
        limit *= 4


def _reach(stories: StoryStore, story_ids: list[str]) -> tuple[tuple[Evidence, ...], dict[str, int]]:
    """The stories' evidence (widest first) and their reach: items and distinct sites in all."""
    known: dict[str, Story] = stories.stories(story_ids)
    ranked = sorted(known.values(), key=lambda s: (-len(s.domains), -s.member_count, s.id))
    evidence = tuple(
        Evidence(s.id, s.title, s.url, s.member_count, len(s.domains)) for s in ranked[:EVIDENCE]
    )
    sites = {domain for story in known.values() for domain in story.domains}
    return evidence, {"items": sum(s.member_count for s in known.values()), "sites": len(sites)}


def _share(index: Index, watchlist: str, since: datetime, until: datetime) -> tuple[int, int]:
    request = SearchRequest(watchlists=(watchlist,), since=since, until=until, limit=0)
    total = index.search(request).total
    negative = index.search(replace(request, query=f'toward:"{watchlist}:negative"')).total
    return negative, total


def _docs(index: Index, request: SearchRequest) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    while True:
        page = index.search(replace(request, limit=PAGE, offset=len(docs), sort="date"))
        docs.extend(hit.doc for hit in page.hits)
        if len(docs) >= page.total or not page.hits:
            return docs


def _hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _title(world: World, watchlist: str) -> str:
    return world.settings.watchlist(watchlist).display_title
