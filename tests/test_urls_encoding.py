from __future__ import annotations

import codecs

import pytest

from crawlers.encoding import charset_from_content_type, decode_html
from crawlers.urls import BlockedURL, canonicalize, check_fetchable, parse_networks


def test_canonicalize_strips_tracking_and_normalises() -> None:
    url = "HTTP://News.Example.COM:80/a/b?utm_source=x&id=3&fbclid=y&b=1#comments"
    assert canonicalize(url) == "http://news.example.com/a/b?b=1&id=3"
    assert canonicalize("https://e.com") == "https://e.com/"
    assert canonicalize("https://e.com:8443/x") == "https://e.com:8443/x"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
    ],
)
def test_private_addresses_are_blocked(url: str) -> None:
    with pytest.raises(BlockedURL, match="non-public address"):
        check_fetchable(url, [])


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x/"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(BlockedURL, match="only http and https"):
        check_fetchable(url, [])


def test_allowed_networks_open_a_hole_only_where_asked() -> None:
    allowed = parse_networks(["127.0.0.1", "10.0.0.0/8"])
    check_fetchable("http://127.0.0.1:8080/feed", allowed)
    check_fetchable("http://10.9.9.9/", allowed)
    with pytest.raises(BlockedURL):
        check_fetchable("http://127.0.0.2/", allowed)
    with pytest.raises(ValueError, match="crawl.allow_private"):
        parse_networks(["not-an-ip"])


TEXT = "诺瓦商城召回充电宝，消费者投诉激增。"


@pytest.mark.parametrize(
    ("body", "declared", "expected"),
    [
        (TEXT.encode("gbk"), "utf-8", TEXT),  # header lies
        (TEXT.encode("gb18030"), None, TEXT),  # no header
        (
            f'<meta charset="gbk"><p>{TEXT}</p>'.encode("gbk"),
            "iso-8859-1",
            f'<meta charset="gbk"><p>{TEXT}</p>',
        ),
        ("臺灣新聞報導，市場監管。".encode("big5"), "big5", "臺灣新聞報導，市場監管。"),
        ("東京のニュースです。".encode("shift_jis"), None, "東京のニュースです。"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "gbk", TEXT),
        ("café crème".encode("cp1252"), None, "café crème"),
    ],
)
def test_decode_html_survives_lying_and_missing_charsets(
    body: bytes, declared: str | None, expected: str
) -> None:
    text, _ = decode_html(body, declared)
    assert text == expected


def test_charset_from_content_type() -> None:
    assert charset_from_content_type(b"text/html; charset=GBK") == "GBK"
    assert charset_from_content_type('text/html; charset="utf-8"') == "utf-8"
    assert charset_from_content_type("text/html") is None
