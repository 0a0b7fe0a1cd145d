"""Build a team's daily digest: the top stories of the day per watchlist, ranked by reach."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.settings import Settings, Team, Watchlist
from index.base import Index, SearchRequest
from nlp.normalize import has_cjk
from nlp.stories import Story, StoryStore

PAGE = 500
SNIPPET_CHARS = 280


@dataclass(frozen=True)
class DigestStory:
    story: Story
    title: str
    url: str
    source: str
    published: datetime
    snippet: str
    items_today: int

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
    sections = [
        _section(settings.watchlist(name), start, end, index, stories, team.top_stories)
        for name in team.watchlists
    ]
    return Digest(team=team, day=day, start=start, end=end, generated_at=now, sections=sections)


def _section(
    watchlist: Watchlist, start: datetime, end: datetime, index: Index, stories: StoryStore, top: int
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
    entries = [_entry(known[sid], by_story[sid]) for sid in ranked[:top]]
    return DigestSection(watchlist=watchlist, stories=entries, items=len(docs))


def _entry(story: Story, docs_today: list[dict[str, object]]) -> DigestStory:
    canonical = next((d for d in docs_today if d["id"] == story.canonical_item_id), None)
    shown = canonical or min(docs_today, key=lambda d: str(d["published"]))
    body = str(shown["body"])
    snippet = _snippet(body)
    return DigestStory(
        story=story,
        title=str(shown["title"]),
        url=str(shown["url"]),
        source=str(shown["source"]),
        published=datetime.fromisoformat(str(shown["published"])),
        snippet=snippet,
        items_today=len(docs_today),
    )


def _snippet(body: str) -> str:
    """The lead of the body: cut at a word boundary in spaced scripts, at a character in Chinese."""
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
