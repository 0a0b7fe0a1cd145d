from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from config.settings import MailSettings, Settings, Team, Watchlist
from digests.digest import build_digest, day_window, default_day
from digests.mail import MailError, SmtpNotifier
from digests.render import render_html, render_text, subject
from index.base import IndexDoc
from index.embedded import EmbeddedIndex
from nlp.records import Item, Mention
from nlp.stories import StoryStore
from tests.conftest import make_item

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def items() -> list[Item]:
    mention = Mention(watchlist="novamart", term="NovaMart", field="body", start=0, end=8, via="NovaMart")

    def one(key: str, source: str, title: str, text: str, hour: int) -> Item:
        when = datetime(2026, 11, 22, hour, tzinfo=UTC)
        return make_item(key, text, when, source=source, title=title, mentions=(mention,))

    body = "NovaMart recalls power banks " * 10
    return [
        one("a", "harbor", "NovaMart recalls power banks", body, 3),
        one("b", "metro", "NovaMart recalls power banks", body, 5),
        one("c", "wire", "<script>alert('x')</script> NovaMart & friends", "A minor NovaMart note.", 6),
    ]


@pytest.fixture
def stores(tmp_path: Path) -> tuple[EmbeddedIndex, StoryStore]:
    index = EmbeddedIndex(tmp_path / "index")
    stories = StoryStore(tmp_path / "stories.sqlite", Settings().stories)
    batch = items()
    stories.assign(batch)
    index.upsert([IndexDoc.from_item(item, None) for item in batch])
    return index, stories


def settings() -> Settings:
    return Settings(
        watchlists=[
            Watchlist(name="novamart", entities=[{"name": "NovaMart"}]),  # type: ignore[list-item]
            Watchlist(name="quiet", query="nothing"),
        ],
        teams=[
            Team(name="pr", watchlists=["novamart", "quiet"], recipients=["pr@example.com"], timezone="UTC")
        ],
        mail=MailSettings(host="127.0.0.1", port=1),
    )


def test_digest_ranks_reprinted_story_first_and_escapes_html(
    stores: tuple[EmbeddedIndex, StoryStore],
) -> None:
    config = settings()
    built = build_digest(config, config.teams[0], date(2026, 11, 22), *stores, now=NOW)
    top = built.sections[0].stories
    assert [entry.story.member_count for entry in top] == [2, 1]
    assert top[0].title == "NovaMart recalls power banks" and top[0].source == "harbor"
    html = render_html(built)
    assert (
        "<script>alert" not in html
        and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; NovaMart &amp; friends" in html
    )
    assert html.index("NovaMart recalls power banks") < html.index("&lt;script&gt;")
    assert "No coverage on this day." in html and "2 items · 2 sites" in html
    text = render_text(built)
    assert "1. NovaMart recalls power banks  [2 items, 2 sites]" in text
    assert subject(built) == "OpinionWatch pr digest, 2026-11-22: 3 items"


def test_a_story_told_in_two_languages_is_shown_once_in_the_readers_language(tmp_path: Path) -> None:
    """One event joined across languages: the team reading Chinese sees the Chinese version with the
    English reach beside it, the team reading English the reverse; each lists the story once."""
    import numpy as np

    def mention(term: str) -> tuple[Mention, ...]:
        return (
            Mention(watchlist="novamart", term=term, field="body", start=0, end=len(term), via="NovaMart"),
        )

    def at(hour: int) -> datetime:
        return datetime(2026, 11, 22, hour, tzinfo=UTC)

    english = "NovaMart said on Tuesday it would recall 120,000 power banks sold under the Voltly brand."
    chinese = "诺瓦商城周二宣布召回12万台Voltly品牌充电宝。"
    batch = [
        make_item("en1", english, at(3), source="harbor", title="NovaMart recalls power banks", mentions=mention("NovaMart")),
        make_item("en2", english, at(4), source="metro", title="NovaMart recalls power banks", mentions=mention("NovaMart")),
        make_item("zh1", chinese, at(5), source="huaxia", title="诺瓦商城召回充电宝", lang="zh", mentions=mention("诺瓦商城")),
    ]  # fmt: skip
    stories = StoryStore(tmp_path / "stories.sqlite", Settings().stories, 0.92, 0.8)
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.85, 0.5268]], dtype=np.float32)
    stories.assign(batch, vectors)
    assert batch[2].story_level == "crosslingual"
    index = EmbeddedIndex(tmp_path / "index")
    index.upsert([IndexDoc.from_item(item, None) for item in batch])
    config = settings()
    readers = {
        language: config.teams[0].model_copy(update={"language": language}) for language in ("en", "zh")
    }
    shown = {}
    for language, team in readers.items():
        built = build_digest(config, team, date(2026, 11, 22), index, stories, now=NOW)
        (entry,) = built.sections[0].stories
        shown[language] = (entry.title, [other.describe() for other in entry.also], render_text(built))
    assert shown["en"][:2] == ("NovaMart recalls power banks", ["also in Chinese: 1 item · 1 site"])
    assert shown["zh"][:2] == ("诺瓦商城召回充电宝", ["also in English: 2 items · 2 sites"])
    assert "also in English: 2 items · 2 sites" in shown["zh"][2]


def test_day_window_follows_the_team_timezone() -> None:
    start, end = day_window(date(2026, 11, 22), "Asia/Shanghai")
    assert start == datetime(2026, 11, 21, 16, 0, tzinfo=UTC) and end == datetime(
        2026, 11, 22, 16, 0, tzinfo=UTC
    )
    assert default_day(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "Asia/Shanghai") == date(2026, 11, 22)
    assert default_day(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "UTC") == date(2026, 11, 21)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_digest_is_delivered_by_smtp(
    stores: tuple[EmbeddedIndex, StoryStore], smtp_server: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp_server
    config = settings()
    built = build_digest(config, config.teams[0], date(2026, 11, 22), *stores, now=NOW)
    notifier = SmtpNotifier(MailSettings(host="127.0.0.1", port=port, sender="ow@example.com"))
    notifier.send(["pr@example.com"], subject(built), render_text(built), render_html(built))
    deadline = time.monotonic() + 5
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    recipients, message = inbox.messages[0]
    assert recipients == ["pr@example.com"] and message["Subject"] == subject(built)
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert (
        "NovaMart recalls power banks" in parts["text/html"] and "[2 items, 2 sites]" in parts["text/plain"]
    )


def test_mail_failure_is_clear_and_hides_the_password() -> None:
    notifier = SmtpNotifier(
        MailSettings(host="127.0.0.1", port=_free_port(), password="hunter2", username="u")
    )  # type: ignore[arg-type]
    with pytest.raises(MailError) as error:
        notifier.send(["a@example.com"], "s", "t", "<p>h</p>")
    assert "127.0.0.1" in str(error.value) and "hunter2" not in str(error.value)
    with pytest.raises(MailError, match="no recipients"):
        notifier.send([], "s", "t", "h")
