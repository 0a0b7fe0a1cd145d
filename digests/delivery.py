"""Queue a team's digest in the outbox, one message per recipient, and deliver what is due."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from config.settings import Settings, Team
from digests.digest import Digest
from digests.mail import mail_envelope
from digests.outbox import Delivered, Notifier, Outbox
from digests.render import render_mail


def digest_prefix(team: Team, day: date) -> str:
    """The outbox keys of one team's digest of one day: ``digest/<team>/<day>/<recipient>``."""
    return f"digest/{team.name}/{day.isoformat()}/"


def queue_digest(outbox: Outbox, digest: Digest, settings: Settings, now: datetime) -> int:
    """Put the digest in the outbox for each recipient not already there; how many were new. A digest that
    is already queued or sent for a recipient is never queued again, whatever changed since."""
    subject, text, html, images = render_mail(digest)
    prefix = digest_prefix(digest.team, digest.day)
    envelopes = [
        mail_envelope(prefix + recipient, recipient, subject, text, html, settings.mail, now, images)
        for recipient in digest.team.recipients
    ]
    return outbox.enqueue(envelopes, now)


def deliver_digest(
    outbox: Outbox, notifiers: Mapping[str, Notifier], team: Team, day: date, now: Callable[[], datetime]
) -> Delivered:
    return outbox.deliver(notifiers, now, prefix=digest_prefix(team, day))
