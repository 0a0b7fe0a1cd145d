"""One full cycle: crawl -> extract, language, watchlists -> embed -> stories -> index -> state.

Crawl state advances only after the index has committed the items, so a crash in
between makes the next run fetch them again rather than skip them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

import numpy as np

from crawlers.health import SourceHealth, health_after
from crawlers.records import RawItem, SourceReport
from crawlers.run import crawl
from index.base import IndexDoc, TopicTags
from nlp.embed import embedding_text
from nlp.process import process
from nlp.records import Item
from nlp.risk import item_risk
from nlp.sentiment import read_sentiments, settle_sentiments
from nlp.story_window import Facts
from nlp.topic_daily import DailyFit, fit_day
from opinionwatch.wiring import Services

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)``."""
CHUNK = 256
"""Pages per extraction chunk: the model starts after the first one."""
EMPTY = "empty_text"
SENTIMENT_FAILED = "sentiment_failed"
MAX_BATCH = 4096
"""At most this many items per model call: the model sorts a call's texts by length, so the larger
the call, the less padding; extraction runs ahead of the model, so later calls take all that is ready."""


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
    sent_to_encoder: int = 0
    """Items that needed a vector of their own; reprints take their original's and never reach it."""
    seconds: dict[str, float] = field(default_factory=dict)
    health: dict[str, SourceHealth] = field(default_factory=dict)
    indexed_by_source: Counter[str] = field(default_factory=Counter)
    failed_by_source: Counter[tuple[str, str]] = field(default_factory=Counter)
    """``(source, reason)``: pages that failed processing, items dropped or left without sentiment."""


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
    items = process_and_index(services, result.items, report, progress)
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


def process_and_index(
    services: Services,
    raws: list[RawItem],
    report: CycleReport,
    progress: Progress,
    chunk: int = CHUNK,
    max_batch: int = MAX_BATCH,
) -> list[Item]:
    """Process, embed, assign stories and index ``raws``; returns the items handed on (those with no title
    and no text are counted as ``empty_text`` and handed on without being indexed).

    Work is streamed so that the model never waits: one thread extracts chunks of ``chunk`` pages ahead
    of the model (the encoder releases the GIL while it computes), with what the story store compares
    besides vectors (:meth:`StoryStore.facts`: MinHash, figures, names); the model thread takes every chunk
    that is ready (up to ``max_batch`` items), assigns their stories and calls the encoder only for the
    items that are not reprints (:meth:`StoryStore.assign_embedding`: a reprint takes its original's
    vector); a third thread indexes each batch behind it. Each stage keeps the order of ``raws``;
    ``report.seconds`` holds each stage's busy time and ``report.seconds["wall"]`` the elapsed time of
    the whole; ``report.sent_to_encoder`` counts the items that needed a vector of their own.
    """
    timer = time.monotonic()
    chunks = [raws[start : start + chunk] for start in range(0, len(raws), chunk)]
    _open_before_threads = (services.stories, services.index)  # a backend that cannot open fails here
    items: list[Item] = []
    with (
        ThreadPoolExecutor(1, thread_name_prefix="extract") as extractor,
        ThreadPoolExecutor(1, thread_name_prefix="model") as modeller,
        ThreadPoolExecutor(1, thread_name_prefix="index") as indexer,
    ):
        processed = deque(extractor.submit(_process_chunk, services, part, report) for part in chunks)
        modelled: tuple[list[Item], Future[np.ndarray]] | None = None
        indexed: Future[None] | None = None
        while processed or modelled:
            if modelled is not None:  # wait for the model, then index that batch behind it
                vectors = modelled[1].result()
                if indexed is not None:
                    indexed.result()  # the batch before: its errors surface here, in order
                indexed = indexer.submit(_index_batch, services, modelled[0], vectors, report)
                modelled = None
                progress("embed", len(items), len(raws))
            if not processed:
                break
            ready = processed.popleft().result()
            while processed and processed[0].done() and len(ready) < max_batch:
                ready += processed.popleft().result()
            # empty ones: counted, not indexed; the rest in publication order (see below)
            batch = sorted(
                ((item, facts) for item, facts in ready if facts is not None), key=_publication_order
            )
            progress("process", report.processed + report.failed, len(raws))
            if batch:
                chosen = [item for item, _ in batch]
                modelled = chosen, modeller.submit(_model_batch, services, batch, report)
            items.extend(item for item, _ in ready)
        if indexed is not None:
            indexed.result()
    progress("index", report.indexed, len(items))
    report.seconds["wall"] = time.monotonic() - timer
    return items


def _publication_order(pair: tuple[Item, Facts | None]) -> tuple[datetime, str, str]:
    """Items meet the story store in the order they were published, not in the order the crawl finished
    them: an original comes before its reprints, and the same pages give the same stories, vectors and
    topics whatever order the network delivered them in."""
    item = pair[0]
    return item.filed_at, item.title, item.url


def _process_chunk(
    services: Services, raws: list[RawItem], report: CycleReport
) -> list[tuple[Item, Facts | None]]:
    """The chunk's items, each with its story facts (None for an empty item, which is not indexed): the
    facts are computed here, off the model thread, which waits for nothing else than the encoder."""
    timer = time.monotonic()
    items = []
    for raw in raws:
        try:
            item = process(raw, services.detector, services.matcher)
        except Exception:  # one bad page never stops the batch; it is counted and logged
            report.failed += 1
            report.problems["processing_failed"] += 1
            report.failed_by_source[(raw.source, "processing_failed")] += 1
            log.exception("processing failed", extra={"url": raw.url, "source": raw.source})
            continue
        report.problems.update(item.problems)
        report.failed_by_source.update((item.source, p) for p in item.problems if p == EMPTY)
        items.append(item)
    report.processed += len(items)
    _busy(report, "process", timer)
    reading = time.monotonic()
    try:
        read_signals(services, items)
    except Exception:  # never stops the batch: item by item, and those that fail keep no judgement
        log.exception("reading sentiment failed for a chunk; item by item")
        for item in items:
            _judged_alone(partial(read_signals, services, [item]), item, report)
    report.seconds["sentiment_read"] = report.seconds.get("sentiment_read", 0.0) + time.monotonic() - reading
    facts = services.stories.facts
    return [(item, None if EMPTY in item.problems else facts([item])[0]) for item in items]


def _judged_alone(judge: Callable[[], None], item: Item, report: CycleReport) -> None:
    try:
        judge()
    except Exception:
        item.problems.append(SENTIMENT_FAILED)
        report.problems[SENTIMENT_FAILED] += 1
        report.failed_by_source[(item.source, SENTIMENT_FAILED)] += 1
        log.exception("sentiment or risk failed", extra={"url": item.url, "source": item.source})


def _model_batch(services: Services, batch: list[tuple[Item, Facts]], report: CycleReport) -> np.ndarray:
    """Stories for the batch's items, the encoder called only for those that are not reprints; their
    vectors."""
    timer = time.monotonic()
    embed_seconds = report.seconds.get("embed", 0.0)
    items, facts = [item for item, _ in batch], [facts for _, facts in batch]
    vectors = services.stories.assign_embedding(items, lambda needed: _embed(services, needed, report), facts)
    if services.topic_assigner is not None and len(vectors):
        services.topic_assigner.assign(items, vectors)
    report.new_stories += sum(1 for item in items if item.story_level == "new")
    _busy(report, "stories", timer + report.seconds.get("embed", 0.0) - embed_seconds)  # less the encoder
    try:
        settle_signals(services, items, vectors, report)
    except Exception:  # never stops the batch: item by item, and those that fail keep no judgement
        log.exception("settling sentiment failed for a batch; item by item")
        for row, item in enumerate(items):
            _judged_alone(partial(settle_signals, services, [item], vectors[row : row + 1]), item, report)
    return vectors


def read_signals(services: Services, items: list[Item]) -> None:
    """What the extraction thread judges from the text alone, a chunk at a time (the ``sentiment_read``
    stage): risk terms, then the text parts of each item's sentiment and of the clauses around its
    entities; settling them with the vectors is the ``sentiment`` stage."""
    if services.settings.risk.enabled:
        for item in items:
            item.risk_terms = services.risk_matcher.match(item)
    if services.sentiment_model is not None:
        read_sentiments(items, services.sentiment_model)


def settle_signals(
    services: Services, items: list[Item], vectors: np.ndarray, report: CycleReport | None = None
) -> None:
    """Each item's sentiment (with its vector) and risk (with its story's reach), recorded for its story."""
    timer = time.monotonic()
    model = services.sentiment_model
    if model is not None:
        settle_sentiments(items, model, vectors, services.embedder.embed)
    if services.settings.risk.enabled:
        reach = services.signals.reach(item.story_id or item.id for item in items)
        titles = services.settings.watchlist_titles()
        for item in items:
            item.risk = item_risk(item, reach.get(item.story_id or item.id), services.settings.risk, titles)
    services.signals.record(items)
    if report is not None:
        _busy(report, "sentiment", timer)


def _embed(services: Services, items: list[Item], report: CycleReport) -> np.ndarray:
    timer = time.monotonic()
    lead = services.settings.embedding.lead_chars
    before = services.embedder.misses
    vectors = services.embedder.embed([embedding_text(item.title, item.text, lead) for item in items])
    report.embedded_fresh += services.embedder.misses - before
    report.sent_to_encoder += len(items)
    _busy(report, "embed", timer)
    return vectors


def _index_batch(services: Services, items: list[Item], vectors: np.ndarray, report: CycleReport) -> None:
    timer = time.monotonic()
    services.index.upsert(
        [IndexDoc.from_item(item, vector) for item, vector in zip(items, vectors, strict=True)]
    )
    report.indexed += len(items)
    report.indexed_by_source.update(item.source for item in items)
    _busy(report, "index", timer)


def fit_topics(services: Services, day: date) -> DailyFit:
    """The daily topic fit for ``day`` (UTC), then the index's documents of its window tagged with the
    topics of their stories."""
    settings = services.settings
    signals = services.signals if settings.sentiment.enabled else None
    model = settings.embedding.model
    fit = fit_day(services.stories, services.topics_dir, day, settings.topics, model, signals)
    by_story = {story: (str(topic), fit.labels[topic]) for story, topic in fit.story_topics.items()}
    retagged = services.index.set_topics(TopicTags(fit.window[0], fit.window[1], by_story))
    log.info("topics tagged", extra={"day": day.isoformat(), "documents": retagged})
    return fit


def _busy(report: CycleReport, stage: str, since: float) -> None:
    report.seconds[stage] = report.seconds.get(stage, 0.0) + time.monotonic() - since
