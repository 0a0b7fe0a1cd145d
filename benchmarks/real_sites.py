"""The real page sets served from loopback as news sites, run through one real cycle and searched.

    python benchmarks/real_sites.py [--data ../shared/data] [--sets gne_zh_news_html ...] [--keep DIR]

What benchmarks/extraction.py scores page by page, here through the whole path a user's run takes: the
crawl over HTTP (each page served as its original bytes, with no charset in the header), processing,
the encoder (the configured default, multilingual-e5-small int8), stories, the embedded index, and
search. Each set is one or more sites on 127.0.0.1, each on its own port, with a start page that links
every page (a ``site`` source): gne_zh_news_html one site declared ``language: zh``; fundus_news_html one
site per country, whose ``timezone`` is the country's (a loopback address has no country domain to
default from); readability_test_pages and newspaper4k_fixtures one site each. Sets DIR lacks are
skipped with a note.

Per set: pages served; items indexed; undated items (no date found, or one in the future: shown by
the time first seen); date accuracy of the stored ``published`` against the gold, scored as
benchmarks/extraction.py scores it; title exact-match of the stored title; stories of more than one
item. Each page of these sets is a distinct article, so such a story is a false merge unless its pages
tell the same text: ``false_merges`` counts those with a page whose gold body and the first page's
share less than half of the words of either; ``unjudged_merges`` those with a page that has no gold
body (listed for reading). Then, over all sets together, for each query of ``QUERIES`` as a watchlist:
the items the watchlist matched and the items ``search`` finds for the same query, which must be the
same (``agree``).

Ends with one JSON line: {SET: {"pages", "indexed", "undated", "date_ok", "title_exact",
"multi_item_stories", "false_merges", "unjudged_merges", "merged_pages"}, ...,
"queries": {QUERY: {"watchlist", "search", "agree"}}}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.append(str(Path(__file__).resolve().parent))

from extraction import SETS, Page, prf, same_date, same_title  # noqa: E402

from config.settings import CrawlSettings, Settings, Source, Watchlist  # noqa: E402
from index.base import SearchRequest  # noqa: E402
from nlp.dates import COUNTRY_ZONES  # noqa: E402
from opinionwatch.pipeline import run_cycle  # noqa: E402
from opinionwatch.wiring import Services  # noqa: E402

QUERIES = ("5G", "iPhone", "华为", "Trump", "NASA")
"""Latin terms that real Chinese pages write between Han characters, and common names in the English
and German pages: each is a watchlist and a search."""
DEFAULT_SETS = ("gne_zh_news_html", "fundus_news_html", "readability_test_pages", "newspaper4k_fixtures")
SAME_TEXT = 0.5
"""Two pages tell the same text where at least this share of one's gold body's words is in the other's
(a reprint, cut short or not, is no false merge)."""


@dataclass
class Site:
    name: str
    set_name: str
    pages: list[Page]
    language: str | None = None
    timezone: str | None = None


def sites_of(data: Path, names: list[str]) -> list[Site]:
    sites: list[Site] = []
    for name in names:
        if not (data / name).exists():
            print(f"note: {data} has no {name}; skipped")
            continue
        pages = list(SETS[name](data / name))
        if name == "fundus_news_html":  # one site per country, in the country's zone
            countries = sorted({page.name.split("/")[0] for page in pages})
            for country in countries:
                own = [page for page in pages if page.name.split("/")[0] == country]
                sites.append(Site(f"fundus-{country}", name, own, timezone=COUNTRY_ZONES.get(country)))
        else:
            language = "zh" if name == "gne_zh_news_html" else None
            sites.append(Site(name.split("_")[0], name, pages, language=language))
    return sites


@contextmanager
def served(site: Site) -> Iterator[str]:
    """``site`` on its own loopback port: ``/`` links every page, ``/p/N.html`` is page N's bytes."""
    start = "".join(f'<li><a href="/p/{n}.html">page {n}</a></li>' for n in range(len(site.pages)))
    index = f"<html><head><title>{site.name}</title></head><body><ul>{start}</ul></body></html>".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            body = index if self.path == "/" else None
            if self.path.startswith("/p/") and self.path.endswith(".html"):
                number = self.path[3:-5]
                body = (
                    site.pages[int(number)].html
                    if number.isdigit() and int(number) < len(site.pages)
                    else None
                )
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def settings_for(sites: list[Site], urls: list[str], data_dir: Path) -> Settings:
    sources = [
        Source(name=site.name, type="site", url=url, allow=[r"/p/\d+\.html$"], language=site.language,
               timezone=site.timezone, max_pages=len(site.pages) + 1, max_items=max(len(site.pages), 1))
        for site, url in zip(sites, urls, strict=True)
    ]  # fmt: skip
    crawl = CrawlSettings(
        allow_private=["127.0.0.1"], obey_robots=False, download_delay_s=0, autothrottle=False
    )
    watchlists = [Watchlist(name=f"q{n}", query=query) for n, query in enumerate(QUERIES)]
    return Settings(data_dir=data_dir, sources=sources, crawl=crawl, watchlists=watchlists)


def figures_of(served_sites: list[tuple[Site, str]], docs: list[dict[str, object]]) -> dict[str, object]:
    """One set's figures: ``served_sites`` are its sites with their addresses."""
    pages = {f"{url}p/{n}.html": page for site, url in served_sites for n, page in enumerate(site.pages)}
    mine = [doc for doc in docs if str(doc["url"]) in pages]
    dated = [(doc, pages[str(doc["url"])]) for doc in mine if pages[str(doc["url"])].published]
    titled = [(doc, pages[str(doc["url"])]) for doc in mine if pages[str(doc["url"])].title]
    stories: dict[str, list[Page]] = {}
    for doc in mine:
        stories.setdefault(str(doc["story_id"]), []).append(pages[str(doc["url"])])
    merged = [members for members in stories.values() if len(members) > 1]
    judged = [members for members in merged if all(page.reference for page in members)]
    return {
        "pages": len(pages),
        "indexed": len(mine),
        "undated": sum(1 for doc in mine if doc.get("date_precision") == "none"),
        "date_ok": _share(
            [
                same_date(datetime.fromisoformat(str(d["published"])), str(d["date_precision"]), p)
                for d, p in dated
            ]
        ),
        "title_exact": _share(
            [
                same_title(str(d["title"]), str(p.title), str(d["outlet"]) if d.get("outlet") else None)
                for d, p in titled
            ]
        ),
        "multi_item_stories": len(merged),
        "false_merges": sum(1 for members in judged if not _same_text(members)),
        "unjudged_merges": len(merged) - len(judged),
        "merged_pages": [[page.name for page in members] for members in merged][:10],
    }


def _same_text(members: list[Page]) -> bool:
    """Whether every page of a story has the first one's gold body (pages that all have one)."""
    first = str(members[0].reference)
    return all(max(prf(str(page.reference), first)[:2]) >= SAME_TEXT for page in members[1:])


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def query_agreement(services: Services, docs: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Per query: the items its watchlist matched, the items search finds, and whether they are the same."""
    found: dict[str, dict[str, object]] = {}
    for n, query in enumerate(QUERIES):
        watched = {str(doc["id"]) for doc in docs if f"q{n}" in doc.get("watchlists", [])}  # type: ignore[operator]
        hits = services.index.search(SearchRequest(query=query, limit=max(len(docs), 1))).hits
        searched = {hit.id for hit in hits}
        found[query] = {"watchlist": len(watched), "search": len(searched), "agree": watched == searched}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sets", nargs="*", default=list(DEFAULT_SETS), choices=DEFAULT_SETS)
    parser.add_argument(
        "--keep", type=Path, help="Keep the run's data folder here (default: a temporary one)."
    )
    args = parser.parse_args()
    sites = sites_of(args.data, args.sets)
    if not sites:
        print(json.dumps({}))
        return
    with ExitStack() as stack:
        urls = [stack.enter_context(served(site)) for site in sites]
        data_dir = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        settings = settings_for(sites, urls, data_dir / "data")
        with Services(settings) as services:
            report = run_cycle(services)
            docs = [hit.doc for hit in services.index.search(SearchRequest(limit=10_000)).hits]
            per_set = {
                name: figures_of(
                    [(s, u) for s, u in zip(sites, urls, strict=True) if s.set_name == name], docs
                )
                for name in dict.fromkeys(site.set_name for site in sites)
            }
            queries = query_agreement(services, docs)
    print(f"cycle: collected {report.collected}, indexed {report.indexed}, problems {dict(report.problems)}")
    print_tables(per_set, queries)
    print(json.dumps({**per_set, "queries": queries}, ensure_ascii=False))


COLUMNS = ("pages", "indexed", "undated", "date_ok", "title_exact", "multi_item_stories", "false_merges",
           "unjudged_merges")  # fmt: skip


def print_tables(per_set: dict[str, dict[str, object]], queries: dict[str, dict[str, object]]) -> None:
    print(f"{'set':26} " + " ".join(f"{column:>17}" for column in COLUMNS))
    for name, figures in per_set.items():
        print(f"{name:26} " + " ".join(f"{str(figures[column]):>17}" for column in COLUMNS))
        for members in figures["merged_pages"]:  # type: ignore[attr-defined]
            print(f"    one story: {', '.join(members)}")
    print(f"{'query':12} {'watchlist':>10} {'search':>8} {'agree':>6}")
    for query, agreement in queries.items():
        print(
            f"{query:12} {agreement['watchlist']!s:>10} {agreement['search']!s:>8} {agreement['agree']!s:>6}"
        )


if __name__ == "__main__":
    main()
