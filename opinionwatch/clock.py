"""The clock, injected wherever "now" matters, so tests and replays control time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """Test double: always the same instant (timezone-aware)."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


class AcceleratedClock:
    """Simulated time for replays, demos and tests of the long-running mode (``opinionwatch run --clock``):
    ``start`` at the real Unix time ``anchor``, then ``speed`` simulated seconds per real second. Two
    processes given the same three values agree on the time."""

    def __init__(self, start: datetime, speed: float, anchor: float | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("AcceleratedClock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError("the clock's speed must be positive")
        self.start, self.speed = start, speed
        self.anchor = time.time() if anchor is None else anchor

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.anchor) * self.speed)

    @classmethod
    def parse(cls, text: str) -> AcceleratedClock:
        """``START@SPEED[@ANCHOR]``, e.g. ``2026-03-02T00:00:00+00:00@3600`` (an hour a second, from now)."""
        parts = text.split("@")
        try:
            if len(parts) not in (2, 3):
                raise ValueError("expected START@SPEED or START@SPEED@ANCHOR")
            start = datetime.fromisoformat(parts[0])
            anchor = float(parts[2]) if len(parts) == 3 else None
            return cls(start, float(parts[1]), anchor)
        except ValueError as error:
            raise ValueError(
                f"--clock {text!r}: {error} (START is an ISO time with its offset, SPEED simulated seconds "
                "per real second, ANCHOR the Unix time at which the clock reads START)"
            ) from None
