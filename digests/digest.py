"""Build a team's daily digest: the top stories of the day per watchlist, ranked by reach."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.settings import Settings, Team, Watchlist
from index.base import Index, SearchRequest
from nlp.normalize import has_cjk
from nlp.records import EntitySentiment
from nlp.risk import story_entity_sentiments
from nlp.stories import Story, StoryStore

PAGE = 500
SNIPPET_CHARS = 280
BYLINE = re.compile(
    r"^(by\s|from\s|\(?(reporting|editing|writing) by|photo:|image:|来源|作者|记者|编辑|责编|责任编辑|"
    r"原标题|发布时间|发布日期|时间[:：]|\d{4}[-/年]\d{1,2}[-/月]\d{1,2})",
    re.IGNORECASE,
)
"""A lead line that is a byline, credit or dateline rather than the story (checked on short lines)."""
BYLINE_MAX_CHARS = 80
LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "de": "German",
    "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian", "ru": "Russian",
}  # fmt: skip


@dataclass(frozen=True)
class OtherLanguage:
    """A story's coverage in a language other than the version shown."""

    language: str
    items: int
    sites: int

    def describe(self) -> str:
        name = LANGUAGE_NAMES.get(self.language, self.language)
        items = f"{self.items} item{'s' if self.items != 1 else ''}"
        return f"also in {name}: {items} · {self.sites} site{'s' if self.sites != 1 else ''}"


@dataclass(frozen=True)
class Reason:
    """Why a story is in a section: the term as written, the entity it names (or a query), the field."""

    term: str
    via: str
    field: str

    def describe(self) -> str:
        named = (
            "query"
            if self.via == "query"
            else (self.via if self.via == self.term else f"alias of {self.via}")
        )
        return f"{self.term} ({named}) in {self.field}"


@dataclass(frozen=True)
class DigestStory:
    story: Story
    title: str
    url: str
    source: str
    published: datetime
    """In the team's time zone: publication time, or when first seen for an undated item."""
    snippet: str
    items_today: int
    outlet: str = ""
    domain: str = ""
    date_precision: str = "datetime"
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    language: str = ""
    also: tuple[OtherLanguage, ...] = ()
    """The story's coverage in the other languages, when it was joined across languages."""
    risk: str = "none"
    """The story's risk for this watchlist: its riskiest item of the day's (``nlp.risk``)."""
    risk_reasons: tuple[str, ...] = ()
    tone: tuple[str, ...] = ()
    """The sentiment of the day's items toward the watchlist's entities, e.g. ``negative toward NovaMart``."""

    @property
    def undated(self) -> bool:
        return self.date_precision == "none"

    @property
    def when(self) -> str:
        """The time as the reader sees it, in the team's zone."""
        zone = self.published.strftime("%Z") or "UTC"
        if self.date_precision == "date":
            return self.published.strftime("%Y-%m-%d")
        stamp = self.published.strftime("%Y-%m-%d %H:%M")
        return f"undated · first seen {stamp} {zone}" if self.undated else f"{stamp} {zone}"

    @property
    def matched(self) -> str:
        return "; ".join(reason.describe() for reason in self.reasons)

    @property
    def reprints(self) -> int:
        return self.story.member_count - 1


@dataclass(frozen=True)
class DigestSection:
    watchlist: Watchlist
    stories: list[DigestStory]
    items: int


@dataclass(frozen=True)
class Digest:
    team: Team
    day: date
    start: datetime
    end: datetime
    generated_at: datetime
    sections: list[DigestSection]

    @property
    def generated_local(self) -> datetime:
        return self.generated_at.astimezone(ZoneInfo(self.team.timezone))

    @property
    def total_items(self) -> int:
        return sum(section.items for section in self.sections)


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of ``day`` in ``timezone``, as aware datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def default_day(now: datetime, timezone: str) -> date:
    """The morning digest reports the previous day in the team's timezone."""
    return now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def build_digest(
    settings: Settings, team: Team, day: date, index: Index, stories: StoryStore, now: datetime
) -> Digest:
    start, end = day_window(day, team.timezone)
    zone = ZoneInfo(team.timezone)
    sections = [
        _section(settings.watchlist(name), start, end, index, stories, team, zone) for name in team.watchlists
    ]
    return Digest(team=team, day=day, start=start, end=end, generated_at=now, sections=sections)


def _section(
    watchlist: Watchlist,
    start: datetime,
    end: datetime,
    index: Index,
    stories: StoryStore,
    team: Team,
    zone: ZoneInfo,
) -> DigestSection:
    docs = _all_hits(index, SearchRequest(watchlists=(watchlist.name,), since=start, until=end, sort="date"))
    by_story: dict[str, list[dict[str, object]]] = {}
    for doc in docs:
        by_story.setdefault(str(doc["story_id"]), []).append(doc)
    known = stories.stories(by_story)
    ranked = sorted(
        (sid for sid in by_story if sid in known),
        key=lambda sid: (
            len(known[sid].domains),
            known[sid].member_count,
            len(by_story[sid]),
            known[sid].last_seen,
        ),
        reverse=True,
    )
    entries = [
        _entry(known[sid], by_story[sid], watchlist.name, zone, team.language)
        for sid in ranked[: team.top_stories]
    ]
    return DigestSection(watchlist=watchlist, stories=entries, items=len(docs))


def _entry(
    story: Story, docs_today: list[dict[str, object]], watchlist: str, zone: ZoneInfo, language: str
) -> DigestStory:
    """The story as the reader sees it: its version in the reader's language where it has one (that
    version's canonical item, else its first item of the day), else its canonical item."""
    in_language = [d for d in docs_today if d.get("language") == language]
    version = story.version_in(language)
    preferred = (version.canonical_item_id if version else None, story.canonical_item_id)
    shown = next((d for key in preferred for d in docs_today if d["id"] == key), None) or min(
        in_language or docs_today, key=lambda d: str(d["published"])
    )
    shown_language = str(shown.get("language", ""))
    return DigestStory(
        story=story,
        title=str(shown["title"]),
        url=str(shown["url"]),
        source=str(shown["source"]),
        published=datetime.fromisoformat(str(shown["published"])).astimezone(zone),
        snippet=_snippet(str(shown["body"]), str(shown["title"])),
        items_today=len(docs_today),
        outlet=str(shown.get("outlet") or shown.get("domain") or shown["source"]),
        domain=str(shown.get("domain", "")),
        date_precision=str(shown.get("date_precision", "datetime")),
        reasons=_reasons(shown, watchlist),
        language=shown_language,
        also=tuple(
            OtherLanguage(other, reach.items, reach.sites)
            for other, reach in story.by_language.items()
            if other != shown_language
        ),
        **_risk_and_tone(docs_today, watchlist),
    )


def _risk_and_tone(docs: list[dict[str, Any]], watchlist: str) -> dict[str, Any]:
    """The riskiest of the day's items (its level and reasons), and the tone toward the watchlist's
    entities over the day's items; nothing when sentiment and risk were off."""
    riskiest = max(docs, key=lambda d: int(d.get("risk_points", 0)))
    toward = story_entity_sentiments(
        [
            [EntitySentiment(**e) for e in d.get("entity_sentiments", []) if e["watchlist"] == watchlist]
            for d in docs
        ]
    )
    return {
        "risk": str(riskiest.get("risk", "none")),
        "risk_reasons": tuple(riskiest.get("risk_reasons", ())),
        "tone": tuple(f"{e.label} toward {e.entity}" for e in toward if e.label != "neutral"),
    }


def _reasons(doc: dict[str, object], watchlist: str) -> tuple[Reason, ...]:
    found = doc.get("matched")
    if not isinstance(found, list):
        return ()
    reasons = {Reason(r["term"], r["via"], r["field"]) for r in found if r.get("watchlist") == watchlist}
    return tuple(sorted(reasons, key=lambda r: (r.field != "title", r.term)))[:3]


def _lead(body: str, title: str) -> str:
    """The body without leading lines that repeat the title or are bylines, credits or datelines."""
    lines = body.split("\n")
    while len(lines) > 1 and (
        lines[0].strip() == title.strip()
        or (len(lines[0]) <= BYLINE_MAX_CHARS and BYLINE.match(lines[0].strip()))
        or not lines[0].strip()
    ):
        lines = lines[1:]
    return "\n".join(lines)


def _snippet(body: str, title: str = "") -> str:
    """The lead of the body: cut at a word boundary in spaced scripts, at a character in Chinese."""
    body = _lead(body, title)
    limit = SNIPPET_CHARS if not has_cjk(body[:SNIPPET_CHARS]) else SNIPPET_CHARS // 2
    if len(body) <= limit:
        return body
    cut = body[:limit]
    if " " in cut[-30:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def _all_hits(index: Index, request: SearchRequest) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    offset = 0
    while True:
        page = index.search(replace(request, limit=PAGE, offset=offset))
        docs.extend(hit.doc for hit in page.hits)
        offset += PAGE
        if offset >= page.total or not page.hits:
            return docs
