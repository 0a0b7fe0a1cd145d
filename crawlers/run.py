"""Run a crawl in a child process and read back its items and per-source reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from config.settings import CrawlSettings, Source
from crawlers.job import CrawlJob
from crawlers.polling import poll_sources
from crawlers.records import RawItem, SourceMarks, SourceReport


class CrawlError(Exception):
    """The crawl child process failed; the message carries the end of its output."""


@dataclass
class CrawlResult:
    items: list[RawItem]
    reports: list[SourceReport]


def crawl(
    sources: list[Source],
    crawl_settings: CrawlSettings,
    state_db: Path,
    workdir: Path,
    marks: dict[str, SourceMarks] | None = None,
) -> CrawlResult:
    """Fetch new items of ``sources``; URLs recorded in ``state_db`` are skipped, and each source starts
    where ``marks`` say its last handed-on run ended (listing validators, API cursors).

    Feeds, sitemaps and sites are crawled by Scrapy in a child process while the API sources are
    polled here, at the same time."""
    marks = marks or {}
    crawled = [s for s in sources if s.crawled_by_scrapy]
    polled = [s for s in sources if not s.crawled_by_scrapy]
    if not crawled:
        items, reports = poll_sources(polled, crawl_settings, state_db, marks)
        return CrawlResult(items, reports)
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crawl-", dir=workdir) as tmp:
        folder = Path(tmp)
        job = CrawlJob(
            sources=crawled,
            crawl=crawl_settings,
            state_db=state_db,
            items_path=folder / "items.jsonl",
            report_path=folder / "report.json",
            marks=marks,
        )
        job_path = folder / "job.json"
        job_path.write_text(job.model_dump_json(), encoding="utf-8")
        child = _start_child(job_path, folder / "child.log")
        try:
            polled_items, polled_reports = poll_sources(polled, crawl_settings, state_db, marks)
        finally:
            _wait_child(child, folder / "child.log", crawl_settings.time_budget_s + 120)
        items = _read_items(job.items_path)
        reports = [SourceReport.model_validate(r) for r in json.loads(job.report_path.read_text("utf-8"))]
    return CrawlResult(items + polled_items, reports + polled_reports)


def _start_child(job_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")])
    )
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        command = [sys.executable, "-m", "crawlers.child", str(job_path)]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)


def _wait_child(child: subprocess.Popen[bytes], log_path: Path, timeout_s: int) -> None:
    try:
        child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        raise CrawlError(f"crawl child process did not finish within {timeout_s}s") from None
    if child.returncode != 0:
        output = log_path.read_text("utf-8", errors="replace")
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise CrawlError(f"crawl child process exited with {child.returncode}:\n{tail}")


def _read_items(path: Path) -> list[RawItem]:
    if not path.exists():
        return []
    items = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                items.append(RawItem.model_validate_json(line))
    return items
