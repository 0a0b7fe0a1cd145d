"""Source settings: every kind of place OpinionWatch collects from, declared in YAML (no code per site)."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SCHEDULE_PATTERN = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$")

SourceType = Literal[
    "feed", "sitemap", "site", "json_api", "hackernews", "reddit", "mastodon", "bluesky", "gdelt"
]
SCRAPY_TYPES = frozenset({"feed", "sitemap", "site"})
"""Crawled by the Scrapy child process; the others are polled with httpx."""
DEFAULT_URLS = {
    "hackernews": "https://hn.algolia.com/api/v1/search_by_date",
    "reddit": "https://www.reddit.com/search.json",
    "bluesky": "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts",
    "gdelt": "https://api.gdeltproject.org/api/v2/doc/doc",
}
QUERY_TYPES = frozenset({"hackernews", "reddit", "bluesky", "gdelt"})
FIELDS_BY_TYPE = {
    "site": {"start_urls", "allow", "deny", "follow", "link_selector", "max_depth", "max_pages"},
    "sitemap": {"allow", "deny", "max_age_days"},
    "json_api": {"items_path", "cursor_path", "fields", "max_pages", "max_age_days"},
    "mastodon": {"query", "tag", "max_pages"},
    **{kind: {"query", "max_pages", "max_age_days"} for kind in QUERY_TYPES},
}
TYPED_FIELDS = frozenset().union(*FIELDS_BY_TYPE.values())
API_FIELDS = ("url", "id", "title", "text", "published", "author", "language")


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN, description="Unique source name, used in filters and reports.")
    type: SourceType = Field(
        default="feed",
        description="`feed` (RSS 0.9x/1.0/2.0, Atom, JSON Feed), `sitemap` (sitemap index, news sitemap), "
        "`site` (start pages → article links), `json_api` (any JSON API), or a ready API adapter: "
        "`hackernews`, `reddit`, `mastodon`, `bluesky`, `gdelt`.",
    )
    url: str | None = Field(
        default=None,
        description="Feed, sitemap or start page; the API endpoint (for `json_api` a template with `{since}` "
        "and `{cursor}`); the server for `mastodon`. Ready adapters default to the public endpoint.",
    )
    schedule: str = Field(
        default="every 30m", description="How often the scheduler polls it: `every N{s,m,h,d}`."
    )
    language: str | None = Field(
        default=None,
        description="Expected language (ISO 639-1); a short sample that agrees with it settles detection, "
        "and it is the answer when detection is unsure.",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone (`Asia/Shanghai`) of times the site writes without an offset. Default: the "
        "page's own offset where it gives one, else the zone of its country domain (`.cn`, `.de`, `.jp`, "
        "...), else of its declared language and region (`zh-CN`, `zh-TW`, `ja`, ...), else UTC.",
    )
    enabled: bool = Field(default=True, description="Disabled sources are kept in config but not crawled.")
    max_items: int = Field(default=200, ge=1, le=10_000, description="Most new items taken per run.")
    fetch_articles: bool = Field(
        default=True,
        description="`feed` and `sitemap`: fetch each entry's article page (else use the listing's text).",
    )
    query: str | None = Field(default=None, description="API adapters: the search query sent to the API.")
    tag: str | None = Field(default=None, description="`mastodon`: follow this hashtag's public timeline.")
    start_urls: list[str] = Field(default_factory=list, description="`site`: more start pages besides `url`.")
    allow: list[str] = Field(
        default_factory=list,
        description="`site`: regular expressions an article URL must match (any); `sitemap`: entries kept.",
    )
    deny: list[str] = Field(
        default_factory=list, description="`site`, `sitemap`: URLs matching these are skipped."
    )
    follow: list[str] = Field(
        default_factory=list,
        description="`site`: listing pages walked for more links when `max_depth` > 1 (default: any "
        "same-site page that is not an article).",
    )
    link_selector: str | None = Field(
        default=None, description="`site`: CSS selector of the page part whose links are considered."
    )
    max_depth: int = Field(
        default=1, ge=1, le=5, description="`site`: link hops from a start page to articles."
    )
    max_pages: int = Field(
        default=200, ge=1, le=100_000, description="`site`: most pages fetched per run; APIs: result pages."
    )
    max_age_days: float = Field(
        default=3.0, gt=0, description="`sitemap` and APIs: entries older than this many days are skipped."
    )
    items_path: str | None = Field(
        default=None, description="`json_api`: dotted path to the response's list of items (`data.items`)."
    )
    cursor_path: str | None = Field(
        default=None, description="`json_api`: dotted path to the next page's cursor (none: one page)."
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="`json_api`: our field → dotted path in an item, for "
        + ", ".join(API_FIELDS)
        + " (`url` and `text` or `title` required).",
    )

    @field_validator("url", "start_urls")
    @classmethod
    def _http_only(cls, value: str | list[str] | None) -> str | list[str] | None:
        for url in [value] if isinstance(value, str) else value or []:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"expected an http:// or https:// address (got {url!r})")
        return value

    @field_validator("allow", "deny", "follow")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from None
        return patterns

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(fields) - set(API_FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; expected some of {', '.join(API_FIELDS)}")
        return fields

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown IANA timezone {value!r} (e.g. Asia/Shanghai, Europe/London)"
                ) from None
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not SCHEDULE_PATTERN.match(value.strip()):
            raise ValueError("expected `every N` followed by s, m, h or d, e.g. `every 15m`")
        return value.strip()

    @model_validator(mode="before")
    @classmethod
    def _default_url(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("url") and data.get("type") in DEFAULT_URLS:
            return {**data, "url": DEFAULT_URLS[data["type"]]}
        return data

    @model_validator(mode="after")
    def _fits_type(self) -> Source:
        if self.url is None:
            raise ValueError(f"a `{self.type}` source needs a `url`")
        applicable = FIELDS_BY_TYPE.get(self.type, set())
        misplaced = sorted(
            name
            for name in TYPED_FIELDS - applicable
            if getattr(self, name) != Source.model_fields[name].get_default(call_default_factory=True)
        )
        if misplaced:
            raise ValueError(f"`{misplaced[0]}` does not apply to a `{self.type}` source")
        if self.type in QUERY_TYPES and not self.query:
            raise ValueError(f"a `{self.type}` source needs a `query`")
        if self.type == "mastodon" and bool(self.query) == bool(self.tag):
            raise ValueError("a `mastodon` source needs either a `tag` or a `query`")
        if self.type == "json_api" and not (
            self.items_path and "url" in self.fields and {"text", "title"} & set(self.fields)
        ):
            raise ValueError("`json_api` needs `items_path` and `fields` (`url`, and `text` or `title`)")
        return self

    @property
    def endpoint(self) -> str:
        assert self.url is not None  # checked by _fits_type
        return self.url

    @property
    def crawled_by_scrapy(self) -> bool:
        return self.type in SCRAPY_TYPES

    @property
    def interval_seconds(self) -> int:
        match = SCHEDULE_PATTERN.match(self.schedule)
        assert match is not None
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return int(match.group(1)) * unit
