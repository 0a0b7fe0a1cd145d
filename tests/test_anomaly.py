"""The volume detector of the product's volume alerts (``digests.anomaly``), on hourly story counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digests.anomaly import SpikeSettings, detect_episodes

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)


def hourly(
    days: int, count: float = 10.0, changes: dict[datetime, float] | None = None
) -> list[tuple[datetime, float]]:
    """``count`` stories every hour for ``days`` days, with ``changes`` (hour -> count) replacing some."""
    changes = changes or {}
    hours = [START + step * HOUR for step in range(days * 24)]
    return [(when, changes.get(when, count)) for when in hours]


def test_the_same_busy_hour_every_day_is_normal_and_a_sharp_hour_is_one_detection() -> None:
    busy_mornings = {START + timedelta(days=day, hours=9): 40.0 for day in range(21)}
    assert detect_episodes(hourly(21, changes=busy_mornings), SpikeSettings()) == []

    breaking = START + timedelta(days=18, hours=15)
    after = {breaking + step * HOUR: 60.0 for step in range(4)}
    found = detect_episodes(hourly(21, changes={**busy_mornings, **after}), SpikeSettings())
    assert [(d.at, d.window) for d in found] == [(breaking, HOUR)]  # the 24-hour window's is the same episode


def test_a_day_at_twice_its_usual_is_a_busy_news_cycle_and_a_day_at_nearly_three_times_a_burst() -> None:
    """Each hour of the day too little above its usual to be a spike by itself; only the day's count says
    whether the day was unusual, and a day needs 2.5 times its baseline."""
    day = START + timedelta(days=18)
    busy = {day + step * HOUR: 21.0 for step in range(24)}
    assert detect_episodes(hourly(21, changes=busy), SpikeSettings()) == []

    burst = {day + step * HOUR: 27.0 for step in range(24)}
    found = detect_episodes(hourly(21, changes=burst), SpikeSettings())
    assert len(found) == 1
    assert found[0].window == timedelta(hours=24) and found[0].at.date() == day.date()
    assert found[0].count >= 2.5 * found[0].baseline


def test_dips_are_found_only_when_asked_for() -> None:
    silent = {START + timedelta(days=18, hours=hour): 0.0 for hour in range(8, 14)}
    series = hourly(21, count=50.0, changes=silent)  # 0 is 7 spreads under 50
    assert detect_episodes(series, SpikeSettings()) == []
    found = detect_episodes(series, SpikeSettings(dips=True))
    assert [d.kind for d in found] == ["dip"]
    assert found[0].at == START + timedelta(days=18, hours=8)
