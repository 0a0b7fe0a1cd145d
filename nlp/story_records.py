"""A story as the rest of the pipeline reads it: its members' reach, per language, and its canonical item."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

COMPLETE_FRACTION = 0.8
"""A version at least this share of the longest one of its language is complete (may be canonical)."""
PRECISION_RANK = {"datetime": 0, "date": 1, "none": 2}


class LanguageReach(BaseModel):
    """A story's coverage in one language, and its version in that language."""

    items: int
    sites: int
    canonical_item_id: str
    title: str
    url: str


class Story(BaseModel):
    id: str
    canonical_item_id: str
    title: str
    url: str
    member_count: int
    sources: list[str]
    domains: list[str]
    languages: list[str]
    first_seen: datetime
    last_seen: datetime
    member_ids: list[str]
    by_language: dict[str, LanguageReach] = {}

    def version_in(self, language: str) -> LanguageReach | None:
        return self.by_language.get(language)


def story_from_rows(story_id: str, rows: list[tuple]) -> Story:
    """A story from its items' rows (:meth:`nlp.stories.StoryStore.member_rows`, oldest first); its canonical
    item is the earliest of its versions per language (:func:`_canonical`)."""
    by_language: dict[str, list[tuple]] = {}
    for row in rows:
        by_language.setdefault(row[4], []).append(row)
    versions = {language: _canonical(members) for language, members in by_language.items()}
    canonical = min(versions.values(), key=_canonical_order)
    stamps = [datetime.fromisoformat(row[1]) for row in rows]
    return Story(
        id=story_id,
        canonical_item_id=canonical[0],
        title=canonical[6],
        url=canonical[7],
        member_count=len(rows),
        sources=sorted({row[2] for row in rows}),
        domains=sorted({row[3] for row in rows}),
        languages=sorted(by_language),
        first_seen=min(stamps),
        last_seen=max(stamps),
        member_ids=[row[0] for row in rows],
        by_language={
            language: LanguageReach(
                items=len(members),
                sites=len({row[3] for row in members}),
                canonical_item_id=versions[language][0],
                title=versions[language][6],
                url=versions[language][7],
            )
            for language, members in sorted(by_language.items())
        },
    )


def _canonical(rows: list[tuple]) -> tuple:
    """The earliest complete version among items of one language (lengths compare only within a
    language); a timed one before any dated only by day or undated (a day-only date is local midnight,
    which would make a later reprint look earlier)."""
    longest = max(row[5] for row in rows)
    return min((row for row in rows if row[5] >= COMPLETE_FRACTION * longest), key=_canonical_order)


def _canonical_order(row: tuple) -> tuple[int, str, str]:
    return PRECISION_RANK[row[8]], row[1], row[0]
