"""The long-running mode: APScheduler polls sources on their schedules, fits topics daily and sends
digests at send time."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from digests.panels import LateNote
from opinionwatch.alerting import check_alerts
from opinionwatch.digesting import digest_job, due_before, missed_digest, send_digest
from opinionwatch.pipeline import CycleReport, Progress, fit_topics, run_cycle
from opinionwatch.runs import Counts
from opinionwatch.stopping import ServiceScheduler
from opinionwatch.wiring import Services

log = logging.getLogger(__name__)
SERIAL = "serial"
LATE_AFTER = timedelta(minutes=15)


def build_scheduler(services: Services, scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """Add one crawl job per distinct source interval, the daily topic fit (``topics.fit_time``, UTC), one
    digest job per team with recipients, and the outbox's retry job.

    All jobs run one at a time on one worker thread: each store is one SQLite connection, not made for
    concurrent use, and a crawl and a digest should not race for the index anyway. Every job has
    ``max_instances=1`` and ``coalesce=True`` (runs that piled up while one was busy become one). A job
    whose time came while another ran waits for the worker and then runs however late
    (``misfire_grace_time=None``): a crawl of slow sources must not starve the others (with a grace of
    one interval, a 30-minute crawl job queued behind a long 15-minute one was skipped every time), and a
    late digest reports the day of its latest send time and says it is late. The topic fit may be 6 hours
    late. Work missed while the service was down is :func:`catch_up`'s."""
    scheduler = scheduler or ServiceScheduler(timezone="UTC")
    scheduler.add_executor(ThreadPoolExecutor(max_workers=1), alias=SERIAL)
    common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "executor": SERIAL}
    by_interval: dict[int, list[str]] = defaultdict(list)
    for source in services.settings.sources:
        if source.enabled:
            by_interval[source.interval_seconds].append(source.name)
    for seconds, names in sorted(by_interval.items()):
        job = f"crawl-every-{seconds}s"
        scheduler.add_job(
            recorded, IntervalTrigger(seconds=seconds), args=[services, job, crawl, services, names], id=job,
            misfire_grace_time=None, next_run_time=services.clock.now(), name=f"crawl {', '.join(names)}",
            **common,
        )  # fmt: skip
    topics = services.settings.topics
    if topics.enabled:
        trigger = CronTrigger(hour=topics.fit_time.hour, minute=topics.fit_time.minute, timezone="UTC")
        scheduler.add_job(
            recorded, trigger, args=[services, "topics-fit", fit_yesterday, services], id="topics-fit",
            misfire_grace_time=6 * 3600, name="daily topic fit", **common,
        )  # fmt: skip
    for team in services.settings.teams:
        if not team.recipients:
            continue
        trigger = CronTrigger(hour=team.send_time.hour, minute=team.send_time.minute, timezone=team.timezone)
        scheduler.add_job(
            daily_digest, trigger, args=[services, team.name], id=digest_job(team),
            misfire_grace_time=None, name=f"digest {team.name}", **common,
        )  # fmt: skip
    scheduler.add_job(
        deliver_due, IntervalTrigger(seconds=services.settings.mail.retry_first_s), args=[services],
        id="outbox", name="outbox retries", misfire_grace_time=None, **common,
    )  # fmt: skip
    return scheduler


def catch_up(services: Services, scheduler: BaseScheduler) -> list[str]:
    """On start: each team's digest missed while the service was down is sent once, now, late, and says
    so in its header (crawls need no catch-up: each starts at once and reads what it missed). Returns
    the teams caught up."""
    teams = []
    for team in services.settings.teams:
        missed = missed_digest(services, team) if team.recipients else None
        if missed is None:
            continue
        day, late = missed
        scheduler.add_job(
            daily_digest, "date", run_date=services.clock.now(), args=[services, team.name, day, late],
            id=f"catch-up-{team.name}", name=f"late digest {team.name}", max_instances=1, executor=SERIAL,
            misfire_grace_time=None,
        )  # fmt: skip
        log.warning("a digest was missed; sending it late", extra={"team": team.name, "day": day.isoformat()})
        teams.append(team.name)
    return teams


def recorded(services: Services, job: str, work: Callable[..., Counts], *args: Any) -> None:
    """Run a job's ``work(*args)`` with a row in the runs log around it (``opinionwatch status``)."""
    services.runs.record(job, services.clock.now, lambda: work(*args))


def run_once(services: Services, names: list[str] | None, progress: Progress | None = None) -> CycleReport:
    """One cycle outside the schedule (``run --once``), recorded in the runs log as job ``once``."""
    reports: list[CycleReport] = []

    def work() -> Counts:
        reports.append(run_cycle(services, names, progress))
        services.metrics.cycle(reports[0])
        return cycle_counts(reports[0])

    services.runs.record("once", services.clock.now, work)
    return reports[0]


def crawl(services: Services, names: list[str] | None) -> Counts:
    """A cycle, then the alert rules (within one crawl interval of what the cycle found)."""
    report = run_cycle(services, names)
    services.metrics.cycle(report)
    counts = cycle_counts(report)
    if services.settings.alerts.enabled:
        counts |= check_alerts(services)
    return counts


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


def daily_digest(
    services: Services, team_name: str, day: date | None = None, late: LateNote | None = None
) -> None:
    """The digest of the day before the team's latest send time (or of ``day``), once per day: a second
    firing for a day already sent (a send time in the hour that repeats when clocks go back fires twice)
    does nothing. A digest that starts more than ``LATE_AFTER`` after its send time (the worker was busy)
    says so in its header."""
    team = services.settings.team(team_name)
    now = services.clock.now()
    due = due_before(team, now)
    if day is None:
        day = due.date() - timedelta(days=1)
        late = late or (LateNote(due=due, sent=now) if now - due > LATE_AFTER else None)
    job = digest_job(team)
    if services.runs.done(job, day.isoformat()):
        log.info("digest already sent", extra={"team": team.name, "day": day.isoformat()})
        return
    work = partial(send_digest, services, team.name, day, late)
    services.runs.record(job, services.clock.now, work, key=day.isoformat())


def deliver_due(services: Services) -> None:
    """Retry what is due in the outbox (transient failures wait there with a back-off)."""
    delivered = services.outbox.deliver(services.notifiers, services.clock.now)
    services.metrics.outbox_depth(services.outbox.depth())
    if delivered.sent or delivered.failed:
        log.info("outbox", extra={"sent": len(delivered.sent), "failed": len(delivered.failed)})
