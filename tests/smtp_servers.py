"""A real SMTP server on loopback (aiosmtpd) that can misbehave on demand: answer 4xx to DATA, drop the
connection during DATA, refuse a recipient, or SIGKILL a client process after taking its message."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.loopback import free_port


class MailServer:
    def __init__(self) -> None:
        self.messages: list[tuple[str, EmailMessage]] = []
        """(recipient, message) per message accepted."""
        self.busy = 0
        """Answer ``451`` to the next N messages."""
        self.drop = 0
        """Close the connection during the next N messages' DATA."""
        self.refuse: set[str] = set()
        self.kill_pid: int | None = None
        """SIGKILL this process after accepting the next message, before answering it."""
        self.port = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.drop:
            self.drop -= 1
            server.transport.close()
            return "421 closing"
        if self.busy:
            self.busy -= 1
            return "451 4.3.0 busy, try again later"
        for recipient in envelope.rcpt_tos:
            self.messages.append(
                (recipient, message_from_bytes(envelope.content, _class=EmailMessage, policy=policy.default))
            )
        if self.kill_pid is not None:
            pid, self.kill_pid = self.kill_pid, None
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)  # the client dies before it can read the answer
        return "250 OK"

    def to(self, recipient: str) -> list[EmailMessage]:
        return [message for address, message in self.messages if address == recipient]


@contextmanager
def mail_server() -> Iterator[MailServer]:
    server = MailServer()
    server.port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
