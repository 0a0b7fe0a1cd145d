from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from crawlers.records import RawItem
from nlp.extract import drop_trailing_links, extract, link_texts, needs_comparison
from nlp.language import ItemLanguageDetector
from opinionwatch.newsworld import World
from opinionwatch.newsworld.render import article_page

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:9"


def raw(html: str | None, **fields: object) -> RawItem:
    return RawItem(source="s", url=f"{BASE}/a.html", html=html, fetched_at=NOW, **fields)  # type: ignore[arg-type]


def page(world: World, site: str, index: int = 0) -> tuple[str, object]:
    article = world.articles_of(site)[index]
    return article_page(world, world.site(site), article, BASE), article


def test_main_text_without_boilerplate(world: World) -> None:
    html, article = page(world, "harbor-daily")
    result = extract(raw(html, feed_published=article.published))  # type: ignore[attr-defined]
    for paragraph in article.paragraphs:  # type: ignore[attr-defined]
        assert paragraph in result.text
    others = [a.title for a in world.articles_of("harbor-daily") if a.id != article.id]  # type: ignore[attr-defined]
    assert not [title for title in others if title in result.text]  # "Most read" box is not body text
    for noise in ("Advertisement", "Great reporting", "All rights reserved", "Most read"):
        assert noise not in result.text
    assert result.title == article.title  # type: ignore[attr-defined]
    assert result.published == article.published  # type: ignore[attr-defined]
    assert result.site_name == "Harbor Daily" and result.html_lang == "en"
    assert result.canonical_url == BASE + article.path  # type: ignore[attr-defined]


def test_comparison_pass_only_where_the_first_found_little_of_the_page(world: World) -> None:
    sentence = "The council approved the transit budget on Monday after a long debate about bus fares. "
    buried = "<br><br>".join(sentence * 3 for _ in range(6))
    html = f"<html><body><div><a href='/'>Home</a></div><div>{buried}</div></body></html>"
    assert needs_comparison("", html)
    result = extract(raw(html))  # trafilatura alone finds nothing here; its comparison finds it all
    assert result.method == "trafilatura" and result.text.count("transit budget") == 18
    brief = next(a for a in world.articles_of("harbor-daily") if len(" ".join(a.paragraphs)) < 400)
    short = article_page(world, world.site("harbor-daily"), brief, BASE)
    found = extract(raw(short)).text
    assert brief.paragraphs[0] in found and not needs_comparison(found, short)  # short, but most of its page
    assert needs_comparison(found, short.replace("</body>", "<p>" + "menu item " * 300 + "</p></body>"))


def test_a_link_list_after_the_article_goes_but_a_list_article_stays() -> None:
    article = ["The council approved the new cargo lane after a long debate on Tuesday evening."] * 3
    ranked = [
        "Port strike ends after four days of talks",
        "Ferry fares rise again this winter season",
        "New crane arrives at the container terminal",
    ]
    links = frozenset(ranked)
    text = "\n".join(
        [
            *article,
            "Most read",
            *(f"- {n}{title}" for n, title in enumerate(ranked, 1)),
            "Comments are the views of their writers and not those of this newspaper.",
        ]
    )
    assert drop_trailing_links(text, links) == "\n".join(article)
    two = "\n".join([*article, *(f"- {title}" for title in ranked[:2])])
    assert drop_trailing_links(two, links) == two  # two links are not a list
    gifts = "\n".join([*article, *(f"{n}) Gift number {n}\nhttp://amzn.to/{n}" for n in range(1, 6))])
    page = "".join(
        f'<li>{n}) Gift number {n} <a href="/{n}">http://amzn.to/{n}</a></li>' for n in range(1, 6)
    )
    addresses = link_texts(lxml.html.fromstring(f"<ul>{page}</ul>"))
    assert not addresses and drop_trailing_links(gifts, addresses) == gifts  # an address is not a headline


def test_chinese_page_and_date_from_the_page(world: World) -> None:
    html, article = page(world, "nanfang-shangbao")
    result = extract(raw(html))
    assert article.paragraphs[0] in result.text  # type: ignore[attr-defined]
    assert result.published.tzinfo is not None
    assert result.published.date() == article.published.date()  # type: ignore[attr-defined]
    assert "广告" not in result.text and "热门文章" not in result.text


def test_an_included_header_document_does_not_end_the_page(world: World) -> None:
    """A content system that includes a whole header document (``…</body></html>``) before the article:
    a browser reads on, and so must the extractor."""
    html, article = page(world, "nanfang-shangbao")
    header = '<div class="nav"><a href="/">首页</a></div></body></html>\n<!--end header-->'
    result = extract(raw(html.replace("<body>", "<body>" + header, 1)))
    assert "<body>" in html and article.paragraphs[0] in result.text  # type: ignore[attr-defined]


def test_an_article_only_in_next_js_flight_data_is_read_from_there(world: World) -> None:
    article = world.articles_of("harbor-daily")[0]
    chunk = "1f:T9c4," + "".join(f'<p class="editor-p">{p}</p>' for p in article.paragraphs)
    html = (
        f"<html><head><title>{article.title}</title></head><body><div id='root'>Loading…</div>"
        f"<script>self.__next_f.push([1,{json.dumps(chunk)}])</script>"
        '<script>self.__next_f.push([1,"2:[\\"$\\",\\"div\\",null,{}]"])</script></body></html>'
    )
    result = extract(raw(html))
    assert result.method == "flight_data" and result.title == article.title
    assert all(paragraph in result.text for paragraph in article.paragraphs)


def test_no_date_and_future_date_are_counted_outcomes() -> None:
    body = "<html><body><article>" + "<p>A paragraph of news text that is long enough to keep.</p>" * 5
    undated = extract(raw(body + "</article></body></html>"))
    assert "no_date" in undated.problems and undated.published is None and undated.date_precision == "none"
    future = extract(raw(body, feed_published=NOW + timedelta(days=30)))
    assert "future_date" in future.problems and future.published is None and future.date_precision == "none"


@pytest.mark.parametrize(
    "html",
    ["", "   ", os.urandom(4096).decode("latin-1"), "<html><body></body></html>", "<<<>>><p>unclosed"],
)
def test_bad_pages_fall_back_to_the_feed_and_never_raise(html: str) -> None:
    result = extract(raw(html, feed_title="Feed title", feed_summary="<b>Summary</b> from the feed."))
    assert result.title
    assert result.text


def test_binary_served_as_html_is_a_counted_outcome() -> None:
    binary = (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20).decode("latin-1")
    result = extract(raw(binary, feed_title="Chart", feed_summary="A chart of the day."))
    assert "binary_content" in result.problems and result.text == "A chart of the day."
    assert "binary_content" not in extract(raw("<p>" + "plain words " * 40 + "</p>")).problems


def test_empty_everything_is_reported() -> None:
    result = extract(raw(None, fetch_error="http_404: gone"))
    assert {"page_not_fetched", "empty_text", "no_title"} <= set(result.problems)


def test_one_megabyte_single_line() -> None:
    line = "word " * 200_000
    result = extract(raw(f"<html><body><p>{line}</p></body></html>", feed_title="Long"))
    assert len(result.text) > 100_000


DETECTOR = ItemLanguageDetector(["en", "zh", "de", "fr", "es", "ja", "ko"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NovaMart recalls power banks", "en"),
        ("Regulators probe NovaMart", "en"),
        ("苹果发布新手机", "zh"),
        ("诺瓦商城召回充电宝", "zh"),
        ("臺灣新聞", "zh"),
        ("東京のニュースです", "ja"),
        ("서울 뉴스입니다", "ko"),
        ("Die Regierung plant neue Regeln für Online-Marktplätze", "de"),
        ("诺瓦商城 NovaMart 宣布召回 Voltly 充电宝，并提供全额退款", "zh"),
    ],
)
def test_language_of_short_titles(text: str, expected: str) -> None:
    assert DETECTOR.detect(text) == expected


def test_language_without_letters_uses_hint() -> None:
    assert DETECTOR.detect("2026 — 120,000", hint="en") == "en"
    assert DETECTOR.detect("12345") == "und"
    with pytest.raises(ValueError, match="unknown ISO 639-1"):
        ItemLanguageDetector(["en", "xx"])


GERMAN = (
    "Die Bundesregierung will Online-Marktplätze stärker in die Pflicht nehmen. Händler aus Drittstaaten "
    "sollen künftig für die Sicherheit ihrer Produkte haften, wenn sie über große Plattformen verkaufen. "
    "Verbraucherschützer begrüßen den Vorschlag, der Handelsverband warnt dagegen vor zusätzlichem Aufwand."
)


def test_declared_language_is_taken_only_when_the_text_agrees() -> None:
    assert DETECTOR.detect(GERMAN) == "de"
    assert DETECTOR.detect(GERMAN, hint="de") == "de"
    assert DETECTOR.detect(GERMAN, hint="DE-at") == "de"  # a page's lang attribute, any case, with region
    assert DETECTOR.detect(GERMAN, hint="en") == "de"  # a lying <html lang> or source setting
    assert DETECTOR.detect(GERMAN, hint="fr") == "de"
    assert DETECTOR.detect(GERMAN, hint="nl") == "de"  # not a candidate: ignored


def test_posts_skip_html_extraction_but_are_normalised() -> None:
    post = raw(
        None,
        text="  Still waiting for my ＮｏｖａＭａｒｔ refund\u3000after three weeks.\n\nTerrible support.  ",
        kind="post",
        feed_published=NOW - timedelta(hours=2),
    )
    result = extract(post)
    assert result.method == "plain" and result.problems == []
    assert result.title == "Still waiting for my ＮｏｖａＭａｒｔ refund after three weeks."
    assert result.text.endswith("Terrible support.") and result.published == NOW - timedelta(hours=2)
    empty = extract(raw(None, text="   ", kind="post"))
    assert "empty_text" in empty.problems and "no_date" in empty.problems


def test_kana_dots_and_a_few_kana_do_not_make_chinese_japanese() -> None:
    detector = ItemLanguageDetector(["en", "zh", "ja", "ko"])
    assert (
        detector.detect("美国前总统唐纳德・特朗普表示，贸易谈判取得了一定进展，但仍有分歧需要解决。") == "zh"
    )
    quoted = "日本动画《となりのトトロ》在中国重新上映，票房超过一亿元，观众反响热烈，影院增加了排片。"
    assert detector.detect(quoted, hint="zh") == "zh"
    assert detector.detect("東京都は新型コロナウイルスの感染者が確認されたと発表しました。") == "ja"


@pytest.mark.parametrize(
    ("site_name", "outlet"),
    [
        ("网易版权所有", "网易"),
        ("© 2024 Harbor Daily. All rights reserved.", "Harbor Daily"),
        ("Copyright", "127.0.0.1:9"),  # nothing but a notice: the site's address instead
        ("The 1975 Gazette", "The 1975 Gazette"),
    ],
)
def test_a_copyright_notice_in_the_site_name_is_not_the_outlet(site_name: str, outlet: str) -> None:
    body = (
        "<p>" + "NovaMart said on Tuesday it would recall power banks after reports of fires. " * 4 + "</p>"
    )
    html = (
        f'<html><head><meta property="og:site_name" content="{site_name}">'
        f"<title>NovaMart recalls power banks</title></head><body><article>{body}</article></body></html>"
    )
    assert extract(raw(html)).site_name == outlet
