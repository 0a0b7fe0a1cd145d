"""Alerts: the rules over a real index and story store, one alert per episode with updates, every channel
against a local receiver that checks its platform's shape and signature, exactly once per alert, version
and channel, a failing channel that does not hold up the others, quiet hours, the lifecycle from the
command line, and the backtest."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.alert_settings import AlertChannel, AlertRule, AlertSettings, QuietHours
from config.settings import MailSettings, Settings, Team, TopicSettings, Watchlist
from crawlers.records import SourceReport
from digests.alert_rules import WORDING, World, evaluate, inactive
from digests.alert_store import SCHEMA, AlertStore, Candidate, Evidence
from index.base import IndexDoc
from nlp.records import Mention, Risk
from opinionwatch.alerting import queue_alert, quiet_until, routes
from opinionwatch.cli import app
from opinionwatch.cli_alerts import replay, score
from opinionwatch.clock import FixedClock
from opinionwatch.wiring import Services
from tests.conftest import make_item
from tests.smtp_servers import mail_server
from tests.webhook_receivers import SECRET, Receivers, webhook_receivers

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
SPIKE = DAY0 + timedelta(days=14, hours=10)
PLATFORMS = ("slack", "feishu", "dingtalk", "wecom", "webhook")
WORDS = [
    "port",
    "tariff",
    "battery",
    "lender",
    "harvest",
    "ministry",
    "court",
    "shares",
    "courier",
    "drought",
    "factory",
    "rally",
]


def settings(
    tmp_path: Path, receivers: Receivers | None = None, smtp_port: int = 1, **team: object
) -> Settings:
    channels = [
        AlertChannel(name=p, type=p, webhook_url=receivers.url(p),  # type: ignore[arg-type]
                     secret=SECRET if p in ("feishu", "dingtalk", "webhook") else None)  # type: ignore[arg-type]
        for p in (PLATFORMS if receivers else ())
    ] + [AlertChannel(name="mail", type="email", recipients=["duty@example.com"])]  # fmt: skip
    return Settings(
        data_dir=tmp_path / "data",
        watchlists=[Watchlist(name="novamart", entities=[{"name": "NovaMart"}])],  # type: ignore[list-item]
        teams=[Team(name="pr", watchlists=["novamart"], alert_channels=[c.name for c in channels], **team)],  # type: ignore[arg-type]
        alerts=AlertSettings(channels=channels),
        mail=MailSettings(host="127.0.0.1", port=smtp_port, sender="ow@example.com", timeout_s=5),
        topics=TopicSettings(enabled=False),
    )


def candidate(stories: int, sites: int, severity: str = "warning") -> Candidate:
    return Candidate(
        key="volume-spike/novamart/20261116T10", rule="volume-spike", kind="volume", severity=severity,
        subject="novamart", title="NovaMart: coverage spike", reason=f"{stories} new stories in the hour",
        first_seen=SPIKE, evidence=(Evidence("s1", "NovaMart recalls power banks", "http://a.example/1", 3, sites),),
        figures={"stories": stories, "sites": sites},
    )  # fmt: skip


def test_every_channel_gets_each_alert_and_update_once_and_a_failing_one_waits(tmp_path: Path) -> None:
    clock = FixedClock(SPIKE)
    with webhook_receivers() as receivers, mail_server() as smtp:
        config = settings(tmp_path, receivers, smtp.port)
        receivers.failing = {"wecom"}
        with Services(config, clock=clock) as services:

            def offer_and_send(found: Candidate) -> None:
                offered = services.alerts.offer(found, clock.now(), timedelta(hours=12))
                if offered is not None:
                    queue_alert(services, offered[0])
                services.outbox.deliver(services.notifiers, clock.now, prefix="alert/")

            offer_and_send(candidate(8, 5))
            offer_and_send(candidate(8, 5))  # the same episode, no growth: nothing new
            clock.instant += timedelta(minutes=30)
            offer_and_send(candidate(9, 12))  # it grew: an update of the same alert
            receivers.failing = set()
            clock.instant += timedelta(minutes=5)
            offer_and_send(candidate(9, 12))
            (alert,) = services.alerts.list()
            states = services.outbox.states("alert/")
    assert alert.version == 2 and alert.figures == {"stories": 9, "sites": 12}
    assert receivers.rejected == []  # every shape and signature was right
    for platform in PLATFORMS:
        assert len(receivers.received[platform]) == 2, platform  # the alert and its update, once each
    assert "(update 1)" in receivers.received["slack"][1]["text"]
    assert receivers.received["webhook"][0]["evidence"][0]["url"] == "http://a.example/1"
    assert [str(m["Subject"]) for _, m in smtp.messages] == [
        "OpinionWatch alert: [WARNING] NovaMart: coverage spike",
        "OpinionWatch alert: [WARNING] NovaMart: coverage spike (update 1)",
    ]
    assert set(states.values()) == {"sent"} and len(states) == 12


def test_a_chinese_team_gets_its_alerts_in_chinese_and_the_store_keeps_english(tmp_path: Path) -> None:
    clock = FixedClock(SPIKE)
    title = WORDING["title_volume"].format(watchlist="NovaMart", kind="spike")
    reason = WORDING["reason_volume_hour"].format(
        count="8", until="2026-11-16 11:00", baseline="1", score="+9.5", what="more"
    )
    with webhook_receivers() as receivers, mail_server() as smtp:
        config = settings(tmp_path, receivers, smtp.port, language="zh")
        with Services(config, clock=clock) as services:
            offered = services.alerts.offer(
                replace(candidate(8, 5), title=title, reason=reason), SPIKE, timedelta(hours=12)
            )
            assert offered is not None
            queue_alert(services, offered[0])
            services.outbox.deliver(services.notifiers, clock.now, prefix="alert/")
            (stored,) = services.alerts.list()
    assert receivers.rejected == [] and stored.title == title and stored.reason == reason
    feishu = receivers.received["feishu"][0]["content"]["text"]
    assert feishu.splitlines()[:2] == [
        "[WARNING] NovaMart：报道量激增",
        "截至 2026-11-16 11:00 UTC 的 1 小时内新增 8 个事件，通常 1 个（+9.5 个标准差，多于平时）",
    ]
    assert "（3 条，5 个网站）" in feishu and "告警 #1" in feishu
    assert receivers.received["webhook"][0]["language"] == "zh"
    assert receivers.received["webhook"][0]["title"] == title  # the JSON carries the alert as stored
    assert [str(m["Subject"]) for _, m in smtp.messages] == [
        "OpinionWatch 告警：[WARNING] NovaMart：报道量激增"
    ]


def test_a_channel_shared_by_an_english_and_a_chinese_team_gets_the_alert_in_each_language_once(
    tmp_path: Path,
) -> None:
    with webhook_receivers() as receivers, mail_server() as smtp:
        config = settings(tmp_path, receivers, smtp.port)
        teams = [
            config.teams[0],
            Team(name="pr-zh", watchlists=["novamart"], alert_channels=["webhook", "mail"], language="zh"),
            Team(name="pr-2", watchlists=["novamart"], alert_channels=["webhook"]),  # English again: no third
        ]
        with Services(config.model_copy(update={"teams": teams}), clock=FixedClock(SPIKE)) as services:
            offered = services.alerts.offer(candidate(8, 5), SPIKE, timedelta(hours=12))
            assert offered is not None
            queue_alert(services, offered[0])
            services.outbox.deliver(services.notifiers, services.clock.now, prefix="alert/")
    assert sorted(message["language"] for message in receivers.received["webhook"]) == ["en", "zh"]
    assert len(receivers.received["slack"]) == 1  # named by the English team only
    assert sorted(str(m["Subject"]) for _, m in smtp.messages) == [
        "OpinionWatch alert: [WARNING] NovaMart: coverage spike",
        "OpinionWatch 告警：[WARNING] NovaMart：报道量激增",
    ]


def test_every_alert_wording_reads_back_in_chinese() -> None:
    from digests.labels import Labels

    values = {
        "watchlist": "NovaMart", "kind": "dip", "level": "high", "story": "NovaMart recalls power banks",
        "source": "metro-ledger", "label": "solar, tariff", "count": "8", "hours": "3", "until": "11:00",
        "baseline": "2", "score": "+7.0", "what": "fewer", "n": "4", "since": "2026-11-16 08:00",
        "reasons": "`recall` in the title; negative toward NovaMart (0.91)", "sites": "6", "negative": "5",
        "total": "9", "share": "56%", "before": "10%", "trend": "growing", "day": "2026-11-16",
        "stories": "12",
    }  # fmt: skip
    english = ("coverage", "risk", "source", "emerging", "stories", "usually", "than", "items", "signal")
    for key, template in WORDING.templates.items():
        written = template.format_map(values)
        parts = WORDING.parts(written)  # the most specific template wins where several fit
        assert parts is not None and parts[0] == key and all(values[k] == v for k, v in parts[1].items())
        said = Labels("zh").alert(written)
        assert not any(word in said for word in english), (key, said)
        assert Labels("en").alert(written) == written
    assert "「recall」" in Labels("zh").alert(WORDING["reason_risk_episode"].format_map(values))
    assert (
        Labels("zh").alert("failed 3 runs in a row (last: http_503)")
        == "连续 3 次运行失败（最近一次：http_503）"
    )


def test_quiet_hours_hold_alerts_back_except_critical_ones(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 16, 23, 0, tzinfo=UTC))
    quiet = QuietHours.model_validate({"start": "22:00", "end": "07:00"})
    config = settings(tmp_path, quiet_hours=quiet)
    assert quiet_until(config.teams[0], clock.now()) == datetime(2026, 11, 17, 7, 0, tzinfo=UTC)
    assert quiet_until(config.teams[0], datetime(2026, 11, 17, 12, tzinfo=UTC)) is None
    from digests.mail import RecordingNotifier

    recorder = RecordingNotifier()
    with Services(config, clock=clock, notifiers_override={"email": recorder}) as services:
        for found in (candidate(8, 5), Candidate(**{**candidate(3, 3).__dict__, "key": "k2", "rule": "high-risk",
                                                   "severity": "critical", "kind": "risk"})):  # fmt: skip
            alert, _ = services.alerts.offer(found, clock.now(), timedelta(hours=12))  # type: ignore[misc]
            queue_alert(services, alert)
        services.outbox.deliver(services.notifiers, clock.now)
        assert [e.key.split("/")[1] for e in recorder.delivered] == ["2"]  # the critical one only
        clock.instant = datetime(2026, 11, 17, 7, 1, tzinfo=UTC)
        services.outbox.deliver(services.notifiers, clock.now)
    assert sorted(e.key.split("/")[1] for e in recorder.delivered) == ["1", "2"]


def test_an_alert_goes_to_the_channels_of_the_teams_it_concerns_that_take_its_severity(
    tmp_path: Path,
) -> None:
    desk = AlertChannel(name="desk", type="email", recipients=["desk@example.com"])
    pager = AlertChannel(name="pager", type="email", recipients=["duty@example.com"], min_severity="critical")
    policy = AlertChannel(name="policy", type="email", recipients=["policy@example.com"])
    config = Settings(
        data_dir=tmp_path / "data",
        watchlists=[Watchlist(name=n, entities=[{"name": n}]) for n in ("novamart", "trade")],  # type: ignore[list-item]
        teams=[
            Team(name="pr", watchlists=["novamart"], alert_channels=["desk", "pager"]),
            Team(name="policy", watchlists=["trade"], alert_channels=["policy", "desk"]),
        ],
        alerts=AlertSettings(channels=[desk, pager, policy]),
        topics=TopicSettings(enabled=False),
    )
    now = SPIKE + timedelta(hours=1)
    with Services(config, clock=FixedClock(now)) as services:

        def routed(found: Candidate) -> list[str]:
            alert, _ = services.alerts.offer(found, now, timedelta(hours=12))  # type: ignore[misc]
            return sorted(channel.name for _, channel in routes(services, alert))

        assert routed(candidate(8, 5)) == ["desk"]  # a warning about NovaMart: not the pager, not policy
        assert routed(replace(candidate(8, 5, "critical"), key="k2")) == ["desk", "pager"]
        broken = replace(
            candidate(1, 1), key="k3", kind="source_broken", rule="source-broken", subject="dead"
        )
        assert routed(broken) == ["desk", "policy"]  # about a source: every team, each channel once


def _stories(config: Settings, services: Services) -> None:
    """Two new stories a day at 09:00 and 15:00 for 14 days; on day 13 one wire story reprinted on 40
    sites at 10:00; on day 14 eight new stories at 10:00; a high-risk story among them."""
    rng = random.Random(5)
    mention = Mention(watchlist="novamart", term="NovaMart", field="body", start=0, end=8, via="NovaMart")

    def text() -> str:
        return "NovaMart " + " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(40))

    items = []
    for day in range(14):
        for hour in (9, 15):
            when = DAY0 + timedelta(days=day, hours=hour)
            items.append(make_item(f"d{day}h{hour}", text(), when, source=f"s{day % 5}", title=f"t{day}{hour}",
                                   mentions=(mention,)))  # fmt: skip
    wire = text()
    for n in range(40):
        when = DAY0 + timedelta(days=13, hours=10, minutes=n)
        items.append(
            make_item(f"wire{n}", wire, when, source=f"site{n}", title="Wire story", mentions=(mention,))
        )
    for n in range(8):
        items.append(make_item(f"burst{n}", text(), SPIKE + timedelta(minutes=5 * n), source=f"b{n}",
                               title=f"Burst {n}", mentions=(mention,)))  # fmt: skip
    items[-1].risk = Risk(level="high", points=5, reasons=["`recall` in the title"], watchlist="novamart")
    services.stories.assign(items)
    services.index.upsert([IndexDoc.from_item(item, None) for item in items])
    services.state.record_run(SourceReport(source="s0", listing_ok=True, listed=2, new=2), DAY0)  # began
    broken = SourceReport(source="dead", listing_ok=False, errors={"http_503": 1})
    for n in range(4):
        services.state.record_run(broken, SPIKE - timedelta(hours=4 - n))


def test_rules_find_the_burst_not_the_reprinted_wire_story_and_a_broken_source(tmp_path: Path) -> None:
    config = settings(tmp_path)
    config = config.model_copy(update={"sources": [*config.sources]})
    with Services(config, clock=FixedClock(SPIKE)) as services:
        _stories(config, services)

        def found(now: datetime) -> list[Candidate]:
            world = World(config, services.index, services.stories, now, services.state.timed_runs, None,
                          services.state.first_run())  # fmt: skip
            return evaluate(world)

        wire_day = [c for c in found(DAY0 + timedelta(days=13, hours=11)) if c.kind == "volume"]
        burst = found(SPIKE + timedelta(minutes=50))
    assert wire_day == []  # 40 items, one story: no spike
    (spike,) = [c for c in burst if c.kind == "volume"]
    assert spike.figures["stories"] == 8 and spike.first_seen == SPIKE and "8 new stories" in spike.reason
    (risky,) = [c for c in burst if c.kind == "risk"]
    assert risky.title.endswith("high risk · Burst 7") and "`recall` in the title" in risky.reason
    assert inactive(config) == {"emerging-topic": "needs topics (topics.enabled: true)"}
    with Services(config, clock=FixedClock(SPIKE)) as services:  # collection that began an hour earlier
        world = World(config, services.index, services.stories, SPIKE + timedelta(minutes=50),
                      services.state.timed_runs, None, SPIKE - timedelta(hours=1))  # fmt: skip
        assert [c for c in evaluate(world) if c.kind == "volume"] == []  # no history is not a zero history


def test_risky_stories_a_day_or_less_apart_are_one_alert_that_grows_and_turns_critical(
    tmp_path: Path,
) -> None:
    """Twenty risky stories in a burst are one alert, not twenty: a riskier story updates it (and its
    severity), a risky story after a quiet day is a new episode."""
    config = settings(tmp_path)
    rng = random.Random(7)
    mention = Mention(watchlist="novamart", term="NovaMart", field="body", start=0, end=8, via="NovaMart")
    levels = {0: ("high", 5), 2: ("high", 5), 5: ("critical", 9), 40: ("high", 6)}  # hours after SPIKE
    items = []
    for hour, (level, points) in levels.items():
        words = " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(40))
        item = make_item(f"r{hour}", f"NovaMart {words}", SPIKE + timedelta(hours=hour), source=f"r{hour}",
                         title=f"Risky {hour}", mentions=(mention,))  # fmt: skip
        item.risk = Risk(
            level=level, points=points, reasons=[f"`fine` in story {hour}"], watchlist="novamart"
        )
        items.append(item)
    with Services(config, clock=FixedClock(SPIKE)) as services:
        services.stories.assign(items)
        services.index.upsert([IndexDoc.from_item(item, None) for item in items])

        def offered(hours: float) -> list[tuple[int, bool, Candidate]]:
            now = SPIKE + timedelta(hours=hours)
            world = World(config, services.index, services.stories, now, None, None, DAY0)
            found = [c for c in evaluate(world) if c.kind == "risk"]
            results = [(services.alerts.offer(c, now, timedelta(hours=24)), c) for c in found]
            return [(result[0].id, result[1], c) for result, c in results if result is not None]

        ((first, new, one),) = offered(1)
        ((same, grew, three),) = offered(6)
        assert offered(7) == []  # nothing grew
        ((later, renewed, _),) = offered(41)  # the first episode's stories are all over a day old
        alert = services.alerts.get(first)
    assert new and one.figures["stories"] == 1 and one.title.endswith("high risk · Risky 0")
    assert (same, grew) == (first, False) and three.figures["stories"] == 3 and three.severity == "critical"
    assert three.title.endswith("critical risk · Risky 5") and "3 risky stories since" in three.reason
    assert alert.version == 2 and alert.severity == "critical" and alert.title == three.title
    assert renewed and later != first


def test_a_risk_episode_longer_than_the_lookback_keeps_its_one_alert(tmp_path: Path) -> None:
    """Risky stories every 20 hours for ten days are one episode: when its first story falls out of the
    rule's seven-day lookback, the finding (now keyed by a later story) continues the open alert."""
    config = settings(tmp_path)
    mention = Mention(watchlist="novamart", term="NovaMart", field="body", start=0, end=8, via="NovaMart")
    items = []
    for number in range(12):
        words = " ".join(f"{WORDS[(number * 7 + k) % len(WORDS)]}{number}{k}" for k in range(40))
        item = make_item(f"long{number}", f"NovaMart {words}", SPIKE + timedelta(hours=20 * number),
                         source=f"s{number}", title=f"Long {number}", mentions=(mention,))  # fmt: skip
        item.risk = Risk(level="high", points=5, reasons=["`fine`"], watchlist="novamart")
        items.append(item)
    alert_ids = set()
    with Services(config, clock=FixedClock(SPIKE)) as services:
        services.stories.assign(items)
        services.index.upsert([IndexDoc.from_item(item, None) for item in items])
        for number in range(12):
            now = SPIKE + timedelta(hours=20 * number + 1)
            world = World(config, services.index, services.stories, now, None, None, DAY0)
            for found in (c for c in evaluate(world) if c.kind == "risk"):
                offered = services.alerts.offer(found, now, timedelta(hours=24))
                alert_ids |= {offered[0].id} if offered else set()
        keys = {c.key for c in evaluate(world) if c.kind == "risk"}
        alerts = services.alerts.list()
    assert len(alerts) == 1 and alert_ids == {alerts[0].id}
    assert keys != {alerts[0].key}  # the episode's first story is out of the lookback by now


def test_a_store_written_before_last_seen_opens_and_keeps_its_alerts(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    before = SCHEMA.replace(",\n    last_seen TEXT", "")
    assert before != SCHEMA
    with sqlite3.connect(path) as db:
        db.executescript(before)
        db.execute(
            "INSERT INTO alerts (key, rule, kind, severity, subject, title, reason, evidence, figures, "
            "first_seen, fired, updated, episodes) VALUES (?, 'r', 'risk', 'warning', 'novamart', 't', "
            "'why', '[]', '{}', ?, ?, ?, 'r/novamart')",
            ("r/novamart/a", SPIKE.isoformat(), SPIKE.isoformat(), SPIKE.isoformat()),
        )
    store = AlertStore(path)
    try:
        assert [a.key for a in store.list()] == ["r/novamart/a"]
        later = SPIKE + timedelta(days=3)
        found = Candidate(key="r/novamart/b", rule="r", kind="risk", severity="warning", subject="novamart",
                          title="t", reason="why", first_seen=later, last_seen=later, episodes="r/novamart")  # fmt: skip
        assert store.offer(found, later, timedelta(hours=24)) is not None  # days later: a new episode
        assert store.offer(found, later + timedelta(days=1), timedelta(hours=24)) is None  # the same one
    finally:
        store.close()


def test_the_broken_source_rule_tells_broken_from_quiet(tmp_path: Path) -> None:
    from config.sources import Source

    config = settings(tmp_path).model_copy(update={"sources": [
        Source(name="dead", url="http://dead.example/feed.xml"), Source(name="calm", url="http://calm.example/feed.xml")
    ]})  # fmt: skip
    with Services(config, clock=FixedClock(SPIKE)) as services:
        for n in range(30):
            at = SPIKE - timedelta(hours=30 - n)
            services.state.record_run(
                SourceReport(source="dead", listing_ok=False, errors={"http_503": 1}), at
            )
            new = 10 if n < 29 else 0  # reachable, nothing new: quiet, not broken
            services.state.record_run(SourceReport(source="calm", listing_ok=True, listed=20, new=new), at)
        world = World(config, services.index, services.stories, SPIKE, services.state.timed_runs, None)
        found = [c for c in evaluate(world) if c.kind == "source_broken"]
    assert [(c.subject, c.first_seen) for c in found] == [
        ("dead", SPIKE - timedelta(hours=30))
    ]  # 30 runs back


def test_backtest_replays_history_and_scores_labelled_events(tmp_path: Path) -> None:
    config = settings(tmp_path)
    only_volume = config.alerts.model_copy(update={"rules": [AlertRule(name="volume-spike", kind="volume")]})
    config = config.model_copy(update={"alerts": only_volume})
    with Services(config, clock=FixedClock(SPIKE)) as services:
        _stories(config, services)
        from digests.alert_store import AlertStore

        fired = replay(services, AlertStore(tmp_path / "replay.sqlite"), DAY0 + timedelta(days=12),
                       SPIKE + timedelta(hours=3), timedelta(hours=1))  # fmt: skip
    assert [(a.kind, a.subject, a.fired) for a in fired] == [
        ("volume", "novamart", SPIKE + timedelta(hours=1))
    ]
    event = {"kind": "volume", "subject": "novamart", "from": SPIKE.isoformat(),
             "to": (SPIKE + timedelta(hours=2)).isoformat()}  # fmt: skip
    assert score(fired, [event]) == {
        "alerts": 1,
        "precision": 1.0,
        "recall": 1.0,
        "median_hours_to_detect": 1.0,
    }


def test_list_show_ack_and_resolve_from_the_command_line(tmp_path: Path) -> None:
    config_file = tmp_path / "opinionwatch.yaml"
    config_file.write_text(
        f"data_dir: {tmp_path / 'data'}\nwatchlists:\n  - name: novamart\n    entities: [{{name: NovaMart}}]\n"
        "topics: {enabled: false}\n",
        encoding="utf-8",
    )
    with Services(settings(tmp_path), clock=FixedClock(SPIKE)) as services:
        services.alerts.offer(candidate(8, 5), SPIKE, timedelta(hours=12))
    runner = CliRunner()

    def run(*args: str) -> str:
        done = runner.invoke(app, ["alerts", *args, "--config", str(config_file)])
        assert done.exit_code == 0, done.output
        return done.output

    listed = json.loads(run("list", "--json"))
    assert [a["state"] for a in listed["alerts"]] == ["open"]
    assert listed["inactive_rules"] == {"emerging-topic": "needs topics (topics.enabled: true)"}
    assert "NovaMart recalls power banks http://a.example/1" in run("show", "1")
    assert "acknowledged by ana" in run("ack", "1", "--by", "ana")
    assert "resolved by ben" in run("resolve", "1", "--by", "ben")
    shown = json.loads(run("show", "1", "--json"))
    assert (shown["acknowledged_by"], shown["resolved_by"], shown["state"]) == ("ana", "ben", "resolved")
    again = runner.invoke(app, ["alerts", "ack", "1", "--config", str(config_file)])
    assert again.exit_code == 1 and "resolved; it cannot become acknowledged" in " ".join(
        again.output.split()
    )


@pytest.mark.parametrize("kind", ["slack", "feishu", "dingtalk", "wecom", "webhook"])
def test_a_channel_without_its_address_is_a_config_error(kind: str) -> None:
    with pytest.raises(ValueError, match="needs `webhook_url`"):
        AlertChannel(name="x", type=kind)  # type: ignore[arg-type]


def test_a_team_or_rule_naming_what_the_config_lacks_is_an_error_that_says_where(tmp_path: Path) -> None:
    from config.loader import ConfigError, load_settings

    config = tmp_path / "opinionwatch.yaml"
    base = "watchlists:\n  - name: novamart\n    query: NovaMart\n"
    cases = {
        "teams:\n  - name: pr\n    watchlists: [novamart]\n    alert_channels: [pager]\n":
            "team 'pr' names unknown alert channel 'pager'",
        "alerts:\n  rules:\n    - {name: spike, kind: volume, watchlists: [nova]}\n":
            "alert rule 'spike' names unknown watchlist 'nova'",
        "alerts:\n  channels:\n    - {name: chat, type: slack, webhook_url: https://hooks.example/T0}\n":
            "secrets come only from the environment",
    }  # fmt: skip
    for text, said in cases.items():
        config.write_text(base + text, encoding="utf-8")
        with pytest.raises(ConfigError, match=said):
            load_settings(config)
