"""Run the API pollers of a crawl (httpx, async, all sources at once) and turn posts into raw items."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from config.settings import CrawlSettings, Source
from crawlers.apis import ADAPTERS, Poll, Post
from crawlers.http import FetchError, SafeClient
from crawlers.records import RawItem, SourceMarks, SourceReport
from crawlers.state import CrawlState
from crawlers.urls import canonicalize

log = logging.getLogger(__name__)


def poll_sources(
    sources: list[Source],
    crawl: CrawlSettings,
    state_db: Path,
    marks: dict[str, SourceMarks],
    now: datetime | None = None,
) -> tuple[list[RawItem], list[SourceReport]]:
    """Poll every API source once; items already handed on (by canonical URL) are left out."""
    if not sources:
        return [], []
    return asyncio.run(_poll_all(sources, crawl, state_db, marks, now or datetime.now(UTC)))


async def _poll_all(
    sources: list[Source], crawl: CrawlSettings, state_db: Path, marks: dict[str, SourceMarks], now: datetime
) -> tuple[list[RawItem], list[SourceReport]]:
    state = CrawlState(state_db, readonly=True) if state_db.exists() else None
    try:
        async with SafeClient(crawl) as client:
            polls = [Poll(s, client, marks.get(s.name, SourceMarks()).cursor, now) for s in sources]
            reports = await asyncio.gather(*(_poll_one(poll, crawl.time_budget_s) for poll in polls))
        items = []
        for poll, report in zip(polls, reports, strict=True):
            items.extend(_new_items(poll, report, state))
        return items, list(reports)
    finally:
        if state:
            state.close()


async def _poll_one(poll: Poll, budget_s: float) -> SourceReport:
    report = SourceReport(source=poll.source.name)
    started = time.monotonic()
    try:
        cursor = await asyncio.wait_for(ADAPTERS[poll.source.type](poll), timeout=budget_s)
        report.listing_ok = True
        report.marks.cursor = cursor
    except FetchError as exc:
        report.count("errors", exc.reason)
        log.warning("source %s: %s", poll.source.name, exc, extra={"source": poll.source.name})
    except TimeoutError:
        report.count("errors", "time_budget")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.count("errors", "unexpected_response")
        log.warning("source %s: answer not in the expected shape: %r", poll.source.name, exc)
    for reason, n in poll.problems.items():
        report.count("errors", reason, n)
    report.fetched = poll.pages
    report.listed = len(poll.posts)
    report.duration_s = round(time.monotonic() - started, 3)
    return report


def _new_items(poll: Poll, report: SourceReport, state: CrawlState | None) -> list[RawItem]:
    by_url: dict[str, Post] = {}
    for post in sorted(poll.posts, key=lambda p: p.published or poll.now, reverse=True):
        by_url.setdefault(canonicalize(post.url), post)
    seen = state.seen(by_url) if state else set()
    if seen:
        report.count("skipped", "already_seen", len(seen))
    fresh = [(url, post) for url, post in by_url.items() if url not in seen]
    if len(fresh) > poll.source.max_items:
        report.count("skipped", "max_items", len(fresh) - poll.source.max_items)
        report.marks.cursor = None  # the rest waits for the next run, which starts from the old cursor
    items = [_raw_item(poll, url, post) for url, post in fresh[: poll.source.max_items]]
    report.new = len(items)
    return items


def _raw_item(poll: Poll, url: str, post: Post) -> RawItem:
    return RawItem(
        source=poll.source.name,
        url=url,
        kind="post",
        feed_title=post.title,
        feed_published=post.published,
        text=post.text,
        author=post.author,
        language_hint=post.language or poll.source.language,
        timezone=poll.source.timezone,
        fetched_at=poll.now,
    )
