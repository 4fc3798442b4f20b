"""A clock the tests can drive: the hub never calls datetime.now() directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

_now: Callable[[], dt.datetime] | None = None


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (or the frozen time a test set)."""
    if _now is not None:
        return _now()
    return dt.datetime.now(dt.UTC)


def set_clock(now: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock (None restores the wall clock)."""
    global _now
    _now = now


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by a timedelta given as keywords (hours=2, days=1)."""
        self.current = self.current + dt.timedelta(**delta)
        return self.current

    def set(self, moment: dt.datetime) -> None:
        """Jump to a moment."""
        self.current = moment.astimezone(dt.UTC)
