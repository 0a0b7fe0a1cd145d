"""Serve the news world over real HTTP on 127.0.0.1, one port per site plus a social API.

Use as a context manager; ``truth()`` gives the planted truth with the real URLs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opinionwatch.newsworld import render
from opinionwatch.newsworld.cases import CASE_SITES, Case, case_listing, case_page, cases
from opinionwatch.newsworld.generator import Article, Site, World

HOST = "127.0.0.1"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class NewsWorldServer:
    """Start with ``with NewsWorldServer(world) as server:``; every site gets its own port."""

    def __init__(self, world: World, host: str = HOST) -> None:
        self.world = world
        self.host = host
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self.requests: list[tuple[str, str, str]] = []
        """(site, method, path) of every request served, for tests of politeness."""

    def __enter__(self) -> NewsWorldServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        for site in self.world.sites:
            self._serve(site.name, _site_handler(self, site))
        self._serve("api", _api_handler(self))

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def _serve(self, name: str, handler: type[BaseHTTPRequestHandler]) -> None:
        server = _QuietServer((self.host, 0), handler)
        self._servers[name] = server
        thread = threading.Thread(target=server.serve_forever, name=f"newsworld-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def base_url(self, site: str) -> str:
        port = self._servers[site].server_address[1]
        return f"http://{self.host}:{port}"

    def feed_url(self, site: str) -> str:
        return f"{self.base_url(site)}/feed.xml"

    @property
    def api_url(self) -> str:
        return f"{self.base_url('api')}/api/v1/posts"

    def url_of(self, article: Article) -> str:
        return f"{self.base_url(article.site)}{article.path}"

    def cases_url(self, lang: str) -> str:
        """The listing of the real-page cases in ``lang`` (``en`` or ``zh``)."""
        return f"{self.base_url(CASE_SITES[lang])}/cases/"

    def case_url(self, case: Case) -> str:
        return f"{self.base_url(CASE_SITES[case.lang])}{case.path}"

    def truth(self) -> dict[str, Any]:
        """The planted truth, with the URLs this server gives the articles."""
        world = self.world
        return {
            "seed": world.seed,
            "today": world.today.isoformat(),
            "burst_day": world.burst_day.isoformat(),
            "top_story": world.top_story,
            "sites": {s.name: {"lang": s.lang, "feed": self.feed_url(s.name)} for s in world.sites},
            "articles": [
                {
                    "id": a.id,
                    "site": a.site,
                    "url": self.url_of(a),
                    "title": a.title,
                    "lang": a.lang,
                    "published": a.published.isoformat(),
                    "story": a.story,
                    "event": a.event or a.story,
                    "variant": a.variant,
                    "watchlists": list(a.watchlists),
                    "negative": a.negative,
                    "confuser": a.confuser,
                    "crawlable": a.crawlable,
                    "topic": a.topic,
                    "tone": dict(a.tone),
                }
                for a in world.articles
            ],
            "posts": [
                {"id": p.id, "lang": p.lang, "text": p.text, "negative": p.negative} for p in world.posts
            ],
            "calendar": world.calendar,
            "cases": [
                {
                    "name": case.name,
                    "url": self.case_url(case),
                    "lang": case.lang,
                    "title": case.title,
                    "published": case.published,
                    "precision": case.precision,
                    "expected_matches": case.expected_matches,
                }
                for case in cases(world.today)
            ],
        }

    def write_truth(self, path: Path) -> None:
        path.write_text(json.dumps(self.truth(), ensure_ascii=False, indent=2), encoding="utf-8")


def _site_handler(server: NewsWorldServer, site: Site) -> type[BaseHTTPRequestHandler]:
    world = server.world
    pages = {a.path: a for a in world.articles if a.site == site.name}
    site_cases = [case for case in cases(world.today) if CASE_SITES[case.lang] == site.name]
    case_pages = {case.path: case for case in site_cases}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = urlsplit(self.path).path
            server.requests.append((site.name, "GET", path))
            base = server.base_url(site.name)
            if world.is_broken(site.name):
                return self._send("service unavailable", "text/plain", "utf-8", status=503)
            if path == "/robots.txt":
                return self._send(render.robots(base), "text/plain; charset=utf-8", "utf-8")
            if path == "/feed.xml":
                return self._send_feed(
                    render.feed(world, site, base).encode(site.encoding, "xmlcharrefreplace")
                )
            if path == "/sitemap.xml":
                return self._send(render.sitemap(world, site, base), "application/xml", "utf-8")
            if path in ("/", "/index.html"):
                return self._send(render.home_page(world, site, base), "text/html; charset=utf-8", "utf-8")
            if path == "/cases/" and site_cases:
                listing = case_listing(site_cases, site.title, base)
                return self._send(listing, "text/html; charset=utf-8", "utf-8")
            if path in case_pages:
                others = [case for case in site_cases if case.path != path]
                page = case_page(case_pages[path], site.title, base, others)
                return self._send(page, "text/html; charset=utf-8", "utf-8")
            article = pages.get(path)
            if article is None or not world.visible(article):
                return self._send("not found", "text/plain", "utf-8", status=404)
            declared = f"text/html; charset={site.declared_charset}" if site.declared_charset else "text/html"
            return self._send(render.article_page(world, site, article, base), declared, site.encoding)

        def _send_feed(self, body: bytes) -> None:
            """Feeds carry ETag and Last-Modified and answer conditional requests with 304."""
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            newest = max((a.published for a in world.articles_of(site.name)), default=None)
            modified = format_datetime(newest, usegmt=True) if newest else None
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            if modified:
                self.send_header("Last-Modified", modified)
            self.end_headers()
            self.wfile.write(body)

        def _send(self, text: str, content_type: str, encoding: str, status: int = 200) -> None:
            body = text.encode(encoding, errors="xmlcharrefreplace")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _api_handler(server: NewsWorldServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            parts = urlsplit(self.path)
            server.requests.append(("api", "GET", parts.path))
            if parts.path != "/api/v1/posts":
                return self._send(404, json.dumps({"error": "not found"}))
            query = parse_qs(parts.query)
            try:
                since = datetime.fromisoformat(query["since"][0]) if "since" in query else None
                cursor = int(query.get("cursor", ["0"])[0])
                limit = min(int(query.get("limit", ["20"])[0]), 100)
            except ValueError as exc:
                return self._send(400, json.dumps({"error": f"bad parameter: {exc}"}))
            base = server.base_url("api")
            return self._send(200, render.api_posts(server.world, since, cursor, limit, base))

        def _send(self, status: int, text: str) -> None:
            body = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
