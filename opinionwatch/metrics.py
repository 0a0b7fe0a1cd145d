"""Prometheus metrics of the long-running service, in a registry of its own (no process-wide state):
items collected, indexed and failed by source and reason, job durations and outcomes, each job's last
success, and the outbox's depth. ``opinionwatch run`` serves them (``metrics.address``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from config.settings import MetricsSettings

if TYPE_CHECKING:
    from opinionwatch.pipeline import CycleReport

log = logging.getLogger(__name__)
PREFIX = "opinionwatch"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.collected = Counter(f"{PREFIX}_items_collected", "New items collected, by source.", ["source"],
                                 registry=registry)  # fmt: skip
        self.indexed = Counter(f"{PREFIX}_items_indexed", "Items indexed, by source.", ["source"],
                               registry=registry)  # fmt: skip
        self.failed = Counter(
            f"{PREFIX}_items_failed",
            "Pages or items lost, by source and reason (fetch errors, processing, sentiment).",
            ["source", "reason"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            f"{PREFIX}_job_duration_seconds", "How long each job ran.", ["job"], registry=registry,
            buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
        )  # fmt: skip
        self.job_runs = Counter(f"{PREFIX}_job_runs", "Job runs by outcome.", ["job", "outcome"],
                                registry=registry)  # fmt: skip
        self.last_success = Gauge(
            f"{PREFIX}_job_last_success_timestamp_seconds", "When each job last succeeded (Unix time).",
            ["job"], registry=registry,
        )  # fmt: skip
        self.outbox = Gauge(f"{PREFIX}_outbox_messages", "Outbox messages by state.", ["state"],
                            registry=registry)  # fmt: skip

    def job_finished(self, job: str, outcome: str, seconds: float, ended: float) -> None:
        self.job_runs.labels(job, outcome).inc()
        self.job_seconds.labels(job).observe(seconds)
        if outcome == "ok":
            self.last_success.labels(job).set(ended)

    def cycle(self, report: CycleReport) -> None:
        for source in report.sources:
            self.collected.labels(source.source).inc(source.new)
            for reason, count in source.errors.items():
                self.failed.labels(source.source, reason).inc(count)
        for name, count in report.indexed_by_source.items():
            self.indexed.labels(name).inc(count)
        for (name, reason), count in report.failed_by_source.items():
            self.failed.labels(name, reason).inc(count)

    def outbox_depth(self, depth: dict[str, int]) -> None:
        for state, count in depth.items():
            self.outbox.labels(state).set(count)

    def serve(self, settings: MetricsSettings) -> WSGIServer | None:
        """Serve ``/metrics`` on a thread; ``None`` (and a warning that says what to do) when the address
        cannot be bound: collection matters more than its metrics."""
        try:
            server, _ = start_http_server(settings.port, settings.host, registry=self.registry)
        except OSError as error:
            log.warning(
                "metrics not served: %s cannot be bound (%s); set metrics.address to a free port or "
                "metrics.enabled: false",
                settings.address,
                error,
            )
            return None
        log.info("metrics served", extra={"address": f"http://{settings.address}/metrics"})
        return server
