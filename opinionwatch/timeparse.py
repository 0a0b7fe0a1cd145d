"""Parse the command line's time arguments: relative spans (``7d``) and dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

SPAN = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime) -> datetime:
    """``7d``, ``24h``, ``30m``, ``2w``, or an ISO date/datetime (UTC if no offset)."""
    match = SPAN.match(value.strip().lower())
    if match:
        return now - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a span like 7d, 24h, 30m nor an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date like 2026-11-22") from None
