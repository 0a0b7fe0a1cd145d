"""The long-running mode: APScheduler polls sources on their schedules, fits topics daily and sends
digests at send time."""

from __future__ import annotations

import logging
import signal
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from digests.digest import build_digest, default_day
from digests.mail import Notifier, SmtpNotifier
from digests.render import render_html, render_text, subject
from opinionwatch.pipeline import CycleReport, Progress, fit_topics, run_cycle
from opinionwatch.runs import Counts
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
        job = f"crawl-every-{seconds}s"
        scheduler.add_job(
            recorded,
            IntervalTrigger(seconds=seconds),
            args=[services, job, crawl, services, names],
            id=job,
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
            recorded,
            CronTrigger(hour=topics.fit_time.hour, minute=topics.fit_time.minute, timezone="UTC"),
            args=[services, "topics-fit", fit_yesterday, services],
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
            daily_digest,
            trigger,
            args=[services, team.name, mailer],
            id=f"digest-{team.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            name=f"digest {team.name}",
            executor=SERIAL,
        )
    return scheduler


def stop_on_signals(scheduler: BaseScheduler) -> None:
    """SIGTERM and SIGINT stop the scheduler: no new job starts, the one running finishes (and is recorded),
    then ``start()`` returns and the process exits 0. Call from the main thread before ``start()``."""

    def stop(number: int, frame: object) -> None:
        log.info("stopping on signal %s: waiting for the running job", number)
        scheduler.shutdown(wait=True)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)


def recorded(services: Services, job: str, work: Callable[..., Counts], *args: Any) -> None:
    """Run a job's ``work(*args)`` with a row in the runs log around it (``opinionwatch status``)."""
    services.runs.record(job, services.clock.now, lambda: work(*args))


def run_once(services: Services, names: list[str] | None, progress: Progress | None = None) -> CycleReport:
    """One cycle outside the schedule (``run --once``), recorded in the runs log as job ``once``."""
    reports: list[CycleReport] = []

    def work() -> Counts:
        reports.append(run_cycle(services, names, progress))
        return cycle_counts(reports[0])

    services.runs.record("once", services.clock.now, work)
    return reports[0]


def crawl(services: Services, names: list[str] | None) -> Counts:
    report = run_cycle(services, names)
    return cycle_counts(report)


def cycle_counts(report: CycleReport) -> Counts:
    return {
        "collected": report.collected,
        "indexed": report.indexed,
        "failed": report.failed,
        "new_stories": report.new_stories,
    }


def fit_yesterday(services: Services) -> Counts:
    """The daily topic fit of the UTC day that has just ended."""
    fit = fit_topics(services, services.clock.now().date() - timedelta(days=1))
    return {"topics": len(fit.labels)}


def daily_digest(services: Services, team_name: str, notifier: Notifier) -> None:
    """The scheduled digest of the team's previous local day, sent once per day: a second firing for the
    same day (a send time in the hour that repeats when clocks go back fires twice) is skipped, and so
    is a day whose sending was cut short (the digest may have gone out)."""
    team = services.settings.team(team_name)
    day = default_day(services.clock.now(), team.timezone)
    job = f"digest-{team.name}"
    if services.runs.done(job, day.isoformat()):
        log.info("digest already sent or attempted", extra={"team": team.name, "day": day.isoformat()})
        return
    work = partial(send_digest, services, team.name, notifier, day)
    services.runs.record(job, services.clock.now, work, key=day.isoformat())


def send_digest(services: Services, team_name: str, notifier: Notifier, day: date | None) -> Counts:
    settings = services.settings
    team = settings.team(team_name)
    now = services.clock.now()
    digest = build_digest(
        settings, team, day or default_day(now, team.timezone), services.index, services.stories, now
    )
    notifier.send(team.recipients, subject(digest), render_text(digest), render_html(digest))
    log.info("digest sent", extra={"team": team.name, "recipients": len(team.recipients)})
    stories = sum(len(section.stories) for section in digest.sections)
    return {"recipients": len(team.recipients), "stories": stories}
