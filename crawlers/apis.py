"""API adapters: the generic JSON poller and the public APIs teams use, each a small async function.

An adapter reads pages from ``poll.client`` into ``poll.posts`` (so pages read before a failure are
kept) and returns the since-cursor for the next run; ``crawlers.polling`` does the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin

import lxml.html

from config.sources import Source
from crawlers.feeds import parse_iso_date
from crawlers.http import FetchError, SafeClient

GDELT_LANGUAGES = {"English": "en", "Chinese": "zh", "German": "de", "French": "fr", "Spanish": "es"}


@dataclass
class Post:
    url: str
    text: str
    title: str | None = None
    published: datetime | None = None
    author: str | None = None
    language: str | None = None


@dataclass
class Poll:
    source: Source
    client: SafeClient
    cursor: str | None
    """Where the last handed-on run ended; None on the first run."""
    now: datetime
    posts: list[Post] = field(default_factory=list)
    pages: int = 0
    problems: Counter[str] = field(default_factory=Counter)

    @property
    def oldest(self) -> datetime:
        return self.now - timedelta(days=self.source.max_age_days)

    async def get_json(self, url: str, params: dict[str, str] | None = None) -> Any:
        document = await self.client.get_json(url, params)
        self.pages += 1
        return document


Adapter = Callable[[Poll], Awaitable[str | None]]


async def hackernews(poll: Poll) -> str | None:
    """Algolia's Hacker News search (``search_by_date``): stories and comments newer than the cursor."""
    since = int(poll.cursor) if poll.cursor else int(poll.oldest.timestamp())
    newest = since
    for page in range(poll.source.max_pages):
        params = {
            "query": _query(poll),
            "tags": "(story,comment)",
            "numericFilters": f"created_at_i>{since}",
            "hitsPerPage": "100",
            "page": str(page),
        }
        document = await poll.get_json(poll.source.endpoint, params)
        for hit in document["hits"]:
            item_url = f"https://news.ycombinator.com/item?id={hit['objectID']}"
            if hit.get("comment_text"):
                title = f"Comment on: {hit.get('story_title') or 'Hacker News'}"
                poll.posts.append(_post(item_url, html_text(hit["comment_text"]), title, hit))
            else:
                text = html_text(hit.get("story_text") or "") or hit.get("title") or ""
                poll.posts.append(_post(hit.get("url") or item_url, text, hit.get("title"), hit))
            newest = max(newest, int(hit["created_at_i"]))
        if page + 1 >= int(document.get("nbPages", 0)):
            break
    return str(newest)


def _post(url: str, text: str, title: str | None, hit: dict[str, Any]) -> Post:
    return Post(url, text, title, parse_iso_date(hit.get("created_at")), hit.get("author"))


async def reddit(poll: Poll) -> str | None:
    """Reddit's search listing (``search.json``, newest first), paged with ``after`` down to the cursor."""
    since = float(poll.cursor) if poll.cursor else poll.oldest.timestamp()
    newest, after = since, None
    for _ in range(poll.source.max_pages):
        params = {"q": _query(poll), "sort": "new", "limit": "100", "raw_json": "1"}
        if after:
            params["after"] = after
        listing = (await poll.get_json(poll.source.endpoint, params))["data"]
        reached = False
        for child in listing["children"]:
            data = child["data"]
            created = float(data["created_utc"])
            if created <= since:
                reached = True
                break
            url = urljoin(poll.source.endpoint, data["permalink"])
            published = datetime.fromtimestamp(created, UTC)
            text = data.get("selftext") or data["title"]
            poll.posts.append(Post(url, text, data["title"], published, data.get("author")))
            newest = max(newest, created)
        after = listing.get("after")
        if reached or not after:
            break
    return str(newest)


async def mastodon(poll: Poll) -> str | None:
    """A Mastodon server's hashtag timeline or status search, forward from the last status id seen."""
    base = poll.source.endpoint.rstrip("/")
    if poll.source.tag:
        url, params = f"{base}/api/v1/timelines/tag/{quote(poll.source.tag.lstrip('#'))}", {}
    else:
        url, params = f"{base}/api/v2/search", {"q": _query(poll), "type": "statuses", "resolve": "false"}
    newest = poll.cursor
    for _ in range(poll.source.max_pages):
        page_params = {**params, "limit": "40", **({"min_id": newest} if newest else {})}
        document = await poll.get_json(url, page_params)
        statuses = document if isinstance(document, list) else document["statuses"]
        for status in statuses:
            newest = max(newest or "0", status["id"], key=int)
            original = status.get("reblog") or status
            published = parse_iso_date(original.get("created_at"))
            if published and published < poll.oldest:
                continue
            text = html_text(original.get("content") or "")
            author = original.get("account", {}).get("acct")
            url_of = original.get("url") or original["uri"]
            poll.posts.append(Post(url_of, text, None, published, author, original.get("language")))
        if poll.cursor is None or len(statuses) < 40:
            break  # the first run reads the newest page only
    return newest


async def bluesky(poll: Poll) -> str | None:
    """Bluesky ``app.bsky.feed.searchPosts`` (sort=latest), from the newest post time handed on."""
    since = poll.cursor or poll.oldest.isoformat().replace("+00:00", "Z")
    newest, page_cursor = since, None
    for _ in range(poll.source.max_pages):
        params = {"q": _query(poll), "sort": "latest", "limit": "100", "since": since}
        if page_cursor:
            params["cursor"] = page_cursor
        document = await poll.get_json(poll.source.endpoint, params)
        for post in document["posts"]:
            record, handle = post["record"], post["author"]["handle"]
            url = f"https://bsky.app/profile/{handle}/post/{post['uri'].rsplit('/', 1)[-1]}"
            language = (record.get("langs") or [None])[0]
            published = parse_iso_date(record.get("createdAt"))
            poll.posts.append(Post(url, record.get("text", ""), None, published, handle, language))
            newest = max(newest, record.get("createdAt") or newest)
        page_cursor = document.get("cursor")
        if not page_cursor or not document["posts"]:
            break
    return newest


async def gdelt(poll: Poll) -> str | None:
    """GDELT DOC 2.0 article list (``mode=ArtList``, JSON), from the newest ``seendate`` handed on."""
    start = poll.cursor or poll.oldest.strftime("%Y%m%d%H%M%S")
    params = {
        "query": _query(poll),
        "mode": "ArtList",
        "format": "json",
        "maxrecords": "250",
        "sort": "DateDesc",
        "startdatetime": start,
    }
    fetched = await poll.client.get(poll.source.endpoint, params)
    poll.pages += 1
    if fetched.status >= 400 or not fetched.body.lstrip().startswith(b"{"):
        message = fetched.body[:200].decode("utf-8", "replace").strip()  # GDELT explains errors in plain text
        raise FetchError("api_error", f"GDELT answered {fetched.status}: {message!r}")
    newest = start
    for article in fetched.json().get("articles", []):
        seen = datetime.strptime(article["seendate"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        language = GDELT_LANGUAGES.get(article.get("language", ""))
        title = article.get("title") or ""
        poll.posts.append(Post(article["url"], title, title, seen, article.get("domain"), language))
        newest = max(newest, seen.strftime("%Y%m%d%H%M%S"))
    return newest


async def json_api(poll: Poll) -> str | None:
    """Any JSON API: a URL template with ``{since}`` and ``{cursor}``, items and fields by dotted path."""
    source = poll.source
    since = poll.cursor or poll.oldest.isoformat()
    newest, page_cursor = since, ""
    for _ in range(source.max_pages):
        url = source.endpoint.replace("{since}", quote(since)).replace("{cursor}", quote(page_cursor))
        document = await poll.get_json(url)
        items = dig(document, source.items_path or "")
        if not isinstance(items, list):
            raise FetchError("unexpected_response", f"{url}: `{source.items_path}` in the answer is no list")
        for item in items:
            post = _mapped(item, source.fields)
            if post is None:
                poll.problems["item_without_url"] += 1
                continue
            poll.posts.append(post)
            if post.published:
                newest = max(newest, post.published.isoformat())
        following = dig(document, source.cursor_path) if source.cursor_path else None
        if following in (None, "") or not items:
            break
        page_cursor = str(following)
    return newest


def _mapped(item: Any, fields: dict[str, str]) -> Post | None:
    value = {name: dig(item, path) for name, path in fields.items()}
    if not value.get("url"):
        return None
    published = value.get("published")
    return Post(
        url=str(value["url"]),
        text=str(value.get("text") or value.get("title") or ""),
        title=value.get("title"),
        published=parse_iso_date(published) if isinstance(published, str) else None,
        author=str(value["author"]) if value.get("author") else None,
        language=value.get("language"),
    )


def dig(document: Any, path: str) -> Any:
    """``document`` followed along a dotted path (``data.items``); None where the path ends early."""
    for key in filter(None, path.split(".")):
        if isinstance(document, dict):
            document = document.get(key)
        elif isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        else:
            return None
    return document


def html_text(fragment: str) -> str:
    """Plain text of an HTML fragment (posts and comments), paragraphs on their own lines."""
    if "<" not in fragment:
        return fragment.strip()
    spaced = fragment.replace("<br>", "\n").replace("</p>", "</p>\n")
    root = lxml.html.fragment_fromstring(spaced, create_parent="div")
    return root.text_content().strip()


def _query(poll: Poll) -> str:
    assert poll.source.query is not None  # required for these types by the settings model
    return poll.source.query


ADAPTERS: dict[str, Adapter] = {
    "hackernews": hackernews,
    "reddit": reddit,
    "mastodon": mastodon,
    "bluesky": bluesky,
    "gdelt": gdelt,
    "json_api": json_api,
}
