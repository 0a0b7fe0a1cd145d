"""A local fault server with named routes, for tests of the crawlers against bad sites and bad actors.

Routes (GET):
  /robots.txt                 the server's robots variant: allow, disallow-private, disallow-all, garbage, error
  /ok/<n>                     a good article page
  /status/<code>              answers that status
  /retry-after/<wait>/<key>   first request per key: 429 with Retry-After: <wait>; then the page
  /retry-date/<key>           first request per key: 503 with an HTTP-date Retry-After 1 s ahead; then the page
  /hang                       never answers within a test's timeout
  /reset                      closes the connection without an answer
  /huge                       a page of 1 MB (tests cap pages lower)
  /gzip-bomb                  12 KB gzip that inflates to 12 MB
  /lying-charset              a GBK page whose header says utf-8
  /malformed-feed             a feed cut off mid-element
  /redirect-loop              redirects to itself forever
  /redirect-private           redirects to the cloud metadata address 169.254.169.254
  /feed.xml                   an RSS feed whose entries are the routes named in ``FEED_ROUTES``
  /one-entry/<route>          a JSON Feed with one entry, pointing at <route>
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer

ROBOTS = {
    "allow": "User-agent: *\nDisallow:\n",
    "disallow-private": "User-agent: *\nDisallow: /private/\n",
    "disallow-all": "User-agent: *\nDisallow: /\n",
    "garbage": "\x00\x01<html>not robots</html>\n\xff",
}
FEED_ROUTES = [
    "ok/1",
    "ok/2",
    "private/secret",
    "status/404",
    "status/500",
    "hang",
    "reset",
    "huge",
    "gzip-bomb",
    "lying-charset",
    "redirect-loop",
    "redirect-private",
]
GOOD_TEXT = "NovaMart opened a new warehouse and hired two hundred people in the harbour district. "
GBK_TEXT = "诺瓦商城今日宣布在华南地区新建物流中心，预计明年投入使用。" * 8


class FaultServer(LoopbackServer):
    """``with FaultServer(robots="disallow-private") as server: server.url("/hang")``."""

    def __init__(self, robots: str = "disallow-private") -> None:
        self.robots = robots
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        super().__init__(_handler(self))

    def record(self, path: str) -> int:
        with self.lock:
            self.hits[path] += 1
            self.times.setdefault(path, []).append(time.monotonic())
            return self.hits[path]


def article(title: str, text: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + f"<p>{text}</p>" * 6
        + "</article></body></html>"
    )


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = self.path.split("?")[0]
            count = server.record(path)
            parts = path.strip("/").split("/")
            route = ROUTES.get(parts[0])
            if route is None:
                return self.reply(404, b"no such route", "text/plain")
            route(self, parts[1:], count)

        def reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def page(self, title: str = "Good page") -> None:
            self.reply(200, article(title, GOOD_TEXT).encode(), "text/html; charset=utf-8")

    def robots(h: Handler, args: list[str], count: int) -> None:
        if server.robots == "error":
            return h.reply(500, b"robots broke", "text/plain")
        h.reply(200, ROBOTS[server.robots].encode("latin-1"), "text/plain")

    def retry_after(h: Handler, args: list[str], count: int) -> None:
        if count == 1:
            return h.reply(429, b"slow down", "text/plain", Retry_After=args[0])
        h.page("Page after waiting")

    def retry_date(h: Handler, args: list[str], count: int) -> None:
        if count == 1:
            when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
            return h.reply(503, b"maintenance", "text/plain", Retry_After=when)
        h.page("Page after maintenance")

    def hang(h: Handler, args: list[str], count: int) -> None:
        time.sleep(8)
        h.page()

    def reset(h: Handler, args: list[str], count: int) -> None:
        h.close_connection = True
        h.connection.shutdown(2)

    def gzip_bomb(h: Handler, args: list[str], count: int) -> None:
        h.reply(200, BOMB, "text/html", Content_Encoding="gzip")

    def redirect(target: str) -> Any:
        def route(h: Handler, args: list[str], count: int) -> None:
            location = target or f"/redirect-loop?n={count}"
            h.reply(302, b"", "text/plain", Location=location)

        return route

    def feed(h: Handler, args: list[str], count: int) -> None:
        items = "".join(
            f"<item><title>Entry {route}</title><link>{server.url(route)}</link>"
            f"<description>Feed summary of {route}, about NovaMart.</description>"
            f"<pubDate>Sun, 22 Nov 2026 0{i % 10}:00:00 GMT</pubDate></item>"
            for i, route in enumerate(FEED_ROUTES)
        )
        body = (
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>Faults</title>{items}</channel></rss>"
        )
        h.reply(200, body.encode(), "application/rss+xml")

    def one_entry(h: Handler, args: list[str], count: int) -> None:
        link = server.url("/".join(args))
        feed = '{"version": "https://jsonfeed.org/version/1.1", "title": "one", "items": [{"id": "1", '
        feed += f'"url": "{link}", "title": "One entry", "content_text": "About NovaMart."}}]}}'
        h.reply(200, feed.encode(), "application/feed+json")

    ROUTES: dict[str, Any] = {
        "one-entry": one_entry,
        "robots.txt": robots,
        "ok": lambda h, args, count: h.page(f"Good page {args[0]}"),
        "private": lambda h, args, count: h.page("Private page"),
        "status": lambda h, args, count: h.reply(int(args[0]), b"status page", "text/plain"),
        "retry-after": retry_after,
        "retry-date": retry_date,
        "hang": hang,
        "reset": reset,
        "huge": lambda h, args, count: h.reply(200, b"<p>" + b"x" * 1_000_000 + b"</p>", "text/html"),
        "gzip-bomb": gzip_bomb,
        "lying-charset": lambda h, args, count: h.reply(
            200,
            article("诺瓦商城", GBK_TEXT).replace("'en'", "'zh'").encode("gbk"),
            "text/html; charset=utf-8",
        ),
        "malformed-feed": lambda h, args, count: h.reply(
            200, b"<?xml version='1.0'?><rss><channel><item><title>cut", "application/rss+xml"
        ),
        "redirect-loop": redirect(""),
        "redirect-private": redirect("http://169.254.169.254/latest/meta-data/"),
        "feed.xml": feed,
    }
    return Handler


BOMB = gzip.compress(b"<html>" + b"\x00" * 12_000_000, compresslevel=9)
