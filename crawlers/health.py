"""Source health from run history: ``ok``, ``quiet`` (reachable, fewer items than usual) or ``broken``
(failing repeatedly, or a listing that went empty) — telling "no news" apart from "we went blind"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import takewhile
from statistics import median
from typing import Literal

from config.wording import Templates
from crawlers.records import SourceReport
from crawlers.state import CrawlState

HealthState = Literal["ok", "quiet", "broken"]
MIN_HISTORY = 3
"""Earlier readable runs needed before a source can be called quiet or empty against its usual."""


@dataclass(frozen=True)
class SourceHealth:
    state: HealthState
    reason: str


REASONS = Templates(
    {
        "no_runs": "no runs yet",
        "first_run_failed": "never worked: its first run failed ({errors})",
        "all_runs_failed": "never worked: all {n} runs failed ({errors})",
        "failing": "failed {n} runs in a row (last: {errors})",
        "last_failed": "last run failed ({errors}); broken after {n} such",
        "new": "{new} new",
        "listed_nothing": "answered but listed nothing (usually {usual} entries)",
        "quiet": "reachable; {new} new (usually {usual})",
        "new_usually": "{new} new (usually {usual})",
    }
)
"""Why a source has its health, as stored and shown in English; ``REASONS.parts`` reads one back for
another language's wording (``digests.labels``)."""


def assess(runs: list[SourceReport], broken_after: int) -> SourceHealth:
    """Health of a source from its ``runs``, newest first (the run just made included)."""
    if not runs:
        return SourceHealth("ok", REASONS["no_runs"])
    latest = runs[0]
    errors = _reasons(latest)
    failures = next((i for i, run in enumerate(runs) if run.listing_ok), len(runs))
    if failures == len(runs):
        key = "first_run_failed" if failures == 1 else "all_runs_failed"
        return SourceHealth("broken", REASONS[key].format(n=failures, errors=errors))
    if failures >= broken_after:
        return SourceHealth("broken", REASONS["failing"].format(n=failures, errors=errors))
    if failures:
        return SourceHealth("ok", REASONS["last_failed"].format(n=broken_after, errors=errors))
    earlier = [run for run in runs[1:] if run.listing_ok and "not_modified" not in run.skipped][:10]
    if len(earlier) < MIN_HISTORY:
        return SourceHealth("ok", REASONS["new"].format(new=latest.new))
    usual_listed, usual_new = median(r.listed for r in earlier), median(r.new for r in earlier)
    if latest.listed == 0 and "not_modified" not in latest.skipped and usual_listed > 0:
        return SourceHealth("broken", REASONS["listed_nothing"].format(usual=f"{usual_listed:g}"))
    if usual_new >= 2 and latest.new * 4 <= usual_new:
        return SourceHealth("quiet", REASONS["quiet"].format(new=latest.new, usual=f"{usual_new:g}"))
    return SourceHealth("ok", REASONS["new_usually"].format(new=latest.new, usual=f"{usual_new:g}"))


def failing_since(runs: list[tuple[datetime, SourceReport]]) -> datetime | None:
    """When the current run of failures began (the first failing run of the latest unbroken streak of
    failing runs, newest first as given); ``None`` when the latest run worked."""
    streak = list(takewhile(lambda run: _failing(run[1]), runs))
    return streak[-1][0] if streak else None


def _failing(report: SourceReport) -> bool:
    return not report.listing_ok or (report.listed == 0 and "not_modified" not in report.skipped)


FIXES = {
    "blocked_address": "the address is private or loopback; allow it in crawl.allow_private",
    "robots": "robots.txt forbids it",
    "connection_failed": "nothing answered at that address",
}
"""What to do about a reason, said with it."""


NO_ANSWER = "no answer"
ERROR_SEPARATOR = ", "


def _reasons(report: SourceReport) -> str:
    reasons = sorted(report.errors)
    return ERROR_SEPARATOR.join(f"{r}: {FIXES[r]}" if r in FIXES else r for r in reasons) or NO_ANSWER


def health_after(
    state: CrawlState, reports: list[SourceReport], broken_after: int, recorded: bool
) -> dict[str, SourceHealth]:
    """Health of each reported source; ``recorded`` says whether ``reports`` are already in ``state``."""
    health = {}
    for report in reports:
        history = state.recent_runs(report.source)
        health[report.source] = assess(history if recorded else [report, *history], broken_after)
    return health
