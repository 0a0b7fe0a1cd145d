"""Publication dates: where they come from, which zone a naive time is in, and how precise they are.

A page date comes from its structured data (the time a Sina page shows, JSON-LD ``datePublished`` or
Baidu's ``pubDate``, ``<meta>`` tags such as ``article:published_time`` and ``og:time``), else htmldate
(``<time>`` elements, the text, the URL); a listing date comes from the feed or sitemap. A time written
without an offset is read in the source's ``timezone``; without one, in the zone of the site's country
domain, else of its declared language and region, else UTC. Each date keeps its precision: ``datetime``
(a time of day), ``date`` (a day only: kept as local midnight, never preferred to a timed copy) or
``none`` (nothing found: ``published`` stays empty and the item is filed under the time it was first seen).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import lxml.html
from dateutil import parser as dateutil_parser
from htmldate import find_date

from nlp.page_data import json_ld_values, meta_values

DatePrecision = Literal["datetime", "date", "none"]
META_DATES = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datePublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "og:time",
    "dc.date.issued",
    "DC.date.issued",
    "dcterms.issued",
    "sailthru.date",
    "parsely-pub-date",
    "article_date_original",
    "original-publish-date",
    "article.published",
    "rnews:datePublished",
    "date",
)
"""Publication-date ``<meta>`` names; the first in document order that reads as a date is taken."""
SHOWN_TIME_METAS = ("weibo: article:create_at",)
"""``<meta>`` names of the time a page shows as its publication time, taken before any other declared
date: Sina's portal pages show their ``weibo: article:create_at``, while their
``article:published_time`` is now and then a republication, seconds to hours later (gne's Sina pages:
04:04 shown and created, 06:52 "published")."""
HAN_DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})[:：时](\d{2})(?:[:：分](\d{2}))?)?"
)
NO_TIME = datetime(2000, 1, 1)
FUTURE_SLACK = timedelta(hours=12)
TIME_AFTER = (
    r"\W{1,5}(?:(?:at|um)\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?(?!\d)"
    r"(?:\s?(?P<half>[aApP])\.?[mM]\b)?"
)
SHOWN_DATE_TIMES = tuple(
    re.compile(written + TIME_AFTER)
    for written in (
        r"(?<!\d)(?P<a>\d{4}|\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{4}|\d{2})(?!\d)",
        r"\b(?P<month>[^\W\d_]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})",
        r"(?<!\d)(?P<day>\d{1,2})\.?\s+(?P<month>[^\W\d_]{3,9})\.?,?\s+(?P<year>\d{4})",
    )
)
"""A date written as numbers (``25.04.24``, ``2024-04-25``, ``4/25/2024``) or with an English or German
month name (``November 19, 2019``, ``15 October 2019``, ``01. April 2025``), then, after at most five
spaces or marks and an optional ``at``/``um``, a time of day (``14:07``, ``8:00pm``, ``11:08 a.m.``)."""
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "januar", "jänner"),
            ("february", "feb", "februar"),
            ("march", "mar", "märz"),
            ("april", "apr"),
            ("may", "mai"),
            ("june", "jun", "juni"),
            ("july", "jul", "juli"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct", "oktober", "okt"),
            ("november", "nov"),
            ("december", "dec", "dezember", "dez"),
        ),
        start=1,
    )
    for name in names
}
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
    "li": "Europe/Vaduz",
    "lu": "Europe/Luxembourg",
    "pt": "Europe/Lisbon",
    "is": "Atlantic/Reykjavik",
    "cz": "Europe/Prague",
    "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest",
    "si": "Europe/Ljubljana",
    "hr": "Europe/Zagreb",
    "rs": "Europe/Belgrade",
    "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia",
    "gr": "Europe/Athens",
    "ee": "Europe/Tallinn",
    "lv": "Europe/Riga",
    "lt": "Europe/Vilnius",
    "tr": "Europe/Istanbul",
    "il": "Asia/Jerusalem",
    "ae": "Asia/Dubai",
    "sa": "Asia/Riyadh",
    "qa": "Asia/Qatar",
    "pk": "Asia/Karachi",
    "bd": "Asia/Dhaka",
    "th": "Asia/Bangkok",
    "vn": "Asia/Ho_Chi_Minh",
    "my": "Asia/Kuala_Lumpur",
    "ph": "Asia/Manila",
    "eg": "Africa/Cairo",
    "ng": "Africa/Lagos",
    "ke": "Africa/Nairobi",
    "za": "Africa/Johannesburg",
    "ar": "America/Argentina/Buenos_Aires",
    "co": "America/Bogota",
    "pe": "America/Lima",
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


def page_dates(html: str, tree: lxml.html.HtmlElement | None) -> list[tuple[datetime, DatePrecision]]:
    """:func:`declared_date`, best first: a day without a time first with the time the page shows beside
    that day, if it shows one (``25.04.24 | 14:07 Uhr``, ``November 19, 2019, 9:02 AM``: see
    :func:`shown_time`), then as the day alone (for when that time turns out to be in the future)."""
    found = declared_date(html, tree)
    if found is None:
        return []
    timed = shown_time(tree, found[0]) if found[1] == "date" and tree is not None else None
    return [(timed, "datetime"), found] if timed is not None else [found]


def shown_time(tree: lxml.html.HtmlElement, day: datetime) -> datetime | None:
    """The time of day written right after ``day``'s date in the page's visible text (``SHOWN_DATE_TIMES``;
    a numeric date is read day first, or month first where only that reads as ``day``), as a naive
    local time; the first such in the text."""
    visible = " ".join(tree.xpath("//body//text()[not(ancestor::script or ancestor::style)]"))
    found = [
        (match.start(), timed)
        for pattern in SHOWN_DATE_TIMES
        for match in pattern.finditer(visible)
        if (timed := _time_on(match, day)) is not None
    ]
    return min(found)[1] if found else None


def _time_on(match: re.Match[str], day: datetime) -> datetime | None:
    """The time a shown date and time gives, if its date is ``day``."""
    hour, minute = int(match["hour"]), int(match["minute"])
    if match["half"] and 1 <= hour <= 12:
        hour = hour % 12 + (12 if match["half"] in "pP" else 0)
    if (day.year, day.month, day.day) not in _readings(match) or hour > 23 or minute > 59:
        return None
    return datetime(day.year, day.month, day.day, hour, minute)


def _readings(match: re.Match[str]) -> list[tuple[int, int, int]]:
    """The (year, month, day) a shown date may mean."""
    if match.groupdict().get("sep"):
        first, second, third = int(match["a"]), int(match["b"]), int(match["c"])
        if len(match["a"]) == 4:
            return [(first, second, third)]
        year = third + 2000 if third < 100 else third
        return [(year, second, first), (year, first, second)]
    month = MONTHS.get(match["month"].lower())
    return [(int(match["year"]), month, int(match["day"]))] if month else []


def declared_date(html: str, tree: lxml.html.HtmlElement | None) -> tuple[datetime, DatePrecision] | None:
    """The page's publication date: its structured data (JSON-LD ``datePublished``, publication
    ``<meta>`` tags, ``<time itemprop=datePublished>``) first, as publishers fill it from their content
    system, else htmldate's reading of the page (naive where the page gives no offset). Where htmldate
    finds no time of day, the JSON-LD ``pubDate`` of Baidu's search schema, which Chinese portals carry,
    is taken instead: on guancha it is the last update, minutes after the time the page shows (which
    htmldate reads), while on gamersky htmldate's only day is a related story's."""
    declared = structured_date(tree) if tree is not None else None
    if declared is not None:
        return declared
    baidu = _first_stamp(json_ld_values(tree, "pubDate")) if tree is not None else None
    try:
        text = find_date(html, outputformat="%Y-%m-%dT%H:%M:%S%z", original_date=True, extensive_search=False)
    except (ValueError, TypeError):
        text = None
    guess = parse_stamp(text) if text else None
    if baidu is not None and (guess is None or (guess[1] == "date" and baidu[1] == "datetime")):
        return baidu
    return guess


def structured_date(tree: lxml.html.HtmlElement) -> tuple[datetime, DatePrecision] | None:
    """The first publication date the page declares in structured data, with its precision."""
    shown = meta_values(tree, SHOWN_TIME_METAS)
    return _first_stamp([*shown, *json_ld_values(tree, "datePublished"), *_meta_dates(tree)])


def _first_stamp(values: list[str]) -> tuple[datetime, DatePrecision] | None:
    """The first of ``values`` that reads as a date."""
    return next((found for value in values if (found := parse_stamp(value)) is not None), None)


def parse_stamp(text: str) -> tuple[datetime, DatePrecision] | None:
    """``2019-09-09T18:13:22+08:00``, ``2019-09-09 18:13``, ``2019/9/9``, ``2019年09月09日 18:13``, RFC 2822;
    a day alone (or a time of exactly midnight without an offset) has precision ``date``."""
    value = " ".join(text.split())
    if not value or len(value) > 60:
        return None
    han = HAN_DATE.match(value)
    if han:
        year, month, day, hour, minute, second = han.groups()
        try:
            stamp = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            return None
        return stamp, "datetime" if hour is not None else "date"
    try:
        stamp = dateutil_parser.isoparse(value)
    except (ValueError, OverflowError):
        try:
            with warnings.catch_warnings():  # a zone name it does not know (CEST) leaves the time naive
                warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
                stamp = dateutil_parser.parse(value, default=NO_TIME)
        except (ValueError, OverflowError):
            return None
    if not 1990 <= stamp.year <= 2100:
        return None
    written = bool(re.search(r"\d:\d\d|\dT\d{4}", value))  # 18:13, or the basic form 20180619T0550
    midnight = (stamp.hour, stamp.minute, stamp.second) == (0, 0, 0)
    has_time = (written or not midnight) and not (stamp.tzinfo is None and midnight)
    return stamp, "datetime" if has_time else "date"


def _meta_dates(tree: lxml.html.HtmlElement) -> list[str]:
    values = meta_values(tree, META_DATES)
    return values + [str(value) for value in tree.xpath('//time[@itemprop="datePublished"]/@datetime')]


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
