"""Every real-world feed of ``../shared/data/feeds_real`` through the spider over local HTTP.

Skipped where the shared data is absent (a fresh machine); CI has it beside the clone.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from config.settings import CrawlSettings, Source
from crawlers.run import CrawlResult, crawl
from tests.loopback import LoopbackServer

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds_real"
NOT_FEEDS = {"unrecognized.rss"}  # rss-parser's own "unrecognised format" case
LINKLESS = {
    "incomplete-fields.atom",
    "AtomEscapedHTMLInPreTag.xml",
}  # entries without any link: nothing to fetch

pytestmark = pytest.mark.skipif(not FEEDS.is_dir(), reason=f"{FEEDS} is absent")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return


def _files() -> list[Path]:
    folders = [FEEDS / "rss_parser" / "input", FEEDS / "feedjira" / "sample_feeds"]
    return sorted(path for folder in folders if folder.is_dir() for path in folder.iterdir())


def _name(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{path.parent.parent.name}-{path.name}")[:64]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CrawlResult, list[Path]]]:
    with LoopbackServer(functools.partial(_Quiet, directory=str(FEEDS))) as server:  # type: ignore[arg-type]
        yield _crawl_all(server.base, tmp_path_factory.mktemp("feeds-real")), _files()


def _crawl_all(base: str, folder: Path) -> CrawlResult:
    files = _files()
    sources = [
        Source(
            name=_name(p),
            url=f"{base}/{p.relative_to(FEEDS).as_posix()}",
            fetch_articles=False,
            max_items=10_000,
        )
        for p in files
    ]
    settings = CrawlSettings(allow_private=["127.0.0.1"], download_delay_s=0, concurrency_per_domain=16)
    return crawl(sources, settings, folder / "state.sqlite", folder)


def test_every_real_feed_is_read_or_refused_with_a_reason(crawled: tuple[CrawlResult, list[Path]]) -> None:
    result, files = crawled
    reports = {r.source: r for r in result.reports}
    assert len(files) >= 70
    for path in files:
        report = reports[_name(path)]
        if "FirstEntry" in path.name or path.name in NOT_FEEDS:  # fragments cut from feeds, not feeds
            assert report.errors == {"malformed_feed": 1} and not report.listing_ok, path.name
        elif path.name in LINKLESS:
            assert report.listing_ok and report.new == 0, path.name
        else:
            assert report.listing_ok and report.errors == {}, (path.name, report)
            assert report.new + report.skipped.get("duplicate_in_run", 0) >= 1, (path.name, report)


def test_counts_and_titles_match_the_expected_parses(crawled: tuple[CrawlResult, list[Path]]) -> None:
    result, _ = crawled
    expected_dir = FEEDS / "rss_parser" / "expected_output"
    checked = 0
    for expected_file in sorted(expected_dir.glob("*.json")):
        name = next((p.name for p in (FEEDS / "rss_parser" / "input").glob(expected_file.stem + ".*")), None)
        if name is None or name in LINKLESS:
            continue
        expected = json.loads(expected_file.read_bytes().decode("utf-8", "replace"))["feed"].get("items", [])
        source = _name(FEEDS / "rss_parser" / "input" / name)
        ours = [i for i in result.items if i.source == source]
        shared = next(r for r in result.reports if r.source == source).skipped.get("duplicate_in_run", 0)
        assert len(ours) + shared == len({e.get("link") for e in expected}), (
            name
        )  # one item per distinct link
        # titles, where the expected parse itself decoded them (some expected files carry U+FFFD)
        wanted = {(e.get("title") or "").strip() for e in expected if "\ufffd" not in (e.get("title") or "")}
        if not shared:
            assert wanted <= {(i.feed_title or "").strip() for i in ours}, name
        checked += 1
    assert checked >= 25
