"""``opinionwatch alerts …``: list, show, acknowledge and resolve alerts; replay history through the rules."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from config.alert_settings import AlertRule
from crawlers.records import SourceReport
from digests.alert_rules import World, evaluate, inactive
from digests.alert_store import Alert, AlertStore
from opinionwatch.commandline import ConfigOption, command_settings, failures
from opinionwatch.digesting import topic_state
from opinionwatch.timeparse import parse_day
from opinionwatch.wiring import Services

alerts_app = typer.Typer(
    help="Alerts: list, show, acknowledge, resolve; replay stored history through the rules.",
    invoke_without_command=False,
    rich_markup_mode=None,
)
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]
ByOption = Annotated[str, typer.Option("--by", help="Who (default: $USER).")]


@alerts_app.command("list")
def list_alerts(
    state: Annotated[str | None, typer.Option(help="open, acknowledged or resolved (default: all).")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Alerts, newest first, with the rules that are inactive and why."""
    with failures():
        settings = command_settings(config)
        with Services(settings) as services:
            alerts = services.alerts.list(state)
        off = inactive(settings)
        if as_json:
            print(
                json.dumps(
                    {"alerts": [a.as_json() for a in alerts], "inactive_rules": off}, ensure_ascii=False
                )
            )
            return
        table = Table(title="Alerts")
        for column in ("id", "severity", "state", "fired (UTC)", "title", "reason"):
            table.add_column(column, overflow="fold")
        for alert in alerts:
            version = f" (v{alert.version})" if alert.version > 1 else ""
            table.add_row(str(alert.id), alert.severity, alert.state, f"{alert.fired:%Y-%m-%d %H:%M}",
                          alert.title + version, alert.reason)  # fmt: skip
        console.print(table)
        for rule, why in off.items():
            console.print(f"rule {rule} is inactive: {why}")


@alerts_app.command("show")
def show(alert_id: int, as_json: JsonOption = False, config: ConfigOption = None) -> None:
    """One alert: its reason, evidence with links, figures and lifecycle."""
    with failures():
        with Services(command_settings(config)) as services:
            alert = services.alerts.get(alert_id)
        if as_json:
            print(json.dumps(alert.as_json(), ensure_ascii=False))
            return
        _print(alert)


@alerts_app.command("ack")
def acknowledge(alert_id: int, by: ByOption = "", config: ConfigOption = None) -> None:
    """Acknowledge an open alert."""
    with failures():
        with Services(command_settings(config)) as services:
            alert = services.alerts.acknowledge(alert_id, by or _user(), services.clock.now())
        console.print(f"alert {alert.id} acknowledged by {alert.acknowledged_by}")


@alerts_app.command("resolve")
def resolve(alert_id: int, by: ByOption = "", config: ConfigOption = None) -> None:
    """Resolve an open or acknowledged alert."""
    with failures():
        with Services(command_settings(config)) as services:
            alert = services.alerts.resolve(alert_id, by or _user(), services.clock.now())
        console.print(f"alert {alert.id} resolved by {alert.resolved_by}")


@alerts_app.command("backtest")
def backtest(
    start: Annotated[str, typer.Option("--from", help="First UTC day replayed.")],
    end: Annotated[str, typer.Option("--to", help="Last UTC day replayed.")],
    rules: Annotated[
        Path | None, typer.Option(help="YAML list of rules to try instead of the config's.")
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            help="JSON list of labelled events {kind, subject, from, to} to score the alerts against."
        ),
    ] = None,
    every: Annotated[int, typer.Option(help="Minutes between checks in the replay.")] = 60,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Replay stored history through the rules on an injected clock (nothing is sent) and print each alert;
    with --events, precision, recall and the time to detect."""
    with failures():
        settings = command_settings(config)
        if rules is not None:
            tried = [AlertRule.model_validate(r) for r in yaml.safe_load(rules.read_text("utf-8"))]
            settings = settings.model_copy(
                update={"alerts": settings.alerts.model_copy(update={"rules": tried})}
            )
        first = datetime.combine(parse_day(start), time(0), UTC)
        last = datetime.combine(parse_day(end), time(0), UTC) + timedelta(days=1)
        with Services(settings) as services, tempfile.TemporaryDirectory() as folder:
            fired = replay(
                services, AlertStore(Path(folder) / "alerts.sqlite"), first, last, timedelta(minutes=every)
            )
        report: dict[str, Any] = {"alerts": [a.as_json() for a in fired]}
        if events is not None:
            report["score"] = score(fired, json.loads(events.read_text("utf-8")))
        if as_json:
            print(json.dumps(report, ensure_ascii=False))
            return
        for alert in fired:
            when = f"{alert.fired:%Y-%m-%d %H:%M}"
            console.print(f"{when} [{alert.severity}] {alert.title} (v{alert.version}): {alert.reason}")
        if "score" in report:
            console.print_json(json.dumps(report["score"]))


def replay(
    services: Services, store: AlertStore, first: datetime, last: datetime, step: timedelta
) -> list[Alert]:
    """Check the rules at every ``step`` from ``first`` to ``last`` as if it were then: only items
    published and source runs started by then count."""
    settings = services.settings
    cooldowns = {rule.name: timedelta(hours=rule.cooldown_hours) for rule in settings.alerts.rules}
    topics = topic_state(services)
    began = services.state.first_run()
    history = {source.name: services.state.timed_runs(source.name, 1_000_000) for source in settings.sources}
    now = first
    while now < last:
        runs_until = partial(_runs_until, history, now)
        world = World(settings, services.index, services.stories, now, runs_until, topics, began)
        for found in evaluate(world):
            store.offer(found, now, cooldowns[found.rule])
        now += step
    return sorted(store.list(limit=100_000), key=lambda a: (a.fired, a.id))


def _runs_until(
    history: dict[str, list[tuple[datetime, SourceReport]]], until: datetime, source: str, limit: int
) -> list[tuple[datetime, SourceReport]]:
    """The source's latest ``limit`` runs started by ``until`` (the replay's now), newest first."""
    return [(at, report) for at, report in history.get(source, []) if at <= until][:limit]


def score(alerts: list[Alert], events: list[dict[str, str]]) -> dict[str, Any]:
    """An alert is right when it has an event's kind and subject and fired inside its span; an event is
    found when an alert is right about it; time to detect runs from the event's start to that alert."""

    def matches(alert: Alert, event: dict[str, str]) -> bool:
        begin, finish = datetime.fromisoformat(event["from"]), datetime.fromisoformat(event["to"])
        return (
            alert.kind == event["kind"]
            and alert.subject == event["subject"]
            and begin <= alert.fired <= finish
        )

    right = [a for a in alerts if any(matches(a, e) for e in events)]
    delays = []
    for event in events:
        hits = [a.fired for a in alerts if matches(a, event)]
        if hits:
            delays.append((min(hits) - datetime.fromisoformat(event["from"])).total_seconds() / 3600)
    return {
        "alerts": len(alerts),
        "precision": round(len(right) / len(alerts), 3) if alerts else None,
        "recall": round(len(delays) / len(events), 3) if events else None,
        "median_hours_to_detect": sorted(delays)[len(delays) // 2] if delays else None,
    }


def _print(alert: Alert) -> None:
    console.print(
        f"[bold]#{alert.id} {alert.title}[/bold] ({alert.severity}, {alert.state}, version {alert.version})"
    )
    console.print(alert.reason)
    console.print(f"first seen {alert.first_seen:%Y-%m-%d %H:%M %Z}, fired {alert.fired:%Y-%m-%d %H:%M %Z}")
    for item in alert.evidence:
        console.print(f"  - {item.title} {item.url} ({item.items} items, {item.sites} sites)")
    if alert.figures:
        console.print("figures: " + ", ".join(f"{name} {value}" for name, value in alert.figures.items()))
    if alert.acknowledged_by:
        console.print(f"acknowledged by {alert.acknowledged_by} at {alert.acknowledged_at:%Y-%m-%d %H:%M}")
    if alert.resolved_by:
        console.print(f"resolved by {alert.resolved_by} at {alert.resolved_at:%Y-%m-%d %H:%M}")


def _user() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
