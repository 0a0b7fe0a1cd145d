"""Read sitemaps: sitemap indexes, URL sets and Google News sitemaps, gzipped or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from scrapy.utils.gz import gunzip

from crawlers.feeds import FeedEntry, FeedError, parse_iso_date


@dataclass
class Sitemap:
    children: list[tuple[str, datetime | None]] = field(default_factory=list)
    """Sitemaps listed by a sitemap index, with their ``lastmod``."""
    entries: list[FeedEntry] = field(default_factory=list)
    """Pages of a URL set, dated by ``news:publication_date`` or else ``lastmod``."""


def parse_sitemap(body: bytes, url: str, max_bytes: int) -> Sitemap:
    """The sitemap at ``url``; raises :class:`FeedError` when it is neither an index nor a URL set."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=max_bytes)
        except Exception as exc:  # scrapy raises its own _DecompressionMaxSizeExceeded or OSError
            raise FeedError(f"{url}: gzipped sitemap over {max_bytes} bytes or corrupt ({exc})") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"{url}: sitemap is not XML ({exc})") from None
    if root is None:
        raise FeedError(f"{url}: sitemap is empty or not XML")
    kind = etree.QName(root).localname
    sitemap = Sitemap()
    if kind == "sitemapindex":
        for node in _children(root, "sitemap"):
            loc = _text(node, "loc")
            if loc:
                sitemap.children.append((loc, parse_iso_date(_text(node, "lastmod"))))
    elif kind == "urlset":
        for node in _children(root, "url"):
            loc = _text(node, "loc")
            if loc:
                sitemap.entries.append(_entry(node, loc))
    else:
        raise FeedError(f"{url}: not a sitemap (root element <{kind}>, expected <urlset> or <sitemapindex>)")
    return sitemap


def _entry(node: etree._Element, loc: str) -> FeedEntry:
    news = next(_children(node, "news"), None)
    title = published = outlet = None
    if news is not None:
        title = _text(news, "title")
        published = parse_iso_date(_text(news, "publication_date"))
        publication = next(_children(news, "publication"), None)
        outlet = _text(publication, "name") if publication is not None else None
    return FeedEntry(loc, title, None, published or parse_iso_date(_text(node, "lastmod")), outlet)


def _children(node: etree._Element, name: str):
    return (child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == name)


def _text(node: etree._Element, name: str) -> str | None:
    child = next(_children(node, name), None)
    text = (child.text or "").strip() if child is not None else ""
    return text or None
