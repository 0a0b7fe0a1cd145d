"""Alerts from the installation's parts: check the rules, record episodes, route each new alert and each
update to the channels of the teams it concerns (waiting out their quiet hours unless critical), and
deliver through the outbox: once per alert, version and channel."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from config.alert_settings import SEVERITIES, AlertChannel
from config.settings import Team
from digests.alert_rules import World, evaluate
from digests.alert_store import Alert
from digests.channels import alert_text
from digests.labels import Labels
from digests.mail import mail_envelope
from digests.outbox import Envelope
from opinionwatch.digesting import topic_state
from opinionwatch.runs import Counts
from opinionwatch.wiring import Services

log = logging.getLogger(__name__)


def check_alerts(services: Services) -> Counts:
    """One check: what the rules find now, as new alerts and updates, queued and delivered."""
    settings, now = services.settings, services.clock.now()
    world = World(settings, services.index, services.stories, now, services.state.timed_runs,
                  topic_state(services), services.state.first_run())  # fmt: skip
    cooldowns = {rule.name: timedelta(hours=rule.cooldown_hours) for rule in settings.alerts.rules}
    new = updated = queued = 0
    for found in evaluate(world):
        offered = services.alerts.offer(found, now, cooldowns[found.rule])
        if offered is None:
            continue
        alert, is_new = offered
        new, updated = new + is_new, updated + (not is_new)
        queued += queue_alert(services, alert)
        log.warning("alert", extra={"id": alert.id, "rule": alert.rule, "title": alert.title, "new": is_new})
    delivered = services.outbox.deliver(services.notifiers, services.clock.now, prefix="alert/")
    services.metrics.outbox_depth(services.outbox.depth())
    return {"alerts_new": new, "alerts_updated": updated, "alert_messages": queued,
            "alert_sent": len(delivered.sent)}  # fmt: skip


def queue_alert(services: Services, alert: Alert) -> int:
    """One envelope per channel (and e-mail recipient) of each team the alert concerns."""
    now = services.clock.now()
    queued = 0
    for team, channel in routes(services, alert):
        not_before = None if alert.severity == "critical" else quiet_until(team, now)
        envelopes = _envelopes(services, alert, channel, team.language, now)
        queued += services.outbox.enqueue(envelopes, now, not_before)
    return queued


def routes(services: Services, alert: Alert) -> list[tuple[Team, AlertChannel]]:
    """The channels of teams whose watchlists the alert is about (every team for a source or a topic) that
    take its severity, each once per language of those teams (the first such team's quiet hours)."""
    channels = {c.name: c for c in services.settings.alerts.channels}
    chosen: dict[tuple[str, str], tuple[Team, AlertChannel]] = {}
    for team in services.settings.teams:
        if alert.kind in ("volume", "risk", "negative_turn") and alert.subject not in team.watchlists:
            continue
        for name in team.alert_channels:
            channel = channels[name]
            if SEVERITIES.index(alert.severity) >= SEVERITIES.index(channel.min_severity):
                chosen.setdefault((name, team.language), (team, channel))
    return list(chosen.values())


def quiet_until(team: Team, now: datetime) -> datetime | None:
    """The end of the team's quiet hours when ``now`` is inside them."""
    quiet = team.quiet_hours
    if quiet is None:
        return None
    local = now.astimezone(ZoneInfo(team.timezone))
    start = local.replace(hour=quiet.start.hour, minute=quiet.start.minute, second=0, microsecond=0)
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if quiet.start <= quiet.end:
        return end if start <= local < end else None
    if local >= start:
        return end + timedelta(days=1)
    return end if local < end else None


def _envelopes(
    services: Services, alert: Alert, channel: AlertChannel, language: str, now: datetime
) -> list[Envelope]:
    """The alert for one channel, in the language of the team that routed it there."""
    key = f"alert/{alert.id}/v{alert.version}/{channel.name}/{language}"
    data = {**alert.as_json(), "language": language}
    if channel.type != "email":
        return [Envelope(key, channel.name, channel.name, json.dumps(data, ensure_ascii=False).encode())]
    title, body = alert_text(data)
    subject = Labels(language)("alert_subject", title=title)
    return [
        mail_envelope(f"{key}/{recipient}", recipient, subject, body,
                      f"<pre>{escape(body)}</pre>", services.settings.mail, now)
        for recipient in channel.recipients
    ]  # fmt: skip
