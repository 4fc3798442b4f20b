"""Working hours between many pairs of moments, each in constant time.

WorkingCalendar.working_hours_between walks every day between its two moments; over a million handled cases
that is too slow. Here the working seconds before each local midnight are summed once per day (lazily, as
far as the moments reach), so a difference is two lookups and the part of each end's own day.
"""

from __future__ import annotations

import datetime as dt

from hub.deadlines.calendar import WorkingCalendar


def _seconds(t: dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1_000_000


class WorkingTimeline:
    """The same figures as WorkingCalendar.working_hours_between, for many pairs."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self._calendar = calendar
        self._tz = calendar.tz
        self._windows = tuple((_seconds(a), _seconds(b)) for a, b in calendar.working_hours)
        self._full_day = sum(b - a for a, b in self._windows)
        # Per local day: working seconds from an arbitrary anchor to its midnight, and whether it is worked.
        self._days: dict[dt.date, tuple[float, bool]] = {}
        self._first: dt.date | None = None
        self._last: dt.date | None = None

    def _cover(self, day: dt.date) -> tuple[float, bool]:
        """Extend the known days to reach a day, one day at a time from either end."""
        working = self._calendar.is_working_day
        if self._first is None or self._last is None:
            self._days[day] = (0.0, working(day))
            self._first = self._last = day
        while day < self._first:
            before = self._first - dt.timedelta(days=1)
            worked = working(before)
            self._days[before] = (self._days[self._first][0] - (self._full_day if worked else 0.0), worked)
            self._first = before
        while day > self._last:
            midnight, worked = self._days[self._last]
            after = self._last + dt.timedelta(days=1)
            self._days[after] = (midnight + (self._full_day if worked else 0.0), working(after))
            self._last = after
        return self._days[day]

    def _position(self, moment: dt.datetime) -> float:
        """Working seconds from the anchor to a moment."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        local = moment.astimezone(self._tz)
        day = local.date()
        midnight, worked = self._days.get(day) or self._cover(day)
        if not worked:
            return midnight
        now = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1_000_000
        position = midnight
        for start, end in self._windows:
            if now > start:
                position += (now if now < end else end) - start
        return position

    def hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours from start to end (negative when end is before start)."""
        return (self._position(end) - self._position(start)) / 3600
