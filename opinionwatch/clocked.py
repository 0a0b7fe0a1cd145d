"""APScheduler 3 on a simulated clock (``opinionwatch run --clock``), for replays, demos and the tests of
the long-running mode.

APScheduler 3 reads the wall clock itself (``datetime.now`` in the scheduler loop, the executors' misfire
check and the interval and date triggers) and sleeps in real seconds. :func:`clocked_scheduler` points
those modules' ``datetime`` at the injected clock and divides each sleep by the clock's speed. The change is
process-wide, so it is made only by ``run --clock``, in a process of its own; the normal ``run`` never
touches APScheduler."""

from __future__ import annotations

import datetime as dt
from threading import TIMEOUT_MAX
from typing import Any

import apscheduler.executors.base
import apscheduler.schedulers.base
import apscheduler.triggers.date
import apscheduler.triggers.interval

from opinionwatch.clock import AcceleratedClock
from opinionwatch.stopping import ServiceScheduler

MODULES = (
    apscheduler.schedulers.base,
    apscheduler.executors.base,
    apscheduler.triggers.date,
    apscheduler.triggers.interval,
)


class ClockedScheduler(ServiceScheduler):
    """A service scheduler whose sleeps are in simulated time."""

    def __init__(self, clock: AcceleratedClock, **options: Any) -> None:
        super().__init__(**options)
        self.speed = clock.speed

    def _sleep_seconds(self, wait_seconds: float | None) -> float | None:
        return None if wait_seconds is None else min(TIMEOUT_MAX, wait_seconds / self.speed)


def clocked_scheduler(clock: AcceleratedClock) -> ClockedScheduler:
    """A scheduler on ``clock``; APScheduler's own reads of the time follow it from now on."""
    for module in MODULES:
        module.datetime = _datetime_on(clock)
    return ClockedScheduler(clock, timezone="UTC")


def _datetime_on(clock: AcceleratedClock) -> type[dt.datetime]:
    class ClockedDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            current = clock.now()
            return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)

    return ClockedDatetime
