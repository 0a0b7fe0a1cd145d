"""One full cycle: crawl -> extract, language, watchlists -> embed -> stories -> index -> state.

Crawl state advances only after the index has committed the items, so a crash in
between makes the next run fetch them again rather than skip them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from crawlers.health import SourceHealth, health_after
from crawlers.records import RawItem, SourceReport
from crawlers.run import crawl
from index.base import IndexDoc
from nlp.embed import embedding_text
from nlp.process import process
from nlp.records import Item
from opinionwatch.wiring import Services

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)``."""


@dataclass
class CycleReport:
    sources: list[SourceReport] = field(default_factory=list)
    collected: int = 0
    processed: int = 0
    failed: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    new_stories: int = 0
    indexed: int = 0
    embedded_fresh: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    health: dict[str, SourceHealth] = field(default_factory=dict)


def run_cycle(
    services: Services, source_names: list[str] | None = None, progress: Progress | None = None
) -> CycleReport:
    settings = services.settings
    report = CycleReport()
    progress = progress or (lambda step, done, total: None)
    sources = [s for s in settings.sources if s.enabled and (not source_names or s.name in source_names)]
    started = services.clock.now()
    timer = time.monotonic()
    progress("crawl", 0, len(sources))
    marks = services.state.marks()
    result = crawl(sources, settings.crawl, settings.state_db, settings.data_dir / "tmp", marks)
    report.sources, report.collected = result.reports, len(result.items)
    progress("crawl", len(sources), len(sources))
    report.seconds["crawl"] = time.monotonic() - timer
    items = process_items(services, result.items, report, progress)
    index_items(services, items, report, progress)
    done = {item.url for item in items}
    handed_on = [(raw.source, raw.url) for raw in result.items if raw.url in done and not raw.retry_page]
    services.state.mark_seen(handed_on, services.clock.now())
    unfinished = {raw.source for raw in result.items if raw.url not in done or raw.retry_page}
    services.state.save_marks([r for r in result.reports if r.source not in unfinished])
    for source_report in result.reports:
        services.state.record_run(source_report, started)
    report.health = health_after(services.state, result.reports, settings.crawl.broken_after, recorded=True)
    for name, health in report.health.items():
        if health.state != "ok":
            log.warning("source %s is %s: %s", name, health.state, health.reason, extra={"source": name})
    log.info("cycle done", extra={"collected": report.collected, "indexed": report.indexed})
    return report


def process_items(
    services: Services, raws: list[RawItem], report: CycleReport, progress: Progress
) -> list[Item]:
    timer = time.monotonic()
    items = []
    for done, raw in enumerate(raws, start=1):
        try:
            item = process(raw, services.detector, services.matcher)
        except Exception:  # one bad page never stops the batch; it is counted and logged
            report.failed += 1
            report.problems["processing_failed"] += 1
            log.exception("processing failed", extra={"url": raw.url, "source": raw.source})
            continue
        report.problems.update(item.problems)
        items.append(item)
        progress("process", done, len(raws))
    report.processed = len(items)
    report.seconds["process"] = time.monotonic() - timer
    return items


def index_items(services: Services, items: list[Item], report: CycleReport, progress: Progress) -> None:
    """Embed, assign stories and index ``items`` (an adapter for any producer of processed items)."""
    if not items:
        return
    settings = services.settings
    timer = time.monotonic()
    texts = [embedding_text(item.title, item.text, settings.embedding.lead_chars) for item in items]
    batch = settings.embedding.batch_size
    vectors: list[np.ndarray] = []
    before = services.embedder.misses
    for start in range(0, len(texts), batch):
        vectors.extend(services.embedder.embed(texts[start : start + batch]))
        progress("embed", min(start + batch, len(texts)), len(texts))
    report.embedded_fresh = services.embedder.misses - before
    report.seconds["embed"] = time.monotonic() - timer
    timer = time.monotonic()
    services.stories.assign(items, np.stack(vectors))
    report.new_stories = sum(1 for item in items if item.story_level == "new")
    report.seconds["stories"] = time.monotonic() - timer
    timer = time.monotonic()
    docs = [IndexDoc.from_item(item, vector) for item, vector in zip(items, vectors, strict=True)]
    services.index.upsert(docs)
    report.indexed = len(docs)
    progress("index", len(docs), len(docs))
    report.seconds["index"] = time.monotonic() - timer
