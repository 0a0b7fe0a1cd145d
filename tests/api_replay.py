"""A local server that answers like the public APIs the pollers use, in their documented shapes.

Each API serves the same posts (``ReplayServer.posts``, newest added last) in its own format, with its
own paging (page size 2 where the API pages) and its own since-parameter. ``script`` queues canned
answers per API (rate limits, errors) that are served before the normal ones.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackServer

PAGE = 2


@dataclass
class ReplayPost:
    id: int
    created: datetime
    author: str
    title: str
    text: str
    lang: str = "en"


@dataclass
class Canned:
    status: int
    body: str
    headers: dict[str, str]


class ReplayServer(LoopbackServer):
    def __init__(self, posts: list[ReplayPost]) -> None:
        self.posts = posts
        self.script: dict[str, list[Canned | None]] = defaultdict(list)
        """Per API (first path segment): answers served before normal ones; None answers normally."""
        self.requests: list[tuple[str, dict[str, str]]] = []
        super().__init__(_handler(self))

    def newest_first(self) -> list[ReplayPost]:
        return sorted(self.posts, key=lambda p: p.created, reverse=True)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hackernews(server: ReplayServer, q: dict[str, str]) -> Any:
    since = int(q["numericFilters"].split(">")[1])
    found = [p for p in server.newest_first() if p.created.timestamp() > since]
    page = int(q.get("page", "0"))
    hits = []
    for post in found[page * PAGE : (page + 1) * PAGE]:
        hit = {
            "objectID": str(post.id),
            "created_at": _z(post.created),
            "created_at_i": int(post.created.timestamp()),
            "author": post.author,
            "points": 3,
            "_tags": ["story", f"author_{post.author}", f"story_{post.id}"],
        }
        if post.id % 2:
            hit.update(
                title=post.title, url=f"https://news.example/{post.id}", story_text=None, num_comments=0
            )
        else:
            hit.update(comment_text=f"<p>{post.text}</p>", story_title=post.title, title=None, url=None)
        hits.append(hit)
    pages = (len(found) + PAGE - 1) // PAGE
    return {"hits": hits, "nbHits": len(found), "page": page, "nbPages": pages, "hitsPerPage": PAGE}


def reddit(server: ReplayServer, q: dict[str, str]) -> Any:
    posts = server.newest_first()
    start = next((i + 1 for i, p in enumerate(posts) if f"t3_{p.id}" == q.get("after")), 0)
    page = posts[start : start + PAGE]
    children = [
        {
            "kind": "t3",
            "data": {
                "id": str(p.id),
                "name": f"t3_{p.id}",
                "title": p.title,
                "selftext": p.text,
                "author": p.author,
                "subreddit": "news",
                "permalink": f"/r/news/comments/{p.id}/post/",
                "url": f"https://news.example/{p.id}",
                "created_utc": p.created.timestamp(),
            },
        }
        for p in page
    ]
    after = f"t3_{page[-1].id}" if start + PAGE < len(posts) else None
    return {
        "kind": "Listing",
        "data": {"after": after, "before": None, "dist": len(children), "children": children},
    }


def _status(server: ReplayServer, post: ReplayPost) -> dict[str, Any]:
    return {
        "id": str(100000 + post.id),
        "created_at": _z(post.created),
        "content": f"<p>{post.text}</p><p>#novamart</p>",
        "url": server.url(f"/@{post.author}/{100000 + post.id}"),
        "uri": server.url(f"/users/{post.author}/statuses/{100000 + post.id}"),
        "account": {"acct": post.author, "username": post.author},
        "language": post.lang,
        "reblog": None,
    }


def mastodon_statuses(server: ReplayServer, q: dict[str, str]) -> list[dict[str, Any]]:
    posts = server.newest_first()
    limit = min(int(q.get("limit", "20")), 40)
    if "min_id" in q:
        newer = [p for p in reversed(posts) if 100000 + p.id > int(q["min_id"])][:limit]
        return [_status(server, p) for p in reversed(newer)]
    return [_status(server, p) for p in posts[:limit]]


def bluesky(server: ReplayServer, q: dict[str, str]) -> Any:
    since = datetime.fromisoformat(q["since"].replace("Z", "+00:00"))
    found = [p for p in server.newest_first() if p.created >= since]
    offset = int(q.get("cursor", "0"))
    posts = [
        {
            "uri": f"at://did:plc:{p.author}/app.bsky.feed.post/3k{p.id}",
            "cid": f"bafyrei{p.id}",
            "author": {
                "did": f"did:plc:{p.author}",
                "handle": f"{p.author}.bsky.social",
                "displayName": p.author,
            },
            "record": {
                "$type": "app.bsky.feed.post",
                "text": p.text,
                "createdAt": _z(p.created),
                "langs": [p.lang],
            },
            "indexedAt": _z(p.created),
            "likeCount": 1,
        }
        for p in found[offset : offset + PAGE]
    ]
    answer: dict[str, Any] = {"hitsTotal": len(found), "posts": posts}
    if offset + PAGE < len(found):
        answer["cursor"] = str(offset + PAGE)
    return answer


def gdelt(server: ReplayServer, q: dict[str, str]) -> Any:
    if len(q.get("query", "")) < 3:
        return "The specified phrase is too short."
    start = datetime.strptime(q["startdatetime"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    articles = [
        {
            "url": f"https://news.example/gdelt/{p.id}",
            "url_mobile": "",
            "title": p.title,
            "seendate": p.created.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
            "socialimage": "",
            "domain": "news.example",
            "language": {"en": "English", "zh": "Chinese"}[p.lang],
            "sourcecountry": "United States",
        }
        for p in server.newest_first()
        if p.created >= start
    ]
    return {"articles": articles} if articles else {}


ROUTES = {
    "/hn/api/v1/search_by_date": hackernews,
    "/reddit/search.json": reddit,
    "/mastodon/api/v1/timelines/tag/novamart": mastodon_statuses,
    "/mastodon/api/v2/search": lambda s, q: {
        "accounts": [],
        "statuses": mastodon_statuses(s, q),
        "hashtags": [],
    },
    "/bsky/xrpc/app.bsky.feed.searchPosts": bluesky,
    "/gdelt/api/v2/doc/doc": gdelt,
}


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            server.requests.append((parts.path, query))
            api = parts.path.split("/")[1]
            canned = server.script[api].pop(0) if server.script[api] else None
            if canned is not None:
                return self.reply(canned.status, canned.body, canned.headers)
            route = ROUTES.get(parts.path)
            if route is None:
                return self.reply(404, json.dumps({"error": "NotFound"}), {})
            answer = route(server, query)
            body = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
            self.reply(200, body, {})

        def reply(self, status: int, body: str, headers: dict[str, str]) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
