"""Emerging topics: popularity with decay, a signal class and a trend word per topic and day.

As BERTrend does, the thresholds come from the distribution of popularities over the window, not from
fixed numbers, so they adapt to a deployment's volume:

- popularity on day *d*: ``P(d) = P(d-1) * 2 ** (-1 / half_life) + items(d)`` (items with reprints, from
  the topic's first day; a day without items only decays);
- over all topics' popularities above zero on the window's days, ``low`` is the 10th percentile,
  ``middle`` the 50th and ``high`` the 75th;
- **strong** signal: ``P(d) >= high``, or ``P(d) >= middle`` for a topic that is new or growing (a burst
  is strong before it has had the days to outgrow the steady topics); **weak** signal: ``P(d) >= low``
  and new or growing; **noise**: everything else;
- trend: **new** if the topic was born (its id first given) on *d* or the day before; otherwise the growth
  ``g = (P(d) - P(d-1)) / max(P(d-1), 1)`` says **growing** (``g >= 0.2``), **fading** (``g <= -0.2``) or
  **stable**.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

from nlp.topic_state import DaySignal, Signal, TopicRecord, Trend

LOW_PERCENTILE = 10
MIDDLE_PERCENTILE = 50
HIGH_PERCENTILE = 75
GROWTH = 0.2


def popularity(topic: TopicRecord, until: date, half_life_days: float) -> dict[date, float]:
    """The topic's popularity on each day from its first day to ``until``."""
    keep = 2 ** (-1 / half_life_days)
    out: dict[date, float] = {}
    value = 0.0
    day = min([topic.born, *topic.days])
    while day <= until:
        figures = topic.days.get(day)
        value = value * keep + (figures.items if figures else 0)
        out[day] = value
        day += timedelta(days=1)
    return out


def thresholds(values: Iterable[float]) -> tuple[float, float, float]:
    """``(low, middle, high)``: the 10th, 50th and 75th percentiles of the popularities above zero."""
    positive = np.asarray([value for value in values if value > 0], dtype=float)
    if not len(positive):
        return 0.0, 0.0, 0.0
    low, middle, high = np.percentile(positive, (LOW_PERCENTILE, MIDDLE_PERCENTILE, HIGH_PERCENTILE))
    return float(low), float(middle), float(high)


def trend_of(topic: TopicRecord, day: date, series: dict[date, float]) -> Trend:
    if (day - topic.born).days <= 1:
        return "new"
    now, before = series.get(day, 0.0), series.get(day - timedelta(days=1), 0.0)
    growth = (now - before) / max(before, 1.0)
    return "growing" if growth >= GROWTH else "fading" if growth <= -GROWTH else "stable"


def signal_of(value: float, trend: Trend, bounds: tuple[float, float, float]) -> Signal:
    low, middle, high = bounds
    rising = trend in ("new", "growing")
    if value > 0 and (value >= high or (rising and value >= middle)):
        return "strong"
    if value > 0 and rising and value >= low:
        return "weak"
    return "noise"


def classify(topics: list[TopicRecord], day: date, window_days: int, half_life_days: float) -> None:
    """Set each topic's signal for ``day`` (and for the window's earlier days it has none for)."""
    series = {topic.id: popularity(topic, day, half_life_days) for topic in topics}
    window = [day - timedelta(days=back) for back in range(window_days)]
    bounds = thresholds(series[t.id].get(d, 0.0) for t in topics for d in window)
    for topic in topics:
        for when in sorted(window):
            if when < min([topic.born, *topic.days]) or (when != day and when in topic.signals):
                continue
            trend = trend_of(topic, when, series[topic.id])
            value = series[topic.id].get(when, 0.0)
            topic.signals[when] = DaySignal(
                popularity=round(value, 3), signal=signal_of(value, trend, bounds), trend=trend
            )
