"""The service left running, for real: `opinionwatch run` over the calendar news world on an accelerated
clock (40 simulated minutes a second), two teams in two time zones, a local SMTP server and two local
alert receivers.

Three processes one after the other over four simulated days: the first is killed with SIGKILL in the
middle of a day, the second is stopped with SIGTERM before a send time, and the third, started after it,
catches the missed digest up. Every team gets one digest per day, exactly once; the planted burst raises
one volume alert whose growth arrives as updates, each channel gets every alert and update once across
the restarts; status and the metrics endpoint tell what happened."""

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
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from config import demo_config_text
from opinionwatch.clock import AcceleratedClock
from opinionwatch.newsworld import NewsWorldServer, World, environment
from opinionwatch.newsworld.calendar import build_calendar
from tests.loopback import free_port
from tests.smtp_servers import MailServer, mail_server
from tests.webhook_receivers import SECRET, webhook_receivers

START = date(2026, 11, 1)
"""The world's first day (a Sunday): its burst starts on the 5th and peaks on the 6th, NovaMart turns
negative on the 4th and a source breaks on the 5th."""
SPEED = 2400.0
"""Simulated seconds per real second: a day in 36 s."""
pytestmark = pytest.mark.slow


def _config(folder: Path, smtp_port: int, metrics_port: int) -> Path:
    config = yaml.safe_load(demo_config_text(folder / "data"))
    config["alerts"] = {"channels": [
        {"name": "desk", "type": "webhook", "webhook_url": "${DESK_URL}", "secret": "${HOOK_SECRET}"},
        {"name": "chat", "type": "slack", "webhook_url": "${CHAT_URL}"},
    ]}  # fmt: skip
    query = 'tariff OR tariffs OR "anti-dumping" OR 关税 OR 反倾销'
    config["watchlists"].append({"name": "trade", "kind": "policy", "title": "Trade", "query": query})
    config["teams"] = [
        {"name": "shanghai", "recipients": ["a1@example.com", "a2@example.com"], "timezone": "Asia/Shanghai",
         "send_time": "07:30", "watchlists": ["novamart", "product_safety", "crossborder", "trade"],
         "alert_channels": ["desk", "chat"]},
        {"name": "london", "recipients": ["b@example.com"], "timezone": "Europe/London", "send_time": "08:00",
         "watchlists": ["novamart", "apple"]},
    ]  # fmt: skip
    config["mail"] = {"host": "127.0.0.1", "port": smtp_port, "sender": "ow@example.com", "timeout_s": 5}
    config["metrics"] = {"address": f"127.0.0.1:{metrics_port}"}
    config["topics"] = {"enabled": False}  # the daily fit has tests of its own
    path = folder / "opinionwatch.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@contextlib.contextmanager
def _world_follows(world: World, clock: AcceleratedClock) -> Iterator[None]:
    """The news world publishes as simulated time passes."""
    stop = threading.Event()

    def follow() -> None:
        while not stop.is_set():
            world.as_of = clock.now()
            stop.wait(0.05)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        yield
    finally:
        stop.set()
        follower.join()


@contextlib.contextmanager
def _reaped() -> Iterator[list[subprocess.Popen[str]]]:
    """The services this test starts; any still running when it ends (a failure) are killed."""
    processes: list[subprocess.Popen[str]] = []
    try:
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def _until(clock: AcceleratedClock, when: datetime, process: subprocess.Popen[str] | None = None) -> None:
    while clock.now() < when:
        assert process is None or process.poll() is None, process.returncode
        time.sleep(0.05)


def _digests(server: MailServer) -> list[tuple[str, str, str]]:
    """(recipient, team, day) per message received, in order."""
    found = []
    for recipient, message in server.messages:
        team, day = str(message["Subject"]).split(" ")[1], str(message["Subject"]).split(", ")[1][:10]
        found.append((recipient, team, day))
    return found


def _scrape(port: int, awaited: str) -> str:
    """The metrics page once it shows ``awaited`` (the counter follows the mail by a moment)."""
    deadline = time.monotonic() + 30
    while True:
        page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        if awaited in page or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


def _runs(path: Path) -> list[tuple[str, str, str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT job, started, outcome, key FROM runs ORDER BY id").fetchall()


def test_four_days_of_service_with_a_crash_a_stop_a_missed_digest_and_a_burst(tmp_path: Path) -> None:
    world = build_calendar(seed=11, start=START, days=6)
    clock = AcceleratedClock(
        datetime(2026, 11, 3, 0, 0, tzinfo=UTC), SPEED
    )  # three days watched before the peak
    at = clock.start + timedelta(days=1)
    with (
        NewsWorldServer(world) as news, mail_server() as smtp, webhook_receivers() as hooks,
        _world_follows(world, clock), _reaped() as processes,
    ):  # fmt: skip
        metrics_port = free_port()
        config = _config(tmp_path, smtp.port, metrics_port)
        command = [sys.executable, "-m", "opinionwatch.cli", "run", "--config", str(config),
                   "--clock", f"{clock.start.isoformat()}@{SPEED}@{clock.anchor}"]  # fmt: skip
        env = {**os.environ, **environment(news), "HOOK_SECRET": SECRET, "DESK_URL": hooks.url("webhook"),
               "CHAT_URL": hooks.url("slack")}  # fmt: skip

        logs: list[Path] = []

        def start() -> subprocess.Popen[str]:
            """Output to a file: a pipe nobody reads fills up and blocks the service mid-crawl."""
            logs.append(tmp_path / f"run-{len(logs) + 1}.log")
            with logs[-1].open("w") as log:
                processes.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
                )
            return processes[-1]

        hooks.failing = {"slack"}  # the chat channel is down until the desk has had an alert for a while
        first = start()  # Tuesday 00:00 UTC; killed on Thursday at noon, after both teams' digests of the 4th
        while not hooks.received.get("webhook") and clock.now() < at + timedelta(days=1):
            _until(clock, clock.now() + timedelta(minutes=10), first)
        assert hooks.received.get("webhook") and not hooks.received.get("slack")  # the desk did not wait
        _until(clock, clock.now() + timedelta(minutes=30), first)
        hooks.failing = set()
        _until(clock, at + timedelta(days=1, hours=12), first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        killed_at = clock.now()
        second = start()  # takes over the lock; sends Shanghai's Tuesday digest; stopped before London's
        _until(clock, at + timedelta(days=2, hours=2), second)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=120) == 0, logs[1].read_text()
        _until(clock, at + timedelta(days=2, hours=10))  # down over London's 08:00 on Friday
        third = start()  # runs through the burst's peak day
        _until(clock, at + timedelta(days=3), third)
        deadline = time.monotonic() + 60
        while len(smtp.messages) < 12 and time.monotonic() < deadline:
            assert third.poll() is None, logs[2].read_text()
            time.sleep(0.1)
        scraped = _scrape(metrics_port, 'opinionwatch_job_runs_total{job="digest-london",outcome="ok"} 1.0')
        status = subprocess.run([*command[:3], "status", "--json", "--config", str(config)], env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        third.send_signal(signal.SIGTERM)
        assert third.wait(timeout=120) == 0, logs[2].read_text()
    received = _digests(smtp)
    assert len(received) == len(set(received)), received  # nobody got a digest twice
    required = {
        ("b@example.com", "london", "2026-11-02"),  # Tuesday 08:00 in London: Monday's digest
        ("a1@example.com", "shanghai", "2026-11-03"), ("a2@example.com", "shanghai", "2026-11-03"),
        ("b@example.com", "london", "2026-11-03"),
        ("a1@example.com", "shanghai", "2026-11-04"), ("a2@example.com", "shanghai", "2026-11-04"),
        ("b@example.com", "london", "2026-11-04"),
        ("a1@example.com", "shanghai", "2026-11-05"), ("a2@example.com", "shanghai", "2026-11-05"),
        ("b@example.com", "london", "2026-11-05"),
        ("a1@example.com", "shanghai", "2026-11-06"), ("a2@example.com", "shanghai", "2026-11-06"),
    }  # fmt: skip
    later = {("london", "2026-11-06"), ("shanghai", "2026-11-07")}  # while a slow machine stops the service
    assert required <= set(received), received
    assert all((team, day) in later for _, team, day in set(received) - required), received
    late = [
        m for r, m in smtp.messages if "london" in str(m["Subject"]) and "2026-11-05" in str(m["Subject"])
    ]
    body = late[0].get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Sent late: due 2026-11-06 08:00 GMT" in text
    started = " ".join(logs[2].read_text().split())
    assert "sending the missed digest of" in started and "london late" in started
    runs = _runs(tmp_path / "data" / "runs.sqlite")
    assert "interrupted" in {outcome for _, _, outcome, _ in runs}, runs  # what the SIGKILL cut short
    crawls = [datetime.fromisoformat(started) for job, started, _, _ in runs if job.startswith("crawl")]
    assert len(crawls) >= 20 and all(a <= b for a, b in zip(crawls, crawls[1:], strict=False))
    assert any(started < killed_at for started in crawls) and any(started > killed_at for started in crawls)
    report = json.loads(status.stdout)
    assert report["digests"]["london"]["outcome"] == "ok" and report["outbox"]["depth"]["sent"] >= 12
    assert hooks.rejected == []
    by_id = [(a["id"], a["version"]) for a in hooks.received["webhook"]]
    in_chat = [m["blocks"][0]["text"]["text"] for m in hooks.received["slack"]]  # names the alert's id
    assert len(by_id) == len(set(by_id)) and len(in_chat) == len(set(in_chat)) == len(by_id)  # once each
    volume = [a for a in hooks.received["webhook"] if a["kind"] == "volume"]
    assert {(a["id"], a["subject"]) for a in volume} == {(volume[0]["id"], "trade")}  # the burst, once
    assert [a["version"] for a in volume] == list(range(1, len(volume) + 1)) and len(volume) >= 2, volume
    assert "2026-11-05" <= volume[0]["first_seen"] < "2026-11-07"  # growth: updates, not new alerts
    trade_risk = {
        a["id"] for a in hooks.received["webhook"] if a["kind"] == "risk" and a["subject"] == "trade"
    }
    assert len(trade_risk) == 1  # a burst of risky stories is one risk episode
    broken = [a for a in hooks.received["webhook"] if a["kind"] == "source_broken"]
    assert [a["subject"] for a in broken] == ["coastal-courier"]  # it breaks on the 5th; one alert
    for verb in ("ack", "resolve"):  # the burst's alert, from the command line
        done = subprocess.run([*command[:3], "alerts", verb, str(volume[0]["id"]), "--by", "duty", "--config",
                               str(config)], env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
    alerts = json.loads(subprocess.run([*command[:3], "alerts", "list", "--json", "--config", str(config)],
                                       env=env, capture_output=True, text=True, timeout=120).stdout)  # fmt: skip
    (burst,) = [a for a in alerts["alerts"] if a["id"] == volume[0]["id"]]
    assert (burst["state"], burst["acknowledged_by"], burst["resolved_by"]) == ("resolved", "duty", "duty")
    assert {a["id"] for a in hooks.received["webhook"]} == {a["id"] for a in alerts["alerts"]}
    assert {a["id"] for a in report["alerts"]["open"]} <= {a["id"] for a in alerts["alerts"]}
    for needle in ('opinionwatch_items_collected_total{source="harbor-daily"}',
                   'opinionwatch_job_runs_total{job="digest-london",outcome="ok"} 1.0',
                   'opinionwatch_outbox_messages{state="sent"}'):  # fmt: skip
        assert needle in scraped, needle
