"""Parse RSS 0.9x/1.0/2.0, Atom and JSON Feed documents into feed entries."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser


class FeedError(Exception):
    """The document is not a feed we can read; the message says what is wrong."""


@dataclass(frozen=True)
class FeedEntry:
    link: str
    title: str | None
    summary: str | None
    published: datetime | None
    outlet: str | None = None
    """The listing's name for the site the entry is on: a feed's own title for an entry on the feed's host
    (not for an aggregator's links elsewhere), a news sitemap's publication name."""


def parse_feed(body: bytes, url: str) -> list[FeedEntry]:
    """Entries of the feed at ``url``; malformed but readable feeds give what can be read."""
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        return _json_feed(stripped, url)
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    channel = parsed.feed.get("title") if isinstance(parsed.feed, dict) else None
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or _alternate_link(entry)
        if not link:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
        link = urljoin(url, link)
        outlet = own_site_name(channel, link, url)
        entries.append(FeedEntry(link, entry.get("title"), entry.get("summary"), published, outlet))
    if parsed.bozo and not entries:
        problem = parsed.get("bozo_exception")
        raise FeedError(f"{url}: not a readable feed ({type(problem).__name__}: {problem})")
    return entries


def own_site_name(name: Any, link: str, listing_url: str) -> str | None:
    """``name`` (a feed's title) where ``link`` is on the listing's own host (``www.`` aside): an
    aggregator's entries come from other sites, whose names it does not give."""
    if not isinstance(name, str) or not name.strip():
        return None
    hosts = {(urlsplit(address).hostname or "").removeprefix("www.") for address in (link, listing_url)}
    return " ".join(name.split()) if len(hosts) == 1 else None


def _alternate_link(entry: Any) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    return None


def _json_feed(body: bytes, url: str) -> list[FeedEntry]:
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FeedError(f"{url}: JSON feed does not parse: {exc}") from None
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version", "")):
        raise FeedError(f"{url}: JSON document is not a JSON Feed (no jsonfeed.org version)")
    entries = []
    for item in document.get("items", []):
        link = item.get("url") or item.get("external_url")
        if not link:
            continue
        stamp = item.get("date_published") or item.get("date_modified")
        published = parse_iso_date(stamp)
        summary = item.get("summary") or item.get("content_text")
        link = urljoin(url, link)
        outlet = own_site_name(document.get("title"), link, url)
        entries.append(FeedEntry(link, item.get("title"), summary, published, outlet))
    return entries


def parse_iso_date(value: str | None) -> datetime | None:
    """An ISO 8601 / W3C date or datetime (``Z`` allowed), in UTC when it names no offset."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
