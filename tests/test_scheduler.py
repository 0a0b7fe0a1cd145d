from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from config.settings import Settings
from nlp.embed import HashingEmbedder
from opinionwatch.clock import FixedClock
from opinionwatch.newsworld import World
from opinionwatch.runlock import LOCK_FILE
from opinionwatch.scheduler import build_scheduler
from opinionwatch.wiring import Services
from tests.conftest import write_demo_config


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], str]] = []

    def send(self, recipients: list[str], subject: str, text: str, html: str) -> None:
        self.sent.append((recipients, subject))


def test_jobs_follow_source_schedules_and_team_send_times(demo_settings: Settings) -> None:
    services = Services(demo_settings, clock=FixedClock(datetime(2026, 11, 23, tzinfo=UTC)))
    scheduler = build_scheduler(services, BackgroundScheduler(timezone="UTC"), notifier=_Recorder())
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl-every-900s", "crawl-every-1800s", "digest-pr-policy", "topics-fit"}
    topics = jobs["topics-fit"].trigger.get_next_fire_time(None, datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    assert topics == datetime(2026, 11, 24, 0, 20, tzinfo=UTC)
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


def test_scheduled_cycles_run_and_do_not_refetch(demo_settings: Settings, world: World) -> None:
    """The long-running mode for real: cycles every 2 s on two news-world sites, one worker thread."""
    sites = ["harbor-daily", "metro-ledger"]
    fast = demo_settings.model_copy(
        update={
            "sources": [
                s.model_copy(update={"schedule": "every 2s"})
                for s in demo_settings.sources
                if s.name in sites
            ]
        }
    )
    services = Services(fast, embedder_override=HashingEmbedder())
    scheduler = build_scheduler(services, BackgroundScheduler(timezone="UTC"), notifier=_Recorder())
    events: list[JobExecutionEvent] = []
    scheduler.add_listener(events.append, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        deadline = time.monotonic() + 90
        while len(events) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert len(events) >= 2 and [e.exception for e in events] == [None] * len(events)
    assert services.index.count() == sum(len(world.articles_of(site)) for site in sites)
    latest = services.state.recent_runs("harbor-daily", limit=1)[0]
    assert latest.new == 0 and latest.skipped == {"not_modified": 1}  # conditional GET: feed unchanged
    services.close()


def test_one_run_per_data_folder_and_a_killed_runs_lock_is_taken_over(
    tmp_path: Path, world_env: dict[str, str]
) -> None:
    config = write_demo_config(tmp_path, tmp_path / "data")
    command = [sys.executable, "-m", "opinionwatch.cli", "run", "--config", str(config)]
    first = subprocess.Popen(
        command, env=world_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lock = tmp_path / "data" / LOCK_FILE
    try:
        deadline = time.monotonic() + 120
        while f"pid {first.pid} " not in (lock.read_text() if lock.exists() else ""):
            assert first.poll() is None and time.monotonic() < deadline, (
                first.stderr.read() if first.stderr else ""
            )
            time.sleep(0.2)
        second = subprocess.run(
            [*command, "--once"], env=world_env, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 1
        assert f"another `opinionwatch run` uses {tmp_path / 'data'} (pid {first.pid} since" in second.stderr
    finally:
        first.kill()  # kill -9: no clean-up runs, the OS releases the lock
        first.wait(timeout=30)
    third = subprocess.run([*command, "--once"], env=world_env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert "pid" in lock.read_text() and f"pid {first.pid} " not in lock.read_text()
