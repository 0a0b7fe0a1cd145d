from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from email import message_from_bytes
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from config.settings import Settings
from digests.mail import RecordingNotifier
from nlp.embed import HashingEmbedder
from opinionwatch.clock import FixedClock
from opinionwatch.newsworld import World
from opinionwatch.runlock import LOCK_FILE
from opinionwatch.runs import RunLog
from opinionwatch.scheduler import build_scheduler, daily_digest
from opinionwatch.stopping import ServiceScheduler, serve_until_signalled
from opinionwatch.wiring import Services
from tests.conftest import write_demo_config


def test_jobs_follow_source_schedules_and_team_send_times(demo_settings: Settings) -> None:
    services = Services(demo_settings, clock=FixedClock(datetime(2026, 11, 23, tzinfo=UTC)))
    scheduler = build_scheduler(services, BackgroundScheduler(timezone="UTC"))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl-every-900s", "crawl-every-1800s", "digest-pr-policy", "topics-fit", "outbox"}
    topics = jobs["topics-fit"].trigger.get_next_fire_time(None, datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    assert topics == datetime(2026, 11, 24, 0, 20, tzinfo=UTC)
    assert jobs["crawl-every-900s"].args[-1] == [
        "harbor-daily",
        "metro-ledger",
        "huaxia-caijing",
        "nanfang-shangbao",
    ]
    trigger = jobs["digest-pr-policy"].trigger
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    assert fire == datetime(2026, 11, 24, 7, 30, tzinfo=trigger.timezone)  # 00:00 UTC is already 08:00 there
    assert fire.astimezone(UTC) == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


def test_digest_job_queues_and_delivers_through_the_outbox(demo_settings: Settings) -> None:
    recorder = RecordingNotifier()
    clock = FixedClock(datetime(2026, 11, 23, 1, tzinfo=UTC))
    with Services(demo_settings, clock=clock, notifiers_override={"email": recorder}) as services:
        daily_digest(services, "pr-policy")
        daily_digest(services, "pr-policy")  # the same day again: nothing more
        states = services.outbox.states()
    assert states == {"digest/pr-policy/2026-11-22/pr-team@example.com": "sent"}
    (sent,) = recorder.delivered
    message = message_from_bytes(sent.payload)
    assert sent.recipient == "pr-team@example.com" and message["To"] == "pr-team@example.com"
    assert message["Subject"] == "OpinionWatch pr-policy digest, 2026-11-22: 0 items"


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
    scheduler = build_scheduler(services, BackgroundScheduler(timezone="UTC"))
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
    runs = services.runs.db.execute(
        "SELECT outcome, counts FROM runs WHERE job = 'crawl-every-2s'"
    ).fetchall()
    assert len(runs) >= 2 and {outcome for outcome, _ in runs} == {"ok"}  # each run recorded
    assert sum(json.loads(counts)["indexed"] for _, counts in runs) == services.index.count()
    services.close()


def test_the_runs_log_records_outcomes_and_marks_runs_cut_short(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 23, 6, tzinfo=UTC))
    log = RunLog(tmp_path / "runs.sqlite")
    assert log.record("crawl", clock.now, lambda: {"collected": 3}) == {"collected": 3}

    def broken() -> dict[str, int]:
        raise OSError("disk full")

    with pytest.raises(OSError):
        log.record("digest-pr", clock.now, broken)
    log.db.execute("INSERT INTO runs (job, started, outcome) VALUES ('topics-fit', ?, 'running')", (
        clock.now().isoformat(),
    ))  # fmt: skip  # a process killed in the middle of a run
    log.db.commit()
    assert RunLog(tmp_path / "runs.sqlite").mark_interrupted(clock.now()) == 1
    latest = log.latest()
    assert (latest["crawl"].outcome, latest["crawl"].counts) == ("ok", {"collected": 3})
    assert (latest["digest-pr"].outcome, latest["digest-pr"].error) == ("failed", "OSError: disk full")
    assert latest["topics-fit"].outcome == "interrupted" and latest["topics-fit"].ended == clock.now()
    log.close()


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
    shown = subprocess.run(
        [sys.executable, "-m", "opinionwatch.cli", "status", "--json", "--config", str(config)],
        env=world_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    status = json.loads(shown.stdout)
    assert {source["name"] for source in status["sources"]} >= {"harbor-daily", "huaxia-caijing"}
    jobs = {job["id"]: job for job in status["jobs"]}
    assert {"crawl-every-900s", "crawl-every-1800s", "topics-fit", "digest-pr-policy", "once"} <= set(jobs)
    assert jobs["once"]["last"]["outcome"] == "ok" and jobs["topics-fit"]["next"]
    outcomes = {job["last"]["outcome"] for job in status["jobs"] if job["last"]}
    assert "running" not in outcomes  # what the killed run left running is marked interrupted
    assert status["index"]["backend"] == "embedded" and status["digests"] == {"pr-policy": None}


def test_sigterm_lets_the_running_job_finish_and_exits_0(tmp_path: Path, world_env: dict[str, str]) -> None:
    config = write_demo_config(tmp_path, tmp_path / "data")
    command = [sys.executable, "-m", "opinionwatch.cli", "run", "--config", str(config)]
    running = subprocess.Popen(
        command, env=world_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    runs = tmp_path / "data" / "runs.sqlite"
    deadline = time.monotonic() + 120
    while not _outcomes(runs):  # the first crawl starts at once
        assert running.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    running.send_signal(signal.SIGTERM)
    out, err = running.communicate(timeout=300)
    assert running.returncode == 0, err
    assert "scheduler stopped" in out
    outcomes = _outcomes(runs)
    assert outcomes and set(outcomes) == {"ok"}, outcomes  # finished and recorded, nothing left running


def test_a_signal_stops_new_jobs_and_waits_for_the_running_one_outside_the_handler() -> None:
    started, release, ran = threading.Event(), threading.Event(), []
    scheduler = ServiceScheduler(timezone="UTC")

    def job(name: str) -> None:
        started.set()
        release.wait(30)
        ran.append(name)

    now = datetime.now(UTC)
    scheduler.add_job(job, "date", run_date=now, args=["running"])
    due = now + timedelta(seconds=5)
    scheduler.add_job(job, "date", run_date=due, args=["due after the signal"])
    handler = signal.getsignal(signal.SIGTERM)

    def signal_then_release() -> None:
        started.wait(30)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
        release.set()

    threading.Thread(target=signal_then_release, daemon=True).start()
    serve_until_signalled(scheduler, poll_s=0.05)
    assert ran == ["running"] and not scheduler.running  # returned once the running job had finished
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 1)
    assert ran == ["running"]  # and nothing started after the signal
    assert signal.getsignal(signal.SIGTERM) is handler


def test_a_scheduler_loop_that_fails_is_an_error_not_a_silent_wait() -> None:
    class Broken(ServiceScheduler):
        def _main_loop(self) -> None:
            raise RuntimeError("the job store is gone")

    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RuntimeError, match="the job store is gone"):
        serve_until_signalled(Broken(timezone="UTC"), poll_s=0.05)
    assert signal.getsignal(signal.SIGTERM) is handler


def test_a_stop_during_a_pass_over_one_off_jobs_does_not_break_the_pass() -> None:
    """Stopping from another thread while a pass removes finished one-off jobs (a late digest): APScheduler's
    own shutdown() would mark the scheduler stopped mid-pass, and the pass would fail."""
    early = ServiceScheduler(timezone="UTC")
    early.request_stop()  # before its loop has begun: the first pass sees it
    serve_until_signalled(early, poll_s=0.01)
    assert not early.running
    for _ in range(20):
        scheduler = ServiceScheduler(timezone="UTC")
        for number in range(50):
            scheduler.add_job(lambda: None, "date", run_date=datetime.now(UTC), id=f"once-{number}")
        stopper = threading.Timer(0.01, scheduler.request_stop)
        stopper.start()
        serve_until_signalled(scheduler, poll_s=0.01)  # returns, and raises nothing
        stopper.join()
        assert not scheduler.running


def _outcomes(path: Path) -> list[str]:
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(path)) as db:
        try:
            return [row[0] for row in db.execute("SELECT outcome FROM runs")]
        except sqlite3.OperationalError:  # the table is being created
            return []


@pytest.mark.parametrize(
    ("zone", "forward", "back"),
    [("America/New_York", date(2026, 3, 8), date(2026, 11, 1)), ("Europe/London", date(2026, 3, 29), date(2026, 10, 25))],
)  # fmt: skip
def test_digests_across_both_clock_changes_go_out_once_a_day(
    demo_settings: Settings, zone: str, forward: date, back: date
) -> None:
    """APScheduler's cron trigger fires a send time in the skipped hour once, an hour late by the wall
    clock, and one in the repeated hour twice; the digest job sends once per day all the same."""
    local = ZoneInfo(zone)

    def fires(hour: int, minute: int, first: date, days: int) -> list[datetime]:
        trigger = CronTrigger(hour=hour, minute=minute, timezone=zone)
        found: list[datetime] = []
        previous, now = None, datetime.combine(first, datetime.min.time(), local).astimezone(UTC)
        for _ in range(3 * days):  # bounded: the trigger may give one instant again
            upcoming = trigger.get_next_fire_time(previous, now)
            assert upcoming is not None
            if upcoming.astimezone(UTC) not in {f.astimezone(UTC) for f in found}:
                found.append(upcoming)
            previous, now = upcoming, upcoming.astimezone(UTC) + timedelta(minutes=1)
        return found[:days]

    usual = fires(7, 30, forward - timedelta(days=1), 3)
    assert [f.astimezone(UTC).astimezone(local).strftime("%d %H:%M") for f in usual] == [
        f"{d.day:02d} 07:30" for d in (forward - timedelta(days=1), forward, forward + timedelta(days=1))
    ]
    assert usual[2].astimezone(UTC) - usual[0].astimezone(UTC) == timedelta(hours=47)  # an hour less
    skipped_hour = 2 if zone.startswith("America") else 1
    skipped = [
        f
        for f in fires(skipped_hour, 30, forward, 2)
        if f.astimezone(UTC).astimezone(local).date() == forward
    ]
    assert [f.astimezone(UTC).astimezone(local).strftime("%H:%M") for f in skipped] == [
        f"{skipped_hour + 1:02d}:30"
    ]
    repeated = [f for f in fires(1, 30, back, 3) if f.astimezone(UTC).astimezone(local).date() == back]
    assert len({f.astimezone(UTC) for f in repeated}) == 2  # 01:30 before and after clocks go back
    team = demo_settings.teams[0].model_copy(update={"timezone": zone, "send_time": time_of_day(1, 30)})
    settings = demo_settings.model_copy(update={"teams": [team]})
    recorder = RecordingNotifier()
    for when in sorted({f.astimezone(UTC) for f in repeated}):
        with Services(settings, clock=FixedClock(when), notifiers_override={"email": recorder}) as services:
            daily_digest(services, team.name)
    assert [message_from_bytes(e.payload)["Subject"] for e in recorder.delivered] == [
        f"OpinionWatch {team.name} digest, {back - timedelta(days=1)}: 0 items"
    ]


def test_a_digest_missed_while_down_is_caught_up_once_naming_earlier_missed_days(
    demo_settings: Settings,
) -> None:
    from opinionwatch.digesting import missed_digest

    team = demo_settings.teams[0]  # 07:30 Asia/Shanghai = 23:30 UTC the day before
    clock = FixedClock(datetime(2026, 11, 20, 2, tzinfo=UTC))
    with Services(demo_settings, clock=clock, notifiers_override={"email": RecordingNotifier()}) as services:
        assert missed_digest(services, team) is None  # a new installation has missed nothing
        services.runs.record("crawl-every-900s", clock.now, dict)
        daily_digest(services, team.name)  # 2026-11-19 sent
        clock.instant = datetime(2026, 11, 23, 4, tzinfo=UTC)  # down since: 20th, 21st and 22nd missed
        day, late = missed_digest(services, team)  # type: ignore[misc]
        assert day == date(2026, 11, 22) and late.missed == (date(2026, 11, 20), date(2026, 11, 21))
        assert late.due == datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
        daily_digest(services, team.name, day, late)
        assert missed_digest(services, team) is None  # once
        sent = [message_from_bytes(e.payload) for e in services.notifiers["email"].delivered]  # type: ignore[attr-defined]
    assert [m["Subject"].split(", ")[1][:10] for m in sent] == ["2026-11-19", "2026-11-22"]
    text = sent[1].get_payload()[0].get_payload(decode=True).decode()
    assert "Sent late: due 2026-11-23 07:30 CST" in text and "2026-11-20, 2026-11-21" in text
