"""Injected time. Domain code never reads ``datetime.now()`` itself, so tests control time to the second."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


def as_utc(value: datetime) -> datetime:
    """An instant as timezone-aware UTC; a naive value is taken to be UTC already (how SQLite and most
    API clients hand them over)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, delta: timedelta) -> None:
        self._now += delta
