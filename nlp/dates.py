"""Publication dates: where they come from, which zone a naive time is in, and how precise they are.

A page date comes from htmldate (JSON-LD, ``<meta>`` tags such as ``article:published_time`` and
``og:time``, ``<time>`` elements, the URL), a listing date from the feed or sitemap. A time written
without an offset is read in the source's ``timezone``; without one, in the zone of the site's country
domain, else of its declared language and region, else UTC. Each date keeps its precision: ``datetime``
(a time of day), ``date`` (a day only: kept as local midnight, never preferred to a timed copy) or
``none`` (nothing found: ``published`` stays empty and the item is filed under the time it was first seen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from htmldate import find_date

DatePrecision = Literal["datetime", "date", "none"]
FUTURE_SLACK = timedelta(hours=12)
COUNTRY_ZONES = {
    "cn": "Asia/Shanghai",
    "hk": "Asia/Hong_Kong",
    "mo": "Asia/Macau",
    "tw": "Asia/Taipei",
    "sg": "Asia/Singapore",
    "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul",
    "in": "Asia/Kolkata",
    "ru": "Europe/Moscow",
    "de": "Europe/Berlin",
    "at": "Europe/Vienna",
    "ch": "Europe/Zurich",
    "fr": "Europe/Paris",
    "it": "Europe/Rome",
    "es": "Europe/Madrid",
    "nl": "Europe/Amsterdam",
    "be": "Europe/Brussels",
    "pl": "Europe/Warsaw",
    "se": "Europe/Stockholm",
    "no": "Europe/Oslo",
    "dk": "Europe/Copenhagen",
    "fi": "Europe/Helsinki",
    "uk": "Europe/London",
    "ie": "Europe/Dublin",
    "br": "America/Sao_Paulo",
    "nz": "Pacific/Auckland",
}
"""Country domains whose country has one civil time zone (or one that nearly all its press uses)."""
LANGUAGE_ZONES = {
    "zh": "Asia/Shanghai",
    "zh-cn": "Asia/Shanghai",
    "zh-hans": "Asia/Shanghai",
    "zh-sg": "Asia/Singapore",
    "zh-tw": "Asia/Taipei",
    "zh-hant": "Asia/Taipei",
    "zh-hk": "Asia/Hong_Kong",
    "zh-mo": "Asia/Macau",
    "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul",
    "de": "Europe/Berlin",
    "en-gb": "Europe/London",
}
"""Declared languages (``<html lang>``, the source's ``language``) that imply a zone; English alone does
not."""


@dataclass(frozen=True)
class Dated:
    published: datetime | None
    precision: DatePrecision


def site_zone(source_zone: str | None, url: str, declared_language: str | None) -> ZoneInfo:
    """The zone a naive time on ``url`` is read in (see the module's description)."""
    if source_zone:
        return ZoneInfo(source_zone)
    host = (urlsplit(url).hostname or "").lower()
    country = host.rsplit(".", 1)[-1] if "." in host else ""
    if country in COUNTRY_ZONES:
        return ZoneInfo(COUNTRY_ZONES[country])
    declared = (declared_language or "").lower().replace("_", "-")
    zone = LANGUAGE_ZONES.get(declared) or LANGUAGE_ZONES.get(declared.split("-")[0])
    return ZoneInfo(zone) if zone else ZoneInfo("UTC")


def page_date(html: str, url: str) -> tuple[datetime, DatePrecision] | None:
    """The page's publication date as htmldate finds it (naive where the page gives no offset)."""
    try:
        found = find_date(
            html, url=url, outputformat="%Y-%m-%dT%H:%M:%S%z", original_date=True, extensive_search=False
        )
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    try:
        stamp = datetime.fromisoformat(found)
    except ValueError:
        return None
    midnight = found.endswith("T00:00:00")
    return stamp, "date" if midnight else "datetime"


def resolve(
    stamp: datetime | None, precision: DatePrecision, zone: ZoneInfo, fetched_at: datetime
) -> tuple[Dated, str | None]:
    """``stamp`` in UTC (a naive one read in ``zone``), with the problem to count if it is unusable."""
    if stamp is None:
        return Dated(None, "none"), "no_date"
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=zone)
    if stamp > fetched_at + FUTURE_SLACK:
        return Dated(None, "none"), "future_date"
    return Dated(stamp.astimezone(UTC), precision), None
