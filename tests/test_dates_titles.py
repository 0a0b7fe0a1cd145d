"""Dates (zones, precision, structured data) and titles (candidates, suffixes, complete forms) on their own."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from crawlers.records import RawItem
from nlp.dates import page_dates, parse_stamp, resolve, shown_time, site_zone, structured_date
from nlp.extract import extract
from nlp.titles import choose_title, strip_site_suffix, title_candidates

SEEN = datetime(2026, 11, 23, 12, tzinfo=UTC)
HEAD = "動画：ナイジェリアで少女らによる自爆攻撃、ロケット弾も撃ち込まれ31人死亡"


@pytest.mark.parametrize(
    ("source_zone", "url", "declared", "zone"),
    [
        ("Europe/London", "https://news.example.cn/a", "zh", "Europe/London"),  # the source's setting wins
        (None, "https://news.example.cn/a", None, "Asia/Shanghai"),
        (None, "https://www.faz.de/a", "en", "Europe/Berlin"),
        (None, "https://www.landesspiegel.li/a", "de", "Europe/Vaduz"),
        (None, "https://www.aa.com.tr/tr/a", None, "Europe/Istanbul"),
        (None, "https://example.com/a", "zh-TW", "Asia/Taipei"),
        (None, "https://example.com/a", "zh-cn", "Asia/Shanghai"),
        (None, "https://example.com/a", "en", "UTC"),
        (None, "http://127.0.0.1:8405/a", None, "UTC"),
    ],
)
def test_the_zone_of_naive_times_comes_from_the_source_the_domain_or_the_language(
    source_zone: str | None, url: str, declared: str | None, zone: str
) -> None:
    assert site_zone(source_zone, url, declared) == ZoneInfo(zone)


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("2019-09-09 18:13:22", datetime(2019, 9, 9, 18, 13, 22), "datetime"),
        ("2019-09-09T18:13:22+08:00", datetime(2019, 9, 9, 10, 13, 22, tzinfo=UTC), "datetime"),
        ("2019年09月09日 18:13", datetime(2019, 9, 9, 18, 13), "datetime"),
        ("2019年9月9日", datetime(2019, 9, 9), "date"),
        ("2019-09-09", datetime(2019, 9, 9), "date"),
        ("Mon, 09 Sep 2019 18:13:22 +0000", datetime(2019, 9, 9, 18, 13, 22, tzinfo=UTC), "datetime"),
    ],
)
def test_stamps_parse_with_their_precision(text: str, expected: datetime, precision: str) -> None:
    found = parse_stamp(text)
    assert found is not None
    stamp, got = found
    assert got == precision
    assert (stamp.astimezone(UTC) if stamp.tzinfo else stamp) == expected


@pytest.mark.parametrize("text", ["", "not a date", "1850-01-01", "tomorrow-ish"])
def test_what_is_not_a_date_is_none(text: str) -> None:
    assert parse_stamp(text) is None


def test_a_naive_time_is_read_in_the_zone_and_a_future_one_is_undated() -> None:
    dated, problem = resolve(datetime(2026, 11, 22, 18, 13), "datetime", ZoneInfo("Asia/Shanghai"), SEEN)
    assert dated.published == datetime(2026, 11, 22, 10, 13, tzinfo=UTC) and problem is None
    future, problem = resolve(datetime(2027, 1, 1, tzinfo=UTC), "datetime", ZoneInfo("UTC"), SEEN)
    assert future.published is None and future.precision == "none" and problem == "future_date"
    missing, problem = resolve(None, "datetime", ZoneInfo("UTC"), SEEN)
    assert missing.precision == "none" and problem == "no_date"


def test_structured_data_is_read_before_the_page_text() -> None:
    page = lxml.html.fromstring(
        '<html><head><script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", '
        '"datePublished": "2024-04-30T16:17:29+02:00"}]}</script><meta name="date" content="2020-01-01">'
        "</head><body><p>Updated 2025-01-01</p></body></html>"
    )
    found = structured_date(page)
    assert found == (datetime(2024, 4, 30, 14, 17, 29, tzinfo=UTC), "datetime")


def test_a_publishers_own_meta_name_for_the_original_date_is_read() -> None:
    page = lxml.html.fromstring(
        '<html><head><meta name="article_date_updated" content="Saturday, December 27, 2014, 12:10 PM">'
        '<meta name="article_date_original" content="Saturday, December 27, 2014, 12:06 PM"></head></html>'
    )
    assert structured_date(page) == (datetime(2014, 12, 27, 12, 6), "datetime")


def test_the_baidu_schema_date_of_a_chinese_portal_beats_its_related_list_days_in_beijing_time() -> None:
    page = (
        '<html lang="en"><head><script type="application/ld+json">{"@context": '
        '"https://zhanzhang.baidu.com/contexts/cambrian.jsonld", "title": "港口罢工第三天", '
        '"pubDate": "2026-11-05T11:10:52"}</script></head><body><h1>港口罢工第三天</h1>'
        "<p>港口工人罢工进入第三天，码头仍然关闭，数百艘货船在港外等候，运输公司表示损失正在扩大。</p>"
        "<ul><li><a href='/a'>相关新闻一</a><time>2026-11-04</time></li>"
        "<li><a href='/b'>相关新闻二</a><time>2026-11-04</time></li></ul></body></html>"
    )
    assert page_dates(page, lxml.html.fromstring(page)) == [(datetime(2026, 11, 5, 11, 10, 52), "datetime")]
    raw = RawItem(source="s", url="http://news.example.com/a.html", html=page, fetched_at=SEEN)
    assert extract(raw).published == datetime(2026, 11, 5, 3, 10, 52, tzinfo=UTC)  # despite lang="en"


def test_json_ld_in_cdata_is_read_and_the_article_beats_a_related_video() -> None:
    page = lxml.html.fromstring(
        '<html><head><script type="application/ld+json">//<![CDATA[\n{"@type": "VideoObject", '
        '"datePublished": "2024-12-01T08:00:00Z", "headline": "Related clip"}\n//]]></script>'
        '<script type="application/ld+json"><![CDATA[{"@type": ["ReportageNewsArticle"], '
        '"datePublished": "2024-12-06T22:00:40Z", "headline": "Vote fails"}]]></script>'
        '<meta property="article:published_time" content="2024-12-07T12:43:39Z">'
        '<meta property="og:title" content="What the impeachment vote means"></head><body></body></html>'
    )
    assert structured_date(page) == (datetime(2024, 12, 6, 22, 0, 40, tzinfo=UTC), "datetime")
    candidates = title_candidates(page, None, None)
    assert candidates == ["Vote fails", "What the impeachment vote means"]  # not the video's headline
    assert choose_title(candidates, None) == "Vote fails"  # the article's own headline first


def test_titles_agree_lose_their_site_suffix_and_take_the_complete_form() -> None:
    page = lxml.html.fromstring(
        '<html><head><title>Storm closes port | Harbor Daily</title><meta property="og:title" '
        'content="Storm closes port"></head><body><h1>Storm closes port</h1></body></html>'
    )
    assert choose_title(title_candidates(page, None, None), "Harbor Daily") == "Storm closes port"
    assert choose_title(
        ["诺瓦商城回应", '诺瓦商城回应"退款难"质疑', '诺瓦商城回应"退款难"质疑_华夏财经'], None
    ) == ('诺瓦商城回应"退款难"质疑')
    assert choose_title(["Port reopens after storm ...", "Port reopens after storm damage"], None) == (
        "Port reopens after storm damage"
    )
    shorter = "Rates decision on Thursday: a clear answer"  # an editor's shorter title, not a cut one
    assert choose_title([shorter, shorter, f"{shorter} from the experts"], None) == shorter
    glued = ["Strike closes the port", "Strike closes the port » Local » Harbor Daily"]
    assert choose_title([*glued, "Strike closes the portHarbor Daily"], "Harbor Daily") == glued[0]
    title = "Nach Kalifat-Rufen in Hamburg: Sind wir zu sanft zu Islamisten?"
    assert strip_site_suffix(f"{title} - Panorama - derStandard.at", "derStandard", [title]) == title
    assert strip_site_suffix("Covid-19 cases rise", None, []) == "Covid-19 cases rise"


def test_titles_unescape_meta_entities_and_agree_across_quote_marks() -> None:
    page = lxml.html.fromstring(
        '<html><head><meta property="og:title" content="Swift&amp;#8217;s &amp;#8216;best work&amp;#8217;">'
        "<title>Swift's 'best work' | Harbor Daily</title></head><body><h1>Other</h1></body></html>"
    )
    candidates = title_candidates(page, None, None)
    assert candidates[0] == "Swift’s ‘best work’"  # escaped twice by the site, shown once-decoded
    assert choose_title(candidates, "Harbor Daily") == "Swift’s ‘best work’"  # two votes, one title


@pytest.mark.parametrize(
    ("candidates", "site", "title"),
    [
        (["南海トラフ、一時調査 巨大地震：中日新聞Web"], "中日新聞Web", "南海トラフ、一時調査 巨大地震"),
        (["Silicon Exposed: Open Verilog flow"], "siliconexposed.blogspot.com", "Open Verilog flow"),
        (
            [
                "Port deal signed after a week of talks * Harbor Daily * by Ann Lee",
                "Port deal signed after a week of talks",
            ],
            None,
            "Port deal signed after a week of talks",
        ),
        # a longer candidate that is this one plus ", <site>, <date>" is not its complete form
        (
            ["Kenia: Nairobi von unten", "Kenia: Nairobi von unten, Tageszeitung junge Welt, 18.05.2026"],
            None,
            "Kenia: Nairobi von unten",
        ),
        (["US: tariffs rise"], "USA Today", "US: tariffs rise"),  # a short word is not the site's name
        # a longer candidate with extra words and then a separator is a suffixed form, not the complete one
        ([HEAD, f"{HEAD} 写真1枚 国際ニュース：AFPBB News"], None, HEAD),
        # a kicker before the headline that the page's own heading leaves out is a label, not the title
        (
            [
                "Port strike: Talks resume at dawn",
                "Port strike: Talks resume at dawn",
                "Talks resume at dawn",
            ],
            None,
            "Talks resume at dawn",
        ),
        (
            ["Port strike: Talks resume at dawn"],
            None,
            "Port strike: Talks resume at dawn",
        ),  # no heading without it
    ],
)
def test_titles_lose_site_names_before_and_after(candidates: list[str], site: str | None, title: str) -> None:
    assert choose_title(candidates, site) == title


def test_the_page_title_beats_a_heading_of_its_body() -> None:
    page = lxml.html.fromstring(
        "<html><head><title>Babies who eat peanuts early may avoid allergy | Health Daily</title></head>"
        "<body><h1>Allergies Health Center</h1><p>Text</p></body></html>"
    )
    candidates = title_candidates(page, "Allergies Health Center", None)  # the extractor took the heading
    assert choose_title(candidates, "Health Daily") == "Babies who eat peanuts early may avoid allergy"


def test_with_no_title_tags_the_page_title_is_used_not_the_body() -> None:
    page = lxml.html.fromstring(
        "<html><head><title>Council approves cargo lane</title></head><body></body></html>"
    )
    assert choose_title(title_candidates(page, None, None), None) == "Council approves cargo lane"


def test_a_sina_page_is_dated_by_the_time_it_shows_not_a_later_republication() -> None:
    page = (
        '<html><head><meta name="weibo: article:create_at" content="2026-11-07 04:04:43">'
        '<meta name="weibo: article:update_at" content="2026-11-07 09:08:25">'
        '<meta property="article:published_time" content="2026-11-07T06:52:51+08:00"></head>'
        '<body><h1>港口罢工第三天</h1><span class="date">2026年11月07日 04:04</span>'
        "<p>港口工人罢工进入第三天，码头仍然关闭，数百艘货船在港外等候，运输公司表示损失正在扩大。</p>"
        "</body></html>"
    )
    raw = RawItem(source="s", url="https://finance.sina.com.cn/a.shtml", html=page, fetched_at=SEEN)
    assert extract(raw).published == datetime(2026, 11, 6, 20, 4, 43, tzinfo=UTC)  # 04:04:43 in Beijing


def test_an_outlet_named_by_its_domain_alone_is_cut_from_the_end_of_a_title_only() -> None:
    page = (
        "<html><head><title>Landtag streitet über Budget – Die Neue Südtiroler Tageszeitung</title></head>"
        "<body><h2>Politik</h2><p>Der Landtag hat am Dienstag stundenlang über den Haushalt gestritten, "
        "eine Einigung gab es bis zum Abend nicht. Die Opposition kündigte weitere Anträge an.</p>"
        "</body></html>"
    )
    raw = RawItem(
        source="s", url="https://www.tageszeitung.it/2026/11/05/landtag/", html=page, fetched_at=SEEN
    )
    assert extract(raw).title == "Landtag streitet über Budget"  # no og:site_name: the domain names it
    assert strip_site_suffix("How we designed Dropbox ATF: an async task framework", "dropbox.tech") == (
        "How we designed Dropbox ATF: an async task framework"  # a leading part that merely mentions it
    )
    assert (
        strip_site_suffix("Trump denies it - fake news", "news.example.com") == "Trump denies it - fake news"
    )


def test_a_day_without_a_time_takes_the_time_the_page_shows_beside_that_day() -> None:
    page = (
        '<html lang="de"><head><script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "2026-11-05"}</script></head><body><ul><li><a href="/b">Hafen wieder offen</a> '
        "04.11.2026, 15:10 Uhr</li></ul><h1>Streik im Hafen geht weiter</h1><p>05.11.26 | 14:07 Uhr | Von "
        "Eva Berger</p><p>Die Beschäftigten des Hafens streiken den dritten Tag, die Terminals bleiben "
        "geschlossen und Dutzende Schiffe warten vor der Küste auf ihre Abfertigung.</p></body></html>"
    )
    raw = RawItem(source="s", url="https://www.hafenblatt.de/streik.html", html=page, fetched_at=SEEN)
    found = extract(raw)
    assert (found.published, found.date_precision) == (datetime(2026, 11, 5, 13, 7, tzinfo=UTC), "datetime")
    early = raw.model_copy(update={"fetched_at": datetime(2026, 11, 4, 22, 0, tzinfo=UTC)})
    kept = extract(early)  # 14:07 Berlin is 15 hours after this fetch: the shown time cannot be right
    assert (kept.published, kept.date_precision, kept.problems) == (
        datetime(2026, 11, 4, 23, 0, tzinfo=UTC),  # the declared day alone, from midnight in Berlin
        "date",
        [],
    )  # before, the page lost its date as `future_date`
    us_page = lxml.html.fromstring("<html><body><p>By staff 11/05/26 8:05pm</p></body></html>")
    assert page_dates("", us_page) == []  # no date declared: nothing to complete
    assert shown_time(us_page, datetime(2026, 11, 5)) == datetime(2026, 11, 5, 20, 5)  # month first, pm
    assert shown_time(us_page, datetime(2026, 11, 6)) is None  # another day's time is not taken
    named = lxml.html.fromstring(
        "<html><body><p>Reply: November 4, 2026 at 9:15 am</p><p>By Ann Lee on Thursday, November 5th, "
        "2026 at 11:08 p.m.</p><p>erstellt: 05. November 2026, 15:25</p></body></html>"
    )
    assert shown_time(named, datetime(2026, 11, 5)) == datetime(2026, 11, 5, 23, 8)  # the first of that day
