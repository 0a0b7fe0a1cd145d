"""Send digests by SMTP. ``Notifier`` is the extension point; ``SmtpNotifier`` the real one."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Protocol

from config.settings import MailSettings


class Notifier(Protocol):
    def send(self, recipients: list[str], subject: str, text: str, html: str) -> None: ...


class MailError(Exception):
    """The message could not be delivered; the message says to where and why (never the password)."""


class SmtpNotifier:
    def __init__(self, settings: MailSettings, timeout_s: float = 30.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s

    def send(self, recipients: list[str], subject: str, text: str, html: str) -> None:
        if not recipients:
            raise MailError("no recipients: add `recipients` to the team in the config")
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.timeout_s) as smtp:
                if self.settings.starttls:
                    smtp.starttls()
                if self.settings.username and self.settings.password:
                    smtp.login(self.settings.username, self.settings.password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"sending the digest through {where} failed: {exc}") from None
