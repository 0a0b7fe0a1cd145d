"""Build a team's daily digest: the top stories of the day per watchlist, ranked by reach."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.settings import Settings, Team, Watchlist
from digests.labels import Labels
from digests.panels import PanelContext, Panels, build_panels
from digests.snippets import snippet
from index.base import Index, SearchRequest
from nlp.records import EntitySentiment
from nlp.risk import REASONS, entity_shown, story_entity_sentiments
from nlp.stories import StoryStore
from nlp.story_records import Story

PAGE = 500
KIND_ORDER = ("company", "policy", "industry", "other")
"""Sections in this order: the company first, then the policies that govern it, then its industry."""
ATTENTION_RISKS = ("medium", "high", "critical")
"""A story at these risk levels needs attention (the headline counts it)."""
ENGLISH = Labels("en")


@dataclass(frozen=True)
class OtherLanguage:
    """A story's coverage in a language other than the version shown."""

    language: str
    items: int
    sites: int

    def describe(self, labels: Labels = ENGLISH) -> str:
        return labels(
            "also_language",
            language=labels.language(self.language),
            items=labels.count(self.items, "items"),
            sites=labels.count(self.sites, "sites"),
        )


@dataclass(frozen=True)
class Reason:
    """Why a story is in a section: the term as written, the entity it names (or a query), the field."""

    term: str
    via: str
    field: str

    def describe(self, labels: Labels = ENGLISH) -> str:
        field = labels(f"field_{self.field}")
        if self.via == self.term:  # the entity's own name: nothing to add
            return labels("matched_term", term=self.term, field=field)
        if self.via == "query":
            return labels("matched_query", term=self.term, field=field)
        return labels("matched_alias", term=self.term, entity=self.via, field=field)


@dataclass(frozen=True)
class Member:
    """One item a story entry was built from: where, when (in the team's zone) and its link."""

    outlet: str
    published: datetime
    url: str
    title: str
    language: str
    date_precision: str = "datetime"

    @property
    def when(self) -> str:
        return _when(self.published, self.date_precision)


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
    risk_points: int = 0
    tone: tuple[tuple[str, str], ...] = ()
    """The sentiment of the day's items toward the watchlist's entities, not neutral ones:
    ``(("negative", "NovaMart"),)``."""
    negative: bool = False
    """Negative toward one of the watchlist's entities."""
    members: tuple[Member, ...] = ()
    """The day's items of the story, earliest first: what this entry cites."""
    also_in: tuple[str, ...] = ()
    """The other watchlists of the team that matched the story (it is listed once, under the first)."""
    score: float = 0.0
    since: date | None = None
    """The local day the story began, when that is before the digest's day (an ongoing story)."""

    @property
    def undated(self) -> bool:
        return self.date_precision == "none"

    @property
    def when(self) -> str:
        """The time as the reader sees it, in the team's zone."""
        return _when(self.published, self.date_precision)

    @property
    def matched(self) -> str:
        return self.matched_in(ENGLISH)

    def matched_in(self, labels: Labels) -> str:
        """Why the story is in its section, in the team's language."""
        return "; ".join(reason.describe(labels) for reason in self.reasons)

    @property
    def reprints(self) -> int:
        return self.story.member_count - 1

    @property
    def tone_beyond_risk(self) -> tuple[tuple[str, str], ...]:
        """The tone toward each entity, less what the risk's reasons already say ("negative toward NovaMart
        (0.86)"): shown with the reasons, the tone line adds only the rest."""
        said = {
            ("negative", found[1]["entity"])
            for reason in self.risk_reasons
            if (found := REASONS.parts(reason)) is not None and found[0] == "negative"
        }
        return tuple(pair for pair in self.tone if pair not in said)

    @property
    def sites(self) -> int:
        return len(self.story.domains)

    @property
    def first(self) -> Member:
        """The story's first item of the day (its first source and time)."""
        return self.members[0]

    @property
    def attention(self) -> bool:
        """Needs the team's attention: medium risk or more, or negative toward a watched entity."""
        return self.risk in ATTENTION_RISKS or self.negative


@dataclass(frozen=True)
class DigestSection:
    watchlist: Watchlist
    stories: list[DigestStory]
    items: int
    matched_stories: int = 0
    """Stories of the day that matched the watchlist, listed here or under an earlier section."""


@dataclass(frozen=True)
class Digest:
    team: Team
    day: date
    start: datetime
    end: datetime
    generated_at: datetime
    sections: list[DigestSection]
    items: int = 0
    """Distinct matching items of the day (an item in two sections counts once)."""
    stories: int = 0
    """Distinct stories of the day."""
    panels: Panels = field(default_factory=lambda: Panels())

    @property
    def generated_local(self) -> datetime:
        return self.generated_at.astimezone(ZoneInfo(self.team.timezone))

    @property
    def total_items(self) -> int:
        return self.items

    @property
    def entries(self) -> list[DigestStory]:
        return [entry for section in self.sections for entry in section.stories]

    @property
    def attention(self) -> list[DigestStory]:
        return [entry for entry in self.entries if entry.attention]


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of ``day`` in ``timezone``, as aware datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def default_day(now: datetime, timezone: str) -> date:
    """The morning digest reports the previous day in the team's timezone."""
    return now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def section_order(settings: Settings, team: Team) -> list[Watchlist]:
    """The team's watchlists, company first, then policy, industry and the rest; config order within."""
    watchlists = [settings.watchlist(name) for name in team.watchlists]
    return sorted(watchlists, key=lambda w: KIND_ORDER.index(w.kind))


def build_digest(
    settings: Settings,
    team: Team,
    day: date,
    index: Index,
    stories: StoryStore,
    now: datetime,
    context: PanelContext | None = None,
) -> Digest:
    """The team's digest of ``day``: a section per watchlist with its top stories (each story listed once,
    under its first section, tagged with the others), and the panels ``context`` can fill."""
    start, end = day_window(day, team.timezone)
    zone = ZoneInfo(team.timezone)
    watchlists = section_order(settings, team)
    day_docs = {w.name: _by_story(index, w.name, start, end) for w in watchlists}
    known = stories.stories({sid for docs in day_docs.values() for sid in docs})
    home = {sid: w.name for w in reversed(watchlists) for sid in day_docs[w.name]}
    titles = {w.name: w.display_title for w in watchlists}
    sections = []
    for watchlist in watchlists:
        by_story = day_docs[watchlist.name]
        entries = [
            replace(
                _entry(known[sid], docs, watchlist, zone, team.language, (start, end)),
                also_in=tuple(titles[w.name] for w in watchlists if w.name != watchlist.name
                              and sid in day_docs[w.name]),
            )
            for sid, docs in by_story.items()
            if sid in known and home[sid] == watchlist.name
        ]  # fmt: skip
        entries.sort(key=lambda e: (-e.score, e.title))
        items = sum(len(docs) for docs in by_story.values())
        sections.append(DigestSection(watchlist, entries[: team.top_stories], items, len(by_story)))
    items = len({doc["id"] for docs in day_docs.values() for group in docs.values() for doc in group})
    digest = Digest(
        team=team, day=day, start=start, end=end, generated_at=now, sections=sections, items=items,
        stories=len(home),
    )  # fmt: skip
    return replace(digest, panels=build_panels(digest, index, context or PanelContext()))


def _by_story(
    index: Index, watchlist: str, start: datetime, end: datetime
) -> dict[str, list[dict[str, Any]]]:
    docs = _all_hits(index, SearchRequest(watchlists=(watchlist,), since=start, until=end, sort="date"))
    by_story: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_story.setdefault(str(doc["story_id"]), []).append(doc)
    return by_story


def rank_score(sites: int, members: int, risk_points: int, negative: bool, age_hours: float) -> float:
    """How high a story ranks: reach first (distinct sites, then reprints, both on a log scale), then
    risk points, then a negative tone toward a watched entity, then recency (newer within the day)."""
    recency = max(0.0, 1.0 - age_hours / 24.0)
    return (
        2.0 * math.log2(1 + sites)
        + math.log2(1 + members)
        + 0.5 * risk_points
        + (1.5 if negative else 0.0)
        + 0.5 * recency
    )


def _entry(
    story: Story,
    docs_today: list[dict[str, Any]],
    watchlist: Watchlist,
    zone: ZoneInfo,
    language: str,
    window: tuple[datetime, datetime],
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
    members = tuple(sorted((_member(d, zone) for d in docs_today), key=lambda m: (m.published, m.url)))
    signals = _risk_and_tone(docs_today, watchlist)
    start, end = window
    age = (end - members[-1].published).total_seconds() / 3600
    began = story.first_seen.astimezone(zone)
    score = rank_score(len(story.domains), story.member_count, signals["risk_points"],
                       signals["negative"], age)  # fmt: skip
    return DigestStory(
        story=story,
        title=str(shown["title"]),
        url=str(shown["url"]),
        source=str(shown["source"]),
        published=datetime.fromisoformat(str(shown["published"])).astimezone(zone),
        snippet=snippet(str(shown["body"]), str(shown["title"])),
        items_today=len(docs_today),
        outlet=_outlet(shown),
        domain=str(shown.get("domain", "")),
        date_precision=str(shown.get("date_precision", "datetime")),
        reasons=_reasons(shown, watchlist.name),
        language=shown_language,
        also=tuple(
            OtherLanguage(other, reach.items, reach.sites)
            for other, reach in story.by_language.items()
            if other != shown_language
        ),
        members=members,
        score=round(score, 3),
        since=began.date() if began < start else None,
        **signals,
    )


def _member(doc: dict[str, Any], zone: ZoneInfo) -> Member:
    return Member(
        outlet=_outlet(doc),
        published=datetime.fromisoformat(str(doc["published"])).astimezone(zone),
        url=str(doc["url"]),
        title=str(doc["title"]),
        language=str(doc.get("language", "")),
        date_precision=str(doc.get("date_precision", "datetime")),
    )


def _outlet(doc: dict[str, Any]) -> str:
    return str(doc.get("outlet") or doc.get("domain") or doc["source"])


def _when(published: datetime, precision: str) -> str:
    zone = published.strftime("%Z") or "UTC"
    if precision == "date":
        return published.strftime("%Y-%m-%d")
    stamp = published.strftime("%Y-%m-%d %H:%M")
    return f"undated · first seen {stamp} {zone}" if precision == "none" else f"{stamp} {zone}"


def _risk_and_tone(docs: list[dict[str, Any]], watchlist: Watchlist) -> dict[str, Any]:
    """The riskiest of the day's items (its level and reasons), and the tone toward the watchlist's
    entities over the day's items (toward the watchlist itself, by its title, for its query's hits);
    nothing when sentiment and risk were off."""
    riskiest = max(docs, key=lambda d: int(d.get("risk_points", 0)))
    toward = story_entity_sentiments(
        [
            [EntitySentiment(**e) for e in d.get("entity_sentiments", []) if e["watchlist"] == watchlist.name]
            for d in docs
        ]
    )
    return {
        "risk": str(riskiest.get("risk", "none")),
        "risk_reasons": tuple(riskiest.get("risk_reasons", ())),
        "risk_points": int(riskiest.get("risk_points", 0)),
        "tone": tuple(
            (e.label, entity_shown(e.entity, watchlist.name, watchlist.display_title))
            for e in toward
            if e.label != "neutral"
        ),
        "negative": any(e.label == "negative" for e in toward),
    }


def _reasons(doc: dict[str, object], watchlist: str) -> tuple[Reason, ...]:
    found = doc.get("matched")
    if not isinstance(found, list):
        return ()
    reasons = {Reason(r["term"], r["via"], r["field"]) for r in found if r.get("watchlist") == watchlist}
    return tuple(sorted(reasons, key=lambda r: (r.field != "title", r.term)))[:3]


def _all_hits(index: Index, request: SearchRequest) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = index.search(replace(request, limit=PAGE, offset=offset))
        docs.extend(hit.doc for hit in page.hits)
        offset += PAGE
        if offset >= page.total or not page.hits:
            return docs
