"""A team's digest from the installation's parts: the panels' context, the outbox, the history; and the
digests the service missed while it was down."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from config.settings import Team
from digests.delivery import deliver_digest, queue_digest
from digests.digest import Digest, build_digest
from digests.panels import LateNote, PanelContext, Snapshot
from nlp.topic_state import TopicState, TopicStateError, load_state
from opinionwatch.runs import Counts
from opinionwatch.wiring import Services

log = logging.getLogger(__name__)


def digest_for(services: Services, team: Team, day: date, late: LateNote | None = None) -> Digest:
    settings = services.settings
    context = PanelContext(
        source_runs=services.state.timed_runs,
        sources=tuple(source.name for source in settings.sources if source.enabled),
        broken_after=settings.crawl.broken_after,
        topics=topic_state(services),
        previous=services.digest_history.previous(team.name, day),
        late=late,
    )
    now = services.clock.now()
    return build_digest(settings, team, day, services.index, services.stories, now, context)


def send_digest(services: Services, team_name: str, day: date, late: LateNote | None = None) -> Counts:
    """Build the team's digest of ``day``, queue it for each recipient not yet sent it, remember what it
    listed, and deliver what is due. Transient failures stay in the outbox for the retry job."""
    team = services.settings.team(team_name)
    digest = digest_for(services, team, day, late)
    queued = queue_digest(services.outbox, digest, services.settings, services.clock.now())
    services.digest_history.save(team.name, Snapshot.of(digest))
    delivered = deliver_digest(services.outbox, services.notifiers, team, day, services.clock.now)
    services.metrics.outbox_depth(services.outbox.depth())
    for key, error in delivered.failed:
        log.error("digest not delivered", extra={"key": key, "error": error})
    return {
        "queued": queued,
        "sent": len(delivered.sent),
        "retrying": len(delivered.retrying),
        "failed": len(delivered.failed),
        "stories": len(digest.entries),
    }


def due_before(team: Team, now: datetime) -> datetime:
    """The team's latest send time at or before ``now``."""
    zone = ZoneInfo(team.timezone)
    local = now.astimezone(zone)
    due = datetime.combine(local.date(), team.send_time, tzinfo=zone)
    return (
        due if due <= now else datetime.combine(local.date() - timedelta(days=1), team.send_time, tzinfo=zone)
    )


def missed_digest(services: Services, team: Team) -> tuple[date, LateNote] | None:
    """The team's latest digest the service should have sent while it was not running, once: the service
    ran before that send time (a new installation has missed nothing) and no digest of that day was sent.
    Earlier missed days are named in the note, not sent."""
    now = services.clock.now()
    due = due_before(team, now)
    day = due.date() - timedelta(days=1)
    job = digest_job(team)
    began = services.runs.first_started(exclude=("once",))
    if began is None or began >= due or services.runs.done(job, day.isoformat()):
        return None
    last = services.runs.last_key(job)
    first_missed = date.fromisoformat(last) + timedelta(days=1) if last else day
    missed = tuple(first_missed + timedelta(days=n) for n in range((day - first_missed).days))
    return day, LateNote(due=due, sent=now, missed=missed)


def digest_job(team: Team) -> str:
    return f"digest-{team.name}"


def topic_state(services: Services) -> TopicState | None:
    """The latest topic fit's state; ``None`` when topics are off or their state cannot be read."""
    if not services.settings.topics.enabled:
        return None
    try:
        return load_state(services.topics_dir)
    except TopicStateError as error:
        log.warning("topics left out", extra={"error": str(error)})
        return None
