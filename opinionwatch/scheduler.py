"""The long-running mode: APScheduler polls sources on their schedules, fits topics daily and sends
digests at send time."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from digests.digest import build_digest, default_day
from digests.mail import Notifier, SmtpNotifier
from digests.render import render_html, render_text, subject
from opinionwatch.pipeline import fit_topics, run_cycle
from opinionwatch.wiring import Services

log = logging.getLogger(__name__)
SERIAL = "serial"


def build_scheduler(
    services: Services, scheduler: BaseScheduler | None = None, notifier: Notifier | None = None
) -> BaseScheduler:
    """Add one crawl job per distinct source interval, the daily topic fit (``topics.fit_time``, UTC) and
    one digest job per team with recipients.

    All jobs run one at a time on one worker thread: each store is one SQLite connection, not made for
    concurrent use, and a crawl and a digest should not race for the index anyway."""
    scheduler = scheduler or BlockingScheduler(timezone="UTC")
    scheduler.add_executor(ThreadPoolExecutor(max_workers=1), alias=SERIAL)
    by_interval: dict[int, list[str]] = defaultdict(list)
    for source in services.settings.sources:
        if source.enabled:
            by_interval[source.interval_seconds].append(source.name)
    for seconds, names in sorted(by_interval.items()):
        scheduler.add_job(
            run_cycle,
            IntervalTrigger(seconds=seconds),
            args=[services, names],
            id=f"crawl-every-{seconds}s",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=seconds,
            next_run_time=services.clock.now(),
            name=f"crawl {', '.join(names)}",
            executor=SERIAL,
        )
    topics = services.settings.topics
    if topics.enabled:
        scheduler.add_job(
            fit_yesterday,
            CronTrigger(hour=topics.fit_time.hour, minute=topics.fit_time.minute, timezone="UTC"),
            args=[services],
            id="topics-fit",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=6 * 3600,
            name="daily topic fit",
            executor=SERIAL,
        )
    mailer = notifier or SmtpNotifier(services.settings.mail)
    for team in services.settings.teams:
        if not team.recipients:
            continue
        trigger = CronTrigger(hour=team.send_time.hour, minute=team.send_time.minute, timezone=team.timezone)
        scheduler.add_job(
            send_digest,
            trigger,
            args=[services, team.name, mailer, None],
            id=f"digest-{team.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            name=f"digest {team.name}",
            executor=SERIAL,
        )
    return scheduler


def fit_yesterday(services: Services) -> None:
    """The daily topic fit of the UTC day that has just ended."""
    fit_topics(services, services.clock.now().date() - timedelta(days=1))


def send_digest(services: Services, team_name: str, notifier: Notifier, day: date | None) -> None:
    settings = services.settings
    team = settings.team(team_name)
    now = services.clock.now()
    digest = build_digest(
        settings, team, day or default_day(now, team.timezone), services.index, services.stories, now
    )
    notifier.send(team.recipients, subject(digest), render_text(digest), render_html(digest))
    log.info("digest sent", extra={"team": team.name, "recipients": len(team.recipients)})
