"""The durable outbox and SMTP delivery: retries with back-off, permanent failures, refused recipients,
a dropped connection, two processes, and a process killed between the server's acceptance and our record."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import MailSettings
from digests.mail import RecordingNotifier, SmtpNotifier, mail_envelope, message_id
from digests.outbox import DeliveryError, Envelope, Outbox, RetryPolicy
from opinionwatch.clock import FixedClock
from tests.smtp_servers import mail_server

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def envelope(recipient: str, settings: MailSettings, key: str = "digest/pr/2026-03-01/") -> Envelope:
    return mail_envelope(
        key + recipient, recipient, "Digest 2026-03-01", "text part", '<p><img src="cid:chart-a"></p>',
        settings, T0, {"chart-a": PNG},
    )  # fmt: skip


def test_transient_failures_back_off_then_give_up_and_permanent_ones_fail_at_once(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    outbox = Outbox(tmp_path / "outbox.sqlite", RetryPolicy(first_s=60, most_s=300, attempts=4))
    notifier = RecordingNotifier()
    notifier.fail = {
        "busy@example.com": DeliveryError("451 busy", transient=True),
        "gone@example.com": DeliveryError("550 no such mailbox", transient=False),
    }
    mail = MailSettings(sender="ow@example.com")
    recipients = ["ok@example.com", "busy@example.com", "gone@example.com"]
    assert outbox.enqueue([envelope(r, mail) for r in recipients], T0) == 3
    assert outbox.enqueue([envelope(r, mail) for r in recipients], T0) == 0  # the same keys: nothing new
    first = outbox.deliver({"email": notifier}, clock.now)
    assert [e.recipient for e in notifier.delivered] == ["ok@example.com"]
    assert first.retrying == ("digest/pr/2026-03-01/busy@example.com",)
    assert first.failed == (("digest/pr/2026-03-01/gone@example.com", "550 no such mailbox"),)
    tries = []
    for _ in range(6):  # waits of 60, 120, 240, then 300 (the cap): not due before, due after
        clock.instant += timedelta(seconds=59)
        assert outbox.deliver({"email": notifier}, clock.now).retrying == ()
        clock.instant += timedelta(seconds=301 - 59)
        tries.append(outbox.deliver({"email": notifier}, clock.now))
    states = outbox.states()
    assert [bool(t.retrying) for t in tries] == [True, True, False, False, False, False]
    assert tries[2].failed and states["digest/pr/2026-03-01/busy@example.com"] == "failed"  # 4 tries in all
    assert states["digest/pr/2026-03-01/ok@example.com"] == "sent"
    assert len(notifier.delivered) == 1  # nothing was sent twice
    problems = {p["key"].rsplit("/", 1)[1]: p["error"] for p in outbox.problems()}
    assert problems == {"busy@example.com": "451 busy", "gone@example.com": "550 no such mailbox"}


def test_two_processes_never_send_the_same_message(tmp_path: Path) -> None:
    """While one outbox delivers a message, another on the same file finds it taken and skips it."""
    clock = FixedClock(T0)
    first, second = Outbox(tmp_path / "o.sqlite"), Outbox(tmp_path / "o.sqlite")
    mail = MailSettings(sender="ow@example.com")
    first.enqueue([envelope("a@example.com", mail), envelope("b@example.com", mail)], T0)
    inner = RecordingNotifier()
    nested: list[tuple[str, ...]] = []

    class Racing(RecordingNotifier):
        def deliver(self, envelope: Envelope, commit) -> None:
            nested.append(second.deliver({"email": inner}, clock.now).sent)  # the other process, meanwhile
            super().deliver(envelope, commit)

    outer = Racing()
    sent = first.deliver({"email": outer}, clock.now).sent
    assert sent == ("digest/pr/2026-03-01/a@example.com",)  # b went to the other process first
    assert nested == [("digest/pr/2026-03-01/b@example.com",)]
    assert [e.recipient for e in outer.delivered + inner.delivered] == ["a@example.com", "b@example.com"]


def test_smtp_busy_dropped_and_refused_recipients_each_get_what_they_should(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    with mail_server() as server:
        mail = MailSettings(host="127.0.0.1", port=server.port, sender="ow@example.com", timeout_s=5)
        outbox = Outbox(tmp_path / "outbox.sqlite", RetryPolicy(first_s=60, most_s=600, attempts=5))
        notifiers = {"email": SmtpNotifier(mail)}
        server.busy, server.refuse = 1, {"nobody@example.com"}
        recipients = ["lead@example.com", "nobody@example.com", "analyst@example.com"]
        outbox.enqueue([envelope(r, mail) for r in recipients], T0)
        first = outbox.deliver(notifiers, clock.now)
        assert first.sent == ("digest/pr/2026-03-01/analyst@example.com",)
        assert first.retrying == ("digest/pr/2026-03-01/lead@example.com",)  # 451 to its DATA
        ((key, error),) = first.failed
        assert key.endswith("nobody@example.com") and "550" in error and "refused the recipient" in error
        server.drop = 1  # the retry loses its connection during DATA: not accepted, so tried again
        clock.instant += timedelta(seconds=61)
        assert outbox.deliver(notifiers, clock.now).retrying == ("digest/pr/2026-03-01/lead@example.com",)
        clock.instant += timedelta(seconds=121)
        assert outbox.deliver(notifiers, clock.now).sent == ("digest/pr/2026-03-01/lead@example.com",)
        clock.instant += timedelta(days=1)
        assert outbox.deliver(notifiers, clock.now) == type(first)()  # nothing is due any more
    assert [len(server.to(r)) for r in recipients] == [1, 0, 1]
    message = server.to("lead@example.com")[0]
    assert message["Message-ID"] == message_id("digest/pr/2026-03-01/lead@example.com", "ow@example.com")
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    image = [part for part in message.walk() if part.get_content_type() == "image/png"][0]
    assert image["Content-ID"] == "<chart-a>" and image.get_payload(decode=True) == PNG


def test_unreachable_server_and_refused_login_are_clear_and_hide_the_password(tmp_path: Path) -> None:
    from tests.loopback import free_port

    mail = MailSettings(host="127.0.0.1", port=free_port(), username="u", password="hunter2")  # type: ignore[arg-type]
    notifier = SmtpNotifier(mail)
    with pytest.raises(DeliveryError) as error:
        notifier.deliver(envelope("a@example.com", mail), lambda: None)
    assert error.value.transient and "127.0.0.1" in str(error.value) and "hunter2" not in str(error.value)


def _digest_config(folder: Path, port: int) -> Path:
    config = folder / "opinionwatch.yaml"
    config.write_text(
        f"""data_dir: {folder / "data"}
watchlists:
  - name: novamart
    entities: [{{name: NovaMart}}]
teams:
  - name: pr
    watchlists: [novamart]
    recipients: [first@example.com, second@example.com]
mail: {{host: 127.0.0.1, port: {port}, sender: ow@example.com, timeout_s: 0.2}}
""",
        encoding="utf-8",
    )
    return config


def test_a_process_killed_between_send_and_record_never_sends_twice(tmp_path: Path) -> None:
    """The server takes the first recipient's message, then kills the sending process before answering.
    Run again: the second recipient gets theirs, the first is not sent a second copy, and status says the
    first is uncertain (it was in fact delivered)."""
    command = [sys.executable, "-m", "opinionwatch.cli", "digest", "--send", "--date", "2026-03-01"]
    with mail_server() as server:
        config = _digest_config(tmp_path, server.port)
        sending = subprocess.Popen([*command, "--config", str(config)], stdout=subprocess.PIPE, text=True)
        server.kill_pid = sending.pid
        try:
            sending.communicate(timeout=120)
        finally:
            sending.kill()
        assert sending.returncode == -9 and len(server.messages) == 1
        assert _states(tmp_path / "data" / "outbox.sqlite") == {"first@example.com": "sending",
                                                                 "second@example.com": "pending"}  # fmt: skip
        time.sleep(2.1)  # ten timeouts: the row left mid-send is stale
        again = subprocess.run(
            [*command, "--config", str(config)], capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert "first@example.com: may have been sent before a crash" in again.stdout
        assert "second@example.com: sent" in again.stdout
        assert [address for address, _ in server.messages] == ["first@example.com", "second@example.com"]
    status = subprocess.run(
        [sys.executable, "-m", "opinionwatch.cli", "status", "--json", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    outbox = json.loads(status.stdout)["outbox"]
    assert outbox["depth"]["sent"] == 1 and outbox["depth"]["uncertain"] == 1
    assert outbox["problems"][0]["key"] == "digest/pr/2026-03-01/first@example.com"


def _states(path: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {key.rsplit("/", 1)[1]: state for key, state in db.execute("SELECT key, state FROM outbox")}
