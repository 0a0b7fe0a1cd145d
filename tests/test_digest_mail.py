from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from config.settings import MailSettings, Settings, Team, Watchlist
from digests.digest import Reason, build_digest, day_window, default_day
from digests.labels import Labels
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
    zh_text = shown["zh"][2]
    assert "另有英文报道：2 条 · 2 个网站" in zh_text and "also in" not in zh_text  # the team's language
    assert "命中: 诺瓦商城（NovaMart的别名，正文）" in zh_text and " in body" not in zh_text


def test_day_window_follows_the_team_timezone() -> None:
    start, end = day_window(date(2026, 11, 22), "Asia/Shanghai")
    assert start == datetime(2026, 11, 21, 16, 0, tzinfo=UTC) and end == datetime(
        2026, 11, 22, 16, 0, tzinfo=UTC
    )
    assert default_day(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "Asia/Shanghai") == date(2026, 11, 22)
    assert default_day(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "UTC") == date(2026, 11, 21)


def _two_section_stores(
    tmp_path: Path, reasons: tuple[str, ...] = ("`recall` in the title",)
) -> tuple[Settings, EmbeddedIndex, StoryStore]:
    """A company and a policy watchlist; the recall story matches both, is high risk (for ``reasons``) and
    negative toward NovaMart; a second story has a hostile link."""
    from nlp.records import EntitySentiment, Risk

    def mention(watchlist: str, term: str) -> Mention:
        return Mention(watchlist=watchlist, term=term, field="body", start=0, end=len(term), via=term)

    body = "NovaMart recalls power banks after the safety regulator found fire risks. " * 6
    recall = [
        make_item(key, body, datetime(2026, 11, 22, hour, tzinfo=UTC), source=source,
                  title="NovaMart recalls power banks", mentions=(mention("novamart", "NovaMart"),
                                                                  mention("safety-rules", "regulator")))
        for key, source, hour in (("a", "harbor", 3), ("b", "metro", 5), ("c", "wire", 9))
    ]  # fmt: skip
    for item in recall:
        item.risk = Risk(level="high", points=5, reasons=list(reasons), watchlist="novamart")
        item.entity_sentiments = [EntitySentiment(watchlist="novamart", entity="NovaMart", label="negative",
                                                  confidence=0.9, passages=1)]  # fmt: skip
    hostile = make_item("d", "A NovaMart note.", datetime(2026, 11, 22, 6, tzinfo=UTC), source="blog",
                        title="NovaMart <b>note</b>", mentions=(mention("novamart", "NovaMart"),))  # fmt: skip
    hostile.url = "javascript:alert(1)"
    stories = StoryStore(tmp_path / "stories.sqlite", Settings().stories)
    stories.assign([*recall, hostile])
    index = EmbeddedIndex(tmp_path / "index")
    index.upsert([IndexDoc.from_item(item, None) for item in [*recall, hostile]])
    config = Settings(
        watchlists=[
            Watchlist(name="safety-rules", kind="policy", query="regulator"),
            Watchlist(name="novamart", title="NovaMart", entities=[{"name": "NovaMart"}]),  # type: ignore[list-item]
        ],
        teams=[Team(name="pr", watchlists=["safety-rules", "novamart"], recipients=["pr@example.com"])],
    )
    return config, index, stories


def test_the_digest_leads_with_what_needs_attention_and_cites_its_items(tmp_path: Path) -> None:
    from digests.panels import LateNote, PanelContext, Snapshot
    from digests.render import render_mail

    config, index, stories = _two_section_stores(tmp_path)
    team = config.teams[0]
    first = build_digest(config, team, date(2026, 11, 22), index, stories, NOW)
    assert [s.watchlist.name for s in first.sections] == ["novamart", "safety-rules"]  # company first
    company, policy = first.sections
    assert [e.title for e in company.stories] == ["NovaMart recalls power banks", "NovaMart <b>note</b>"]
    assert policy.stories == [] and policy.matched_stories == 1  # listed once, under the company
    recall = company.stories[0]
    assert recall.also_in == ("safety-rules",) and recall.attention and recall.sites == 3
    assert [(m.outlet, m.published.hour) for m in recall.members] == [("harbor.example", 3),
                                                                      ("metro.example", 5), ("wire.example", 9)]  # fmt: skip
    previous = Snapshot(date(2026, 11, 21), {recall.story.id: {"title": "t", "sites": 1, "members": 1,
                                                               "risk": "low", "negative": False}})  # fmt: skip
    late = LateNote(due=datetime(2026, 11, 22, 23, 30, tzinfo=UTC), sent=NOW, missed=(date(2026, 11, 20),))
    built = build_digest(config, team, date(2026, 11, 22), index, stories, NOW,
                         PanelContext(previous=previous, late=late))  # fmt: skip
    subject, text, html, images = render_mail(built)
    assert subject == "OpinionWatch pr digest, 2026-11-22: 1 need attention, 4 items"
    assert list(images) == ["chart-novamart", "chart-safety-rules"] and 'src="cid:chart-novamart"' in html
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    for needle in ("1 story needs attention", "Sent late: due 2026-11-22 23:30 UTC", "2026-11-20",
                   "grew from 1 to 3 sites", "risk rose from low to high", "turned negative",
                   "negative toward NovaMart", "also in: safety-rules", "harbor.example"):  # fmt: skip
        assert needle in html and needle in text, needle
    assert (
        html.index("needs attention") < html.index('data-watchlist="novamart"') < html.index("Since the last")
    )
    for entry in built.entries:  # the text part lists every story of the HTML, with each item's link
        cited = [member.url for member in entry.members if member.url.startswith("http")]
        assert entry.title in text and all(url in text for url in cited)
    assert "javascript:" not in html + text and "NovaMart &lt;b&gt;note&lt;/b&gt;" in html
    assert "2 stories from 4 items" in text and "listed above" in html
    assert "<style" not in html and 'style="' in html  # inline CSS only: mail clients drop <style>
    chinese = build_digest(config, team.model_copy(update={"language": "zh"}), date(2026, 11, 22), index,
                           stories, NOW)  # fmt: skip
    _, zh_text, zh_html, _ = render_mail(chinese)
    assert "1 条报道需要关注" in zh_html and "风险 高" in zh_html and "对NovaMart负面" in zh_html
    for shown in (zh_text, zh_html):  # the risk's reasons in the team's language too
        assert "标题含「recall」" in shown and "in the title" not in shown


def test_panels_show_new_and_growing_topics_and_broken_sources_since_when(tmp_path: Path) -> None:
    from crawlers.records import SourceReport
    from digests.panels import PanelContext
    from digests.render import render_mail
    from nlp.topic_state import DayFigures, DaySignal, TopicRecord, TopicState

    config, index, stories = _two_section_stores(tmp_path)
    day = date(2026, 11, 22)

    def topic(number: int, label: str, trend: str) -> TopicRecord:
        return TopicRecord(
            id=number, label=label, title=f"{label} story", born=day, last_active=day,
            days={day: DayFigures(stories=4, items=9, sources=3)},
            signals={day: DaySignal(popularity=float(number), signal="strong", trend=trend)},  # type: ignore[arg-type]
        )  # fmt: skip

    state = TopicState(
        fits=[day], topics={1: topic(1, "solar tariffs", "new"), 2: topic(2, "rates", "stable")}
    )
    failed = SourceReport(source="courier", listing_ok=False, errors={"http_503": 1})
    fine = SourceReport(source="courier", listing_ok=True, listed=10, new=3)
    runs = {"courier": [(datetime(2026, 11, 22, h, tzinfo=UTC), failed) for h in (9, 8, 7)]
            + [(datetime(2026, 11, 22, 6, tzinfo=UTC), fine)], "harbor": []}  # fmt: skip
    context = PanelContext(source_runs=runs.__getitem__, sources=("courier", "harbor"), topics=state)
    built = build_digest(config, config.teams[0], day, index, stories, NOW, context)
    _, text, html, _ = render_mail(built)
    assert [t.label for t in built.panels.topics] == ["solar tariffs"]  # new or growing only
    for shown in (text, html):
        assert "New and growing topics" in shown and "solar tariffs" in shown and "rates" not in shown
        assert "courier: broken since 2026-11-22 07:00 UTC (failed 3 runs in a row" in shown


def test_a_match_names_its_alias_or_query_and_not_the_name_again() -> None:
    assert Reason("NovaMart", "NovaMart", "title").describe() == "NovaMart in title"
    assert Reason("诺瓦商城", "NovaMart", "body").describe() == "诺瓦商城 (alias of NovaMart) in body"
    assert Reason("regulator", "query", "body").describe() == "regulator (query) in body"
    chinese = Labels("zh")
    assert Reason("NovaMart", "NovaMart", "title").describe(chinese) == "NovaMart（标题）"
    assert Reason("监管", "query", "body").describe(chinese) == "监管（查询词，正文）"


def test_a_tone_the_risk_reasons_state_is_not_said_again(tmp_path: Path) -> None:
    """A story whose risk reasons say "negative toward NovaMart (0.90)" gets no second line saying it
    again; the headline, which shows no reasons, still names the tone."""
    reasons = ("`recall` in the title", "negative toward NovaMart (0.90)")
    config, index, stories = _two_section_stores(tmp_path, reasons)
    built = build_digest(config, config.teams[0], date(2026, 11, 22), index, stories, NOW)
    recall = built.sections[0].stories[0]
    assert recall.tone == (("negative", "NovaMart"),) and recall.tone_beyond_risk == ()
    text, html = render_text(built), render_html(built)
    assert text.count("negative toward NovaMart (0.90)") == 2  # the headline's line and the story's
    assert re.findall(r"negative toward NovaMart(?! \(0\.90\))", text) == []
    assert len(re.findall(r"negative toward NovaMart(?! \(0\.90\))", html)) == 1  # the headline


def test_tone_toward_a_query_watchlist_is_named_by_its_title(tmp_path: Path) -> None:
    from nlp.records import EntitySentiment

    config, index, stories = _two_section_stores(tmp_path)
    hit = Mention(watchlist="safety-rules", term="regulator", field="body", start=4, end=13, via="query")
    item = make_item("e", "The regulator warned sellers of chargers. " * 6, datetime(2026, 11, 22, 7, tzinfo=UTC),
                     source="gazette", title="Chargers under review", mentions=(hit,))  # fmt: skip
    item.entity_sentiments = [EntitySentiment(watchlist="safety-rules", entity="safety-rules", label="negative",
                                              confidence=0.8, passages=1)]  # fmt: skip
    stories.assign([item])
    index.upsert([IndexDoc.from_item(item, None)])
    rules = config.watchlists[0].model_copy(update={"title": "Safety rules"})
    config = config.model_copy(update={"watchlists": [rules, config.watchlists[1]]})
    built = build_digest(config, config.teams[0], date(2026, 11, 22), index, stories, NOW)
    (entry,) = built.sections[1].stories
    assert entry.tone == (("negative", "Safety rules"),)  # not the identifier "safety-rules"
    assert "negative toward Safety rules" in render_text(built)


LEADS = [  # (the body's first lines, where the snippet must start)
    ("Staff reporter · 2026-11-22 11:20\nNovaMart recalled 9,000 chargers.", "NovaMart recalled 9,000"),
    ("November 22, 2026 - 11:28 AMT\nNovaMart opened a warehouse in Lyon.", "NovaMart opened"),
    ("By Jane Doe\nNovaMart cut its prices.", "NovaMart cut"),
    ("（原标题：诺瓦商城召回充电宝？）\n诺瓦商城周二宣布召回充电宝。", "诺瓦商城周二宣布"),
    ("您所在的位置：\n首页 >\n快讯 >\n诺瓦商城发布第三季度财报。", "诺瓦商城发布第三季度"),
    ("澎湃新闻记者 王晓 李明\n诺瓦商城物流延误引发差评。", "诺瓦商城物流"),
    ("2026-11-22 14:07来源：澎湃新闻\n诺瓦商城开设海外仓。", "诺瓦商城开设"),
    # lines that tell the story, although they begin like a credit or carry a time
    ("From Monday, NovaMart will charge sellers a fee.\nSellers objected.", "From Monday, NovaMart"),
    ("记者22日从诺瓦商城获悉，平台将下调佣金。\n商家表示欢迎。", "记者22日从诺瓦商城获悉"),
    ("At 10:30 on Sunday NovaMart halted its app.\nUsers complained.", "At 10:30 on Sunday"),
    ("»Wir haben Fehler gemacht«\nsagte die NovaMart-Chefin am Montag.", "»Wir haben Fehler gemacht«"),
]


def test_a_snippet_starts_where_the_story_does(tmp_path: Path) -> None:
    """Bylines, credits, datelines, breadcrumbs and NetEase's original headline before the story are left
    out of the snippet; a first line that reads as a sentence is the story, whatever it begins with."""
    mention = Mention(watchlist="novamart", term="NovaMart", field="title", start=0, end=8, via="NovaMart")
    batch = [
        make_item(f"k{n}", body, datetime(2026, 11, 22, 1 + n, tzinfo=UTC), source=f"s{n}",
                  title=f"NovaMart story {n}", mentions=(mention,))
        for n, (body, _) in enumerate(LEADS)
    ]  # fmt: skip
    index = EmbeddedIndex(tmp_path / "index")
    stories = StoryStore(tmp_path / "stories.sqlite", Settings().stories)
    stories.assign(batch)
    index.upsert([IndexDoc.from_item(item, None) for item in batch])
    config = settings()
    team = config.teams[0].model_copy(update={"top_stories": len(LEADS)})
    built = build_digest(config, team, date(2026, 11, 22), index, stories, now=NOW)
    shown = {entry.title: entry.snippet for entry in built.sections[0].stories}
    assert len(shown) == len(LEADS)
    for n, (_, start) in enumerate(LEADS):
        assert shown[f"NovaMart story {n}"].startswith(start), shown[f"NovaMart story {n}"]
