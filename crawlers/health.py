"""Source health from run history: ``ok``, ``quiet`` (reachable, fewer items than usual) or ``broken``
(failing repeatedly, or a listing that went empty) — telling "no news" apart from "we went blind"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import takewhile
from statistics import median
from typing import Literal

from crawlers.records import SourceReport
from crawlers.state import CrawlState

HealthState = Literal["ok", "quiet", "broken"]
MIN_HISTORY = 3
"""Earlier readable runs needed before a source can be called quiet or empty against its usual."""


@dataclass(frozen=True)
class SourceHealth:
    state: HealthState
    reason: str


def assess(runs: list[SourceReport], broken_after: int) -> SourceHealth:
    """Health of a source from its ``runs``, newest first (the run just made included)."""
    if not runs:
        return SourceHealth("ok", "no runs yet")
    latest = runs[0]
    failures = next((i for i, run in enumerate(runs) if run.listing_ok), len(runs))
    if failures == len(runs):
        runs_word = "its first run" if failures == 1 else f"all {failures} runs"
        return SourceHealth("broken", f"never worked: {runs_word} failed ({_reasons(latest)})")
    if failures >= broken_after:
        return SourceHealth("broken", f"failed {failures} runs in a row (last: {_reasons(latest)})")
    if failures:
        return SourceHealth("ok", f"last run failed ({_reasons(latest)}); broken after {broken_after} such")
    earlier = [run for run in runs[1:] if run.listing_ok and "not_modified" not in run.skipped][:10]
    if len(earlier) < MIN_HISTORY:
        return SourceHealth("ok", f"{latest.new} new")
    usual_listed, usual_new = median(r.listed for r in earlier), median(r.new for r in earlier)
    if latest.listed == 0 and "not_modified" not in latest.skipped and usual_listed > 0:
        return SourceHealth("broken", f"answered but listed nothing (usually {usual_listed:g} entries)")
    if usual_new >= 2 and latest.new * 4 <= usual_new:
        return SourceHealth("quiet", f"reachable; {latest.new} new (usually {usual_new:g})")
    return SourceHealth("ok", f"{latest.new} new (usually {usual_new:g})")


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


def _reasons(report: SourceReport) -> str:
    reasons = sorted(report.errors)
    return ", ".join(f"{r}: {FIXES[r]}" if r in FIXES else r for r in reasons) or "no answer"


def health_after(
    state: CrawlState, reports: list[SourceReport], broken_after: int, recorded: bool
) -> dict[str, SourceHealth]:
    """Health of each reported source; ``recorded`` says whether ``reports`` are already in ``state``."""
    health = {}
    for report in reports:
        history = state.recent_runs(report.source)
        health[report.source] = assess(history if recorded else [report, *history], broken_after)
    return health
