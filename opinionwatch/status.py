"""``opinionwatch status``: sources with their health, each job's last and next run, the index and its
outbox, and the last digest per team, read from the data folder (a running scheduler keeps writing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from crawlers.health import assess
from digests.alert_rules import inactive
from digests.alert_store import Alert
from index.elastic import ElasticsearchIndex
from opinionwatch.runs import JobRun
from opinionwatch.scheduler import build_scheduler
from opinionwatch.wiring import Services


def status_report(services: Services) -> dict[str, Any]:
    settings = services.settings
    now = services.clock.now()
    latest = services.runs.latest()
    sources = []
    for source in settings.sources:
        health = assess(services.state.recent_runs(source.name), settings.crawl.broken_after)
        sources.append(
            {"name": source.name, "enabled": source.enabled, "health": health.state, "reason": health.reason}
        )
    jobs = []
    for job in build_scheduler(services, BackgroundScheduler(timezone="UTC")).get_jobs():
        last = latest.get(job.id)
        upcoming = job.trigger.get_next_fire_time(last.started if last else None, now)
        jobs.append({"id": job.id, "name": job.name, "last": _run(last), "next": _stamp(upcoming)})
    if "once" in latest:
        jobs.append({"id": "once", "name": "run --once", "last": _run(latest["once"]), "next": None})
    digests = {team.name: _run(latest.get(f"digest-{team.name}")) for team in settings.teams}
    return {
        "now": _stamp(now),
        "sources": sources,
        "jobs": jobs,
        "index": _index(services),
        "digests": digests,
        "outbox": {"depth": services.outbox.depth(), "problems": services.outbox.problems()},
        "alerts": {
            "open": [_alert(a) for a in services.alerts.list("open", limit=20)],
            "inactive_rules": inactive(settings),
        },
    }


def _alert(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "severity": alert.severity, "fired": _stamp(alert.fired), "title": alert.title}


def _index(services: Services) -> dict[str, Any]:
    index = services.index
    if isinstance(index, ElasticsearchIndex):
        return {"backend": "elasticsearch", **index.status()}
    return {"backend": "embedded", "documents": index.count()}


def _run(run: JobRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "started": _stamp(run.started),
        "ended": _stamp(run.ended),
        "outcome": run.outcome,
        "counts": run.counts,
        "error": run.error,
    }


def _stamp(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None
