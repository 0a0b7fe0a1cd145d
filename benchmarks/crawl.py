"""Crawl speed: our site spider against a bare Scrapy spider on the same local site, in one run.

    python benchmarks/crawl.py [--articles 2000] [--rounds 2]

A local site (start page → listing pages of 50 links → article pages of ~6 KB) is crawled by
OpinionWatch's ``site`` source (safety middleware, robots.txt, Retry-After, state lookups, items
written as JSON lines, all in its child process) and by a bare Scrapy spider that only follows the
same links, with the same concurrency and politeness (AutoThrottle off in both; ours with its default
AutoThrottle is measured once more and reported beside the ratio). Reads no data set (``--data``
is accepted for symmetry).
Prints pages/s for both and the ratio (target ≥ 0.9), best of ``--rounds``, and ends with one JSON line
``{"local_site": {"pages": …, "ours_pages_per_s": …, "bare_pages_per_s": …, "ratio": …}}``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.settings import CrawlSettings, Source  # noqa: E402
from crawlers.run import crawl  # noqa: E402

PER_LISTING = 50
CONCURRENCY = 16
PARAGRAPH = "<p>" + "The harbour authority said the new terminal would open next spring. " * 8 + "</p>"


def _site(articles: int) -> type[BaseHTTPRequestHandler]:
    listings = (articles + PER_LISTING - 1) // PER_LISTING

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path == "/robots.txt":
                return self._send("User-agent: *\nDisallow: /private/\n", "text/plain")
            if self.path == "/":
                links = "".join(f'<li><a href="/list/{n}">Section page {n}</a></li>' for n in range(listings))
                return self._send(f"<html><body><ul>{links}</ul></body></html>", "text/html")
            if self.path.startswith("/list/"):
                first = int(self.path.rsplit("/", 1)[1]) * PER_LISTING
                numbers = range(first, min(first + PER_LISTING, articles))
                links = "".join(f'<li><a href="/a/{n}.html">Article {n}</a></li>' for n in numbers)
                return self._send(f"<html><body><ul>{links}</ul></body></html>", "text/html")
            if self.path.startswith("/a/"):
                title = f"Article {self.path}"
                head = f"<html><head><title>{title}</title></head>"
                page = f"{head}<body><h1>{title}</h1>{PARAGRAPH * 10}</body></html>"
                return self._send(page, "text/html; charset=utf-8")
            self._send("not found", "text/plain", 404)

        def _send(self, text: str, content_type: str, status: int = 200) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


BARE_SPIDER = textwrap.dedent(
    """
    import json, sys
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    class Bare(Spider):
        name = "bare"
        start_urls = [sys.argv[1]]

        def parse(self, response):
            for href in response.css("a::attr(href)").getall():
                if "/list/" in href:
                    yield response.follow(href, self.parse)
                elif "/a/" in href:
                    yield response.follow(href, self.article)

        def article(self, response):
            yield {"url": response.url, "bytes": len(response.body)}

    process = CrawlerProcess({
        "LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 16, "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": int(sys.argv[2]), "TELNETCONSOLE_ENABLED": False,
        "FEEDS": {sys.argv[3]: {"format": "jsonlines"}},
    })
    process.crawl(Bare)
    process.start()
    """
)


def run_ours(base: str, articles: int, folder: Path, autothrottle: bool = False) -> tuple[int, float]:
    source = Source(
        name="bench",
        type="site",
        url=base + "/",
        allow=[r"/a/\d+\.html$"],
        follow=[r"/list/\d+$"],
        max_depth=2,
        max_pages=articles * 2,
        max_items=10_000,
    )
    settings = CrawlSettings(  # the bare spider's politeness: no AutoThrottle (measured separately below)
        allow_private=["127.0.0.1"],
        download_delay_s=0,
        concurrency_per_domain=CONCURRENCY,
        time_budget_s=900,
        autothrottle=autothrottle,
    )
    started = time.perf_counter()
    result = crawl([source], settings, folder / "state.sqlite", folder)
    seconds = time.perf_counter() - started
    assert sum(1 for item in result.items if item.html) == articles, result.reports
    return result.reports[0].fetched, seconds


def run_bare(base: str, articles: int, folder: Path) -> tuple[int, float]:
    script, out = folder / "bare.py", folder / "bare.jsonl"
    script.write_text(BARE_SPIDER, encoding="utf-8")
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, str(script), base + "/", str(CONCURRENCY), str(out)], check=True)
    seconds = time.perf_counter() - started
    fetched = sum(1 for _ in out.open(encoding="utf-8"))
    assert fetched == articles
    listings = (articles + PER_LISTING - 1) // PER_LISTING
    return fetched + listings + 1, seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data"), help="unused: the site is generated"
    )
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _site(args.articles))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):  # alternate, so drift in machine load hits both
            folder = Path(tmp) / f"round{round_number}"
            folder.mkdir()
            pages, seconds = run_ours(base, args.articles, folder)
            ours.append(pages / seconds)
            pages_bare, seconds_bare = run_bare(base, args.articles, folder)
            bare.append(pages_bare / seconds_bare)
            print(
                f"round {round_number + 1}: ours {pages} pages in {seconds:.1f}s, bare {pages_bare} in ",
                end="",
            )
            print(f"{seconds_bare:.1f}s")
        folder = Path(tmp) / "throttled"
        folder.mkdir()
        pages_throttled, seconds_throttled = run_ours(base, args.articles, folder, autothrottle=True)
    server.shutdown()
    best_ours, best_bare = max(ours), max(bare)
    throttled = pages_throttled / seconds_throttled
    print(f"{'spider':<12}{'pages/s':>10}")
    print(f"{'ours':<12}{best_ours:>10.1f}")
    print(f"{'bare scrapy':<12}{best_bare:>10.1f}")
    print(f"{'ours+autothrottle':<12}{throttled:>10.1f}  (default politeness; not in the ratio)")
    print(f"ratio {best_ours / best_bare:.2f} (target >= 0.9)")
    figures = {
        "pages": pages,
        "ours_pages_per_s": round(best_ours, 1),
        "bare_pages_per_s": round(best_bare, 1),
        "ratio": round(best_ours / best_bare, 3),
        "ours_autothrottle_pages_per_s": round(throttled, 1),
    }
    print(json.dumps({"local_site": figures}))


if __name__ == "__main__":
    main()
