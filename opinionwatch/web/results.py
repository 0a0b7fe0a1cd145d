"""What the search page asks of the index, and the result set it shows: one row per story, facets and a
timeline stacked by sentiment. Used by the JSON API, the page and the exports alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from digests.labels import Labels
from index.aggregations import Histogram
from index.base import Index, SearchRequest
from nlp.query import QuerySyntaxError, parse
from nlp.risk import entity_titled

PRESETS = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
PAGE_FACETS = ("watchlists", "source", "domain", "language", "sentiment", "risk", "topic_id")
REACH_POOL = 200
SENTIMENT_LABELS = ("negative", "neutral", "positive")
DAILY_UP_TO = 120
"""Days a timeline shows one bar a day for; longer spans get one a week."""


LIST_FIELDS = ("watchlist", "source", "domain", "lang", "sentiment", "risk", "topic")
"""Parameters that repeat in a query string (``lang=en&lang=zh``)."""


class SearchParams(BaseModel):
    """A search as the page and the API take it (query string or JSON)."""

    q: str = Field(
        default="", max_length=2000, description="Query in the query language (empty: everything)."
    )
    period: Literal["24h", "7d", "30d", "90d", "all", "custom"] = Field(
        default="7d", description="Date preset; `custom` uses `since` and `until`."
    )
    since: date | None = Field(default=None, description="First day (with `period=custom`).")
    until: date | None = Field(default=None, description="Last day, included (with `period=custom`).")
    watchlist: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    domain: list[str] = Field(default_factory=list)
    lang: list[str] = Field(default_factory=list)
    sentiment: list[str] = Field(default_factory=list)
    risk: list[str] = Field(default_factory=list)
    topic: list[str] = Field(default_factory=list)
    sort: Literal["relevance", "date", "reach"] = "relevance"
    page: int = Field(default=1, ge=1, le=50)
    per_page: int = Field(default=20, ge=1, le=100)

    @field_validator("q")
    @classmethod
    def _parses(cls, value: str) -> str:
        if value.strip():
            try:
                parse(value)
            except QuerySyntaxError as error:
                raise ValueError(f"query: {error}") from None
        return value

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> SearchParams:
        """Parameters from query-string pairs: lists from repeated keys, empty values left out (a form's
        blank date field means "not set"), unknown keys ignored."""
        raw: dict[str, Any] = {}
        for key, value in pairs:
            if value == "" or key not in cls.model_fields:
                continue
            if key in LIST_FIELDS:
                raw.setdefault(key, []).append(value)
            else:
                raw[key] = value
        return cls.model_validate(raw)

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        if self.period == "all":
            return None, None
        if self.period == "custom":
            since = datetime.combine(self.since, time(), UTC) if self.since else None
            until = datetime.combine(self.until + timedelta(days=1), time(), UTC) if self.until else None
            return since, until
        return now - PRESETS[self.period], None

    def request(self, now: datetime, **changes: Any) -> SearchRequest:
        since, until = self.window(now)
        query = self.q.strip() or None
        if self.domain:
            domains = " OR ".join(f'domain:"{d}"' for d in self.domain)
            query = f"({query}) AND ({domains})" if query else domains
        fields: dict[str, Any] = {
            "query": query,
            "since": since,
            "until": until,
            "sources": tuple(self.source),
            "languages": tuple(self.lang),
            "watchlists": tuple(self.watchlist),
            "topics": tuple(self.topic),
            "sentiments": tuple(self.sentiment),
            "risks": tuple(self.risk),
            "sort": "date" if self.sort == "date" else "relevance",
        }
        fields.update(changes)
        return SearchRequest(**fields)


@dataclass
class Member:
    id: str
    title: str
    url: str
    source: str
    domain: str
    language: str
    published: datetime


@dataclass
class StoryRow:
    story_id: str
    hit: dict[str, Any]
    """The best-ranked matching item of the story (its stored fields)."""
    score: float
    highlights: dict[str, list[str]]
    members: list[Member] = field(default_factory=list)
    reprints: int = 0
    sites: int = 1
    languages: list[str] = field(default_factory=list)


@dataclass
class ResultPage:
    total: int
    rows: list[StoryRow]
    facets: dict[str, list[tuple[str, int]]]
    timeline: list[dict[str, Any]]
    page: int
    more: bool


class StoryReader(Protocol):
    """The story store as the page reads it (the web context guards it with a lock)."""

    def member_rows(self, story_ids: list[str]) -> dict[str, list[tuple]]: ...

    def reach_sites(self, story_ids: list[str]) -> dict[str, float]: ...


def search_page(index: Index, stories: StoryReader, params: SearchParams, now: datetime) -> ResultPage:
    """One page of stories for ``params``: matching items collapsed by story (each shown by its best
    item), most relevant (or newest, or widest reach among the best :data:`REACH_POOL` stories) first;
    facets and the timeline come from the same search."""
    start = (params.page - 1) * params.per_page
    by_reach = params.sort == "reach"
    result = index.search(
        params.request(
            now, collapse="story_id", offset=0 if by_reach else start,
            limit=REACH_POOL if by_reach else params.per_page + 1,
            facets=PAGE_FACETS, date_histogram="1d", histogram_split="sentiment",
        )
    )  # fmt: skip
    rows = [StoryRow(str(hit.doc["story_id"]), hit.doc, hit.score, hit.highlights) for hit in result.hits]
    if by_reach:
        reach = stories.reach_sites([row.story_id for row in rows])
        rows.sort(key=lambda row: -reach.get(row.story_id, 1.0))
        rows = rows[start:]
    shown = rows[: params.per_page]
    members = stories.member_rows([row.story_id for row in shown])
    for row in shown:
        attach_members(row, members.get(row.story_id))
    return ResultPage(
        total=result.total,
        rows=shown,
        facets=result.facets,
        timeline=timeline(result.split_histograms),
        page=params.page,
        more=len(rows) > params.per_page,
    )


def attach_members(row: StoryRow, rows: list[tuple] | None) -> None:
    """The story's items (from the story store's rows), its reprint count, sites and languages."""
    if not rows:
        row.members = [_member_of(row.hit)]
        row.languages = [str(row.hit.get("language", ""))]
        return
    row.members = [
        Member(item_id, title, url, source, domain, language, datetime.fromisoformat(published))
        for item_id, published, source, domain, language, _, title, url, _ in rows
    ]
    row.reprints = len(rows) - 1
    row.sites = len({member.domain for member in row.members})
    row.languages = sorted({member.language for member in row.members})


def _member_of(doc: dict[str, Any]) -> Member:
    return Member(
        str(doc["id"]),
        str(doc.get("title", "")),
        str(doc.get("url", "")),
        str(doc.get("source", "")),
        str(doc.get("domain", "")),
        str(doc.get("language", "")),
        datetime.fromisoformat(str(doc["published"])),
    )


def timeline(by_sentiment: dict[str, Histogram]) -> list[dict[str, Any]]:
    """Items of the result set by day, split by sentiment, every day from the first to the last; by week
    (Monday to Sunday) when that spans more than :data:`DAILY_UP_TO` days:
    ``[{"day": first day, "days": 1 or 7, "negative", "neutral", "positive"}]``."""
    counts: dict[tuple[date, str], int] = {}
    for label in SENTIMENT_LABELS:
        for moment, count in by_sentiment.get(label, []):
            counts[moment.date(), label] = count
    if not counts:
        return []
    first, last = min(day for day, _ in counts), max(day for day, _ in counts)
    width = 1 if (last - first).days < DAILY_UP_TO else 7
    if width == 7:
        first -= timedelta(days=first.weekday())
    buckets = {
        first + timedelta(days=n): dict.fromkeys(SENTIMENT_LABELS, 0)
        for n in range(0, (last - first).days + 1, width)
    }
    for (day, label), count in counts.items():
        buckets[day - timedelta(days=(day - first).days % width)][label] += count
    return [{"day": day.isoformat(), "days": width, **sums} for day, sums in buckets.items()]


def why(
    item: dict[str, Any], titles: Mapping[str, str], features: Mapping[str, bool], reader: Labels
) -> tuple[list[tuple[str, str]], list[str]]:
    """What the page says under a result: its tone toward each watched entity that is not neutral, as
    ``(label, entity)`` (a query watchlist by its title), and its risk's reasons in the reader's language,
    less those that only repeat such a tone ("negative toward NovaMart (0.60)")."""
    sentiment, risk = features["sentiment"], features["risk"]
    tones = [
        (tone["label"], entity_titled(tone["entity"], tone["watchlist"], titles))
        for tone in (item.get("entity_sentiments") or [] if sentiment else [])
        if tone["label"] != "neutral"
    ]
    said = {f"{label} toward {entity}" for label, entity in tones}
    reasons = item.get("risk_reasons") or [] if risk and item.get("risk") != "none" else []
    return tones, [reader.reason(reason) for reason in reasons if reason.split(" (")[0] not in said]


EXPORT_FIELDS = (
    "id", "published", "title", "url", "source", "outlet", "domain", "language", "watchlists", "story_id",
    "topic_id", "topic_label", "sentiment", "risk", "risk_points", "risk_reasons",
)  # fmt: skip


def export_rows(index: Index, params: SearchParams, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Every matching item (not folded), newest first, up to ``limit``, with the fields of an export."""
    rows: list[dict[str, Any]] = []
    while len(rows) < limit:
        batch = min(500, limit - len(rows))
        found = index.search(params.request(now, limit=batch, offset=len(rows), sort="date"))
        rows.extend({name: _flat(hit.doc.get(name, "")) for name in EXPORT_FIELDS} for hit in found.hits)
        if len(found.hits) < batch:
            break
    return rows


def _flat(value: Any) -> Any:
    return "; ".join(str(v) for v in value) if isinstance(value, list | tuple) else value
