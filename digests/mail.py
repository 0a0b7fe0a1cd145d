"""E-mail: build one message per recipient with a deterministic Message-ID, and deliver it over SMTP
(plain, STARTTLS or SSL), telling transient failures (4xx, a dropped connection, a timeout) from permanent
ones (5xx, a refused recipient). ``SmtpNotifier`` is the real ``Notifier``; ``RecordingNotifier`` its test
double."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from config.settings import MailSettings
from digests.outbox import DeliveryError, Envelope

CHANNEL = "email"


class MailError(Exception):
    """A mail setting or message that cannot work; the message says what to change."""


def message_id(key: str, sender: str) -> str:
    """The same Message-ID for the same outbox key, so a server or client can tell a repeat."""
    domain = sender.rsplit("@", 1)[-1] or "opinionwatch.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def mail_envelope(
    key: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    settings: MailSettings,
    now: datetime,
    images: dict[str, bytes] | None = None,
) -> Envelope:
    """One multipart/alternative message (text, then HTML with its images inline by Content-ID) to one
    recipient. ``images`` maps each Content-ID the HTML cites (``cid:NAME``) to PNG bytes."""
    if "@" not in recipient:
        raise MailError(f"recipient {recipient!r} is not an e-mail address")
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(key, settings.sender)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    for name, png in (images or {}).items():
        html_part.add_related(png, "image", "png", cid=f"<{name}>", filename=f"{name}.png")
    return Envelope(key, CHANNEL, recipient, message.as_bytes(policy=SMTP))


class SmtpNotifier:
    """Delivers e-mail envelopes; one connection per envelope (digests go to a handful of people)."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def deliver(self, envelope: Envelope, commit: Callable[[], None]) -> None:
        to, sender = envelope.recipient, self.settings.sender
        try:
            with self._connect() as smtp:
                _reply(smtp.mail(sender), f"the server refused the sender {sender}")
                _reply(smtp.rcpt(to), f"the server refused the recipient {to}")
                commit()
                _reply(smtp.data(envelope.payload), f"the server refused the message to {to}")
        except DeliveryError as error:
            raise DeliveryError(f"mail through {self.where}: {error}", error.transient) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"mail through {self.where}: login refused ({exc.smtp_code}); check mail.username and the "
                "password's environment variable",
                transient=False,
            ) from None
        except smtplib.SMTPResponseException as exc:
            said = f"mail through {self.where}: {exc.smtp_code} {_text(exc.smtp_error)}"
            raise DeliveryError(said, transient=400 <= exc.smtp_code < 500) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, dropped, timed out, TLS
            said = f"mail through {self.where}: {type(exc).__name__}: {exc}"
            raise DeliveryError(said, transient=True) from None

    def _connect(self) -> smtplib.SMTP:
        mail = self.settings
        if mail.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                mail.host, mail.port, timeout=mail.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout_s)
        try:
            smtp.ehlo_or_helo_if_needed()
            if mail.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if mail.username and mail.password:
                smtp.login(mail.username, mail.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp


class RecordingNotifier:
    """Test double: keeps what it was given; ``fail`` maps a recipient to the error to raise for it."""

    def __init__(self) -> None:
        self.delivered: list[Envelope] = []
        self.fail: dict[str, DeliveryError] = {}

    def deliver(self, envelope: Envelope, commit: Callable[[], None]) -> None:
        if envelope.recipient in self.fail:
            raise self.fail[envelope.recipient]
        commit()
        self.delivered.append(envelope)


def _reply(reply: tuple[int, bytes], what: str) -> None:
    code, text = reply
    if code >= 400:
        raise DeliveryError(f"{what}: {code} {_text(text)}", transient=code < 500)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
