"""Spikes and dips in a counting series (items or stories per step), against a baseline that knows the
time of day and the kind of day: the same time on earlier days of the same kind (weekdays with weekdays,
weekends with weekends), median and spread robust to the earlier spikes themselves.

The same detector serves the product's volume alerts (hourly story counts per watchlist) and
``benchmarks/alerts.py`` (NAB's 5-minute Twitter counts). One episode raises one detection: while the
series stays unusual nothing more is raised, and a new episode needs the series back to normal for
``settings.calm`` first."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from statistics import median
from typing import Literal

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class SpikeSettings:
    step: timedelta = timedelta(hours=1)
    """The series' step (one count per step)."""
    window: timedelta = timedelta(hours=1)
    """Counts are summed over this window, ending at each step."""
    history_days: int = 14
    min_days: int = 3
    """Earlier days needed at a time of day before it is judged."""
    sensitivity: float = 6.0
    """How many robust standard deviations above (or below) the baseline is unusual."""
    min_ratio: float = 2.0
    """A spike is also at least this many times the baseline (a dip at most its inverse);
    ``detect_episodes`` sets it per window (``WINDOWS``)."""
    min_count: int = 5
    """A spike has at least this many in its window."""
    calm: timedelta = timedelta(hours=12)
    """Back to normal this long ends an episode."""
    dips: bool = False
    record_days: int = 14
    """A spike also exceeds every window of the past ``record_days`` days by ``record_factor``: the
    highest count in that long, so a noisy series' everyday spikes calibrate the bar (0: off)."""
    record_factor: float = 1.3


@dataclass(frozen=True)
class Detection:
    at: datetime
    kind: Literal["spike", "dip"]
    count: float
    """The window's count."""
    baseline: float
    score: float
    """Robust standard deviations from the baseline."""
    window: timedelta = timedelta(hours=1)


class SpikeDetector:
    """Feed it one count per step, in order (``update``); it answers a Detection when an episode starts."""

    def __init__(self, settings: SpikeSettings) -> None:
        self.settings = settings
        self.per_window = max(1, round(settings.window / settings.step))
        self.per_day = round(timedelta(days=1) / settings.step)
        self.recent: deque[float] = deque(maxlen=self.per_window)
        self.sums: deque[tuple[datetime, float]] = deque(maxlen=self.per_day * settings.history_days + 1)
        self.highs: deque[tuple[datetime, float]] = deque()
        """Window sums older than one window, falling, for the running maximum of the record rule."""
        self.pending: deque[tuple[datetime, float]] = deque()
        self.episode: Literal["spike", "dip"] | None = None
        self.normal_since: datetime | None = None

    def update(self, when: datetime, count: float) -> Detection | None:
        self.recent.append(count)
        total = sum(self.recent)
        baseline, spread = self._baseline(when)
        self.sums.append((when, total))
        self.pending.append((when, total))
        if baseline is None or len(self.recent) < self.per_window:
            return None
        score = (total - baseline) / spread
        kind = self._unusual(total, baseline, score)
        if kind == "spike" and self.settings.record_days and not self._record(when, total):
            kind = None
        if kind is None:
            self.normal_since = self.normal_since or when
            if self.episode and when - self.normal_since >= self.settings.calm:
                self.episode = None
            return None
        self.normal_since = None
        if self.episode == kind:
            return None
        self.episode = kind
        return Detection(when, kind, total, baseline, round(score, 2), self.settings.window)

    def _unusual(self, total: float, baseline: float, score: float) -> Literal["spike", "dip"] | None:
        s = self.settings
        if score >= s.sensitivity and total >= s.min_count and total >= s.min_ratio * baseline:
            return "spike"
        if s.dips and score <= -s.sensitivity and baseline >= s.min_count and total * s.min_ratio <= baseline:
            return "dip"
        return None

    def _record(self, when: datetime, total: float) -> bool:
        """Whether ``total`` beats the highest window of the past ``record_days`` (windows overlapping
        this one excluded) by ``record_factor``: a running maximum over a falling deque."""
        while self.pending and self.pending[0][0] <= when - self.settings.window:
            at, value = self.pending.popleft()
            while self.highs and self.highs[-1][1] <= value:
                self.highs.pop()
            self.highs.append((at, value))
        since = when - timedelta(days=self.settings.record_days)
        while self.highs and self.highs[0][0] < since:
            self.highs.popleft()
        return bool(self.highs) and total > self.settings.record_factor * self.highs[0][1]

    def _baseline(self, when: datetime) -> tuple[float | None, float]:
        """Median and robust spread of the window sums at this time of day on earlier days of the same
        kind (all earlier days when there are too few of that kind)."""
        earlier = [
            (past, value)
            for days in range(1, self.settings.history_days + 1)
            if (found := self._at(when - timedelta(days=days))) is not None
            for past, value in (found,)
        ]
        same = [value for past, value in earlier if _weekend(past) == _weekend(when)]
        values = same if len(same) >= self.settings.min_days else [value for _, value in earlier]
        if len(values) < self.settings.min_days:
            return None, 1.0
        middle = median(values)
        spread = MAD_TO_SIGMA * median(abs(v - middle) for v in values)
        return middle, max(spread, math.sqrt(max(middle, 1.0)), 1.0)

    def _at(self, when: datetime) -> tuple[datetime, float] | None:
        """The window sum recorded at ``when`` (within half a step), if any."""
        if not self.sums:
            return None
        first = self.sums[0][0]
        index = round((when - first) / self.settings.step)
        if not 0 <= index < len(self.sums):
            return None
        past, value = self.sums[index]
        return (past, value) if abs(past - when) <= self.settings.step / 2 else None


WINDOWS = ((timedelta(hours=1), 2.0), (timedelta(hours=24), 2.5))
"""Each window, with the ratio to its baseline a spike in it needs. A breaking story shows in an hour; a
burst that grows over a day or two only in a day's count. A day needs more than twice its usual: on
NAB's Twitter series, days at 2.0-2.2 times their baseline were a busy news cycle as often as an event
(IBM 2015-04-01, 2.1x, outside every labelled window); every window found at 2.0 is still found
with any day ratio from 2.25 to 3.0 (benchmarks/alerts.py)."""
COOLDOWN = timedelta(hours=12)


def detect(series: Iterable[tuple[datetime, float]], settings: SpikeSettings) -> list[Detection]:
    detector = SpikeDetector(settings)
    return [found for when, count in series if (found := detector.update(when, count)) is not None]


def detect_episodes(
    series: Sequence[tuple[datetime, float]],
    settings: SpikeSettings,
    windows: Sequence[tuple[timedelta, float]] = WINDOWS,
    cooldown: timedelta = COOLDOWN,
) -> list[Detection]:
    """Detections over each ``(window, min_ratio)``, merged: one within ``cooldown`` of the last kept one
    is the same episode (the alert store merges them the same way, into an update)."""
    found = sorted(
        (
            found
            for window, ratio in windows
            for found in detect(series, replace(settings, window=window, min_ratio=ratio))
        ),
        key=lambda d: d.at,
    )
    kept: list[Detection] = []
    for detection in found:
        if not kept or detection.at - kept[-1].at > cooldown:
            kept.append(detection)
    return kept


def _weekend(when: datetime) -> bool:
    return when.weekday() >= 5
