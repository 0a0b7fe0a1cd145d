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
from crawlers.records import RawItem, SourceReport


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
    validators: dict[str, tuple[str | None, str | None]] | None = None,
) -> CrawlResult:
    """Fetch new items of ``sources``; URLs recorded in ``state_db`` are skipped, and feeds are asked
    for only if changed since ``validators`` (ETag, Last-Modified) per source."""
    if not sources:
        return CrawlResult([], [])
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crawl-", dir=workdir) as tmp:
        folder = Path(tmp)
        job = CrawlJob(
            sources=sources,
            crawl=crawl_settings,
            state_db=state_db,
            items_path=folder / "items.jsonl",
            report_path=folder / "report.json",
            validators=validators or {},
        )
        job_path = folder / "job.json"
        job_path.write_text(job.model_dump_json(), encoding="utf-8")
        _run_child(job_path, crawl_settings.time_budget_s + 120)
        items = _read_items(job.items_path)
        reports = [SourceReport.model_validate(r) for r in json.loads(job.report_path.read_text("utf-8"))]
    return CrawlResult(items, reports)


def _run_child(job_path: Path, timeout_s: int) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")])
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "crawlers.child", str(job_path)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CrawlError(f"crawl child process did not finish within {timeout_s}s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or "").strip().splitlines()[-15:])
        raise CrawlError(f"crawl child process exited with {done.returncode}:\n{tail}")


def _read_items(path: Path) -> list[RawItem]:
    if not path.exists():
        return []
    items = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                items.append(RawItem.model_validate_json(line))
    return items
