from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from config.settings import Settings
from opinionwatch.clock import FixedClock
from opinionwatch.scheduler import build_scheduler
from opinionwatch.wiring import Services


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], str]] = []

    def send(self, recipients: list[str], subject: str, text: str, html: str) -> None:
        self.sent.append((recipients, subject))


def test_jobs_follow_source_schedules_and_team_send_times(demo_settings: Settings) -> None:
    services = Services(demo_settings, clock=FixedClock(datetime(2026, 11, 23, tzinfo=UTC)))
    scheduler = build_scheduler(services, BackgroundScheduler(timezone="UTC"), notifier=_Recorder())
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl-every-900s", "crawl-every-1800s", "digest-pr-policy"}
    assert jobs["crawl-every-900s"].args[1] == [
        "harbor-daily",
        "metro-ledger",
        "huaxia-caijing",
        "nanfang-shangbao",
    ]
    trigger = jobs["digest-pr-policy"].trigger
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    assert fire == datetime(2026, 11, 24, 7, 30, tzinfo=trigger.timezone)  # 00:00 UTC is already 08:00 there
    assert fire.astimezone(UTC) == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


def test_digest_job_sends_through_the_notifier(demo_settings: Settings, tmp_path: Path) -> None:
    from opinionwatch.scheduler import send_digest

    recorder = _Recorder()
    with Services(demo_settings, clock=FixedClock(datetime(2026, 11, 23, 1, tzinfo=UTC))) as services:
        send_digest(services, "pr-policy", recorder, None)
    assert recorder.sent == [(["pr-team@example.com"], "OpinionWatch pr-policy digest, 2026-11-22: 0 items")]
