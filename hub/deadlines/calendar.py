"""China's working days: the `holidays` package's official schedule plus admin overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from hub.enums import CalendarDayKind
from hub.settings import Settings

WorkingWindow = tuple[dt.time, dt.time]

DEFAULT_WORKING_HOURS: tuple[WorkingWindow, ...] = (
    (dt.time(9, 0), dt.time(12, 0)),
    (dt.time(13, 30), dt.time(18, 0)),
)

# A guard against an override table that switches every day off: a search this long is a data error.
_MAX_SEARCH_DAYS = 3660
_MAX_REMEMBERED = 512  # deadlines a calendar keeps: a day of dispatching asks for a few per minute


def _require_aware(moment: dt.datetime, name: str) -> None:
    """Reject naive datetimes: a deadline without a timezone is ambiguous."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@lru_cache(maxsize=1)
def _china() -> holidays.HolidayBase:
    """The package's China calendar, built once per process (building it imports its data: a third of a second)."""
    return holidays.China()


@lru_cache(maxsize=64)
def _official_working_days(year: int) -> frozenset[dt.date]:
    """A year's working days by the package alone; calendars add their overrides on top (they change, this not)."""
    package, day, working = _china(), dt.date(year, 1, 1), set()
    while day.year == year:
        if package.is_working_day(day):
            working.add(day)
        day += dt.timedelta(days=1)
    return frozenset(working)


class WorkingCalendar:
    """Which days are working days, and working-time arithmetic in the hub's local timezone."""

    def __init__(
        self,
        overrides: Mapping[dt.date, CalendarDayKind] | None = None,
        *,
        timezone: str | dt.tzinfo = "Asia/Shanghai",
        workday_start_hour: int = 9,
        working_hours: Sequence[WorkingWindow] = DEFAULT_WORKING_HOURS,
    ) -> None:
        if not 0 <= workday_start_hour <= 23:
            raise ValueError("workday_start_hour must be between 0 and 23")
        windows = tuple(working_hours)
        for (start, end), following in zip(windows, (*windows[1:], None), strict=True):
            if start >= end:
                raise ValueError(f"working-hours window {start}–{end} is empty")
            if following is not None and following[0] < end:
                raise ValueError("working-hours windows must be sorted and must not overlap")
        self._tz: dt.tzinfo = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self._start_time = dt.time(workday_start_hour)
        self._windows = windows
        self._overrides: dict[dt.date, CalendarDayKind] = {
            day: CalendarDayKind(kind) for day, kind in (overrides or {}).items()
        }
        self._override_years = frozenset(day.year for day in self._overrides)
        self._package = _china()
        self._working_by_year: dict[int, frozenset[dt.date]] = {}
        # A page of dispatched cases asks for the same few deadlines from the same moment: answer those once.
        self._added: dict[tuple[dt.datetime, int], dt.datetime] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        overrides: Mapping[dt.date, CalendarDayKind] | None = None,
        *,
        working_hours: Sequence[WorkingWindow] = DEFAULT_WORKING_HOURS,
    ) -> WorkingCalendar:
        """A calendar in the configured timezone and workday start hour."""
        return cls(
            overrides,
            timezone=settings.timezone,
            workday_start_hour=settings.workday_start_hour,
            working_hours=working_hours,
        )

    @property
    def tz(self) -> dt.tzinfo:
        """The local timezone working days are counted in."""
        return self._tz

    @property
    def working_hours(self) -> tuple[WorkingWindow, ...]:
        """The daily working-hours windows (local time)."""
        return self._windows

    def local(self, moment: dt.datetime) -> dt.datetime:
        """An aware moment in the calendar's local timezone."""
        _require_aware(moment, "moment")
        return moment.astimezone(self._tz)

    def _working_days_of(self, year: int) -> frozenset[dt.date]:
        """Every working day of a year, package data and overrides merged, computed once."""
        cached = self._working_by_year.get(year)
        if cached is not None:
            return cached
        working = set(_official_working_days(year))
        for day, kind in self._overrides.items():
            if day.year != year:
                continue
            if kind is CalendarDayKind.WORKDAY:
                working.add(day)
            else:
                working.discard(day)
        result = frozenset(working)
        self._working_by_year[year] = result
        return result

    def is_working_day(self, day: dt.date) -> bool:
        """Whether a (local) date is a working day; an admin override wins over the package."""
        if isinstance(day, dt.datetime):
            day = self.local(day).date()
        return day in self._working_days_of(day.year)

    def _on_or_after(self, day: dt.date) -> dt.date:
        """The first working day on or after a date."""
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days of {day}: check the overrides")

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after a date."""
        return self._on_or_after(day + dt.timedelta(days=1))

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """Add working days keeping the local time of day; a non-working start first moves to workday start.

        Friday 10:00 + 1 is Monday 10:00 (unless Monday is off); Sunday 15:00 + 1 is Tuesday 09:00.
        The result is in UTC.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        key = (moment, days)
        known = self._added.get(key)
        if known is not None:
            return known
        if len(self._added) >= _MAX_REMEMBERED:
            self._added.clear()
        self._added[key] = result = self._add_working_days(moment, days)
        return result

    def _add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        local = self.local(moment)
        day = local.date()
        time_of_day = local.time()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
            time_of_day = self._start_time
        for _ in range(days):
            day = self.next_working_day(day)
        return dt.datetime.combine(day, time_of_day, tzinfo=self._tz).astimezone(dt.UTC)

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """The number of working days d with a < d <= b (negative when b is before a).

        Datetimes are taken as their local date.
        """
        if isinstance(a, dt.datetime):
            a = self.local(a).date()
        if isinstance(b, dt.datetime):
            b = self.local(b).date()
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a + dt.timedelta(days=1)
        while day <= b:
            if self.is_working_day(day):
                count += 1
            day += dt.timedelta(days=1)
        return count

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Hours of working time (working days × working-hours windows) between two moments."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end < start:
            return -self.working_hours_between(end, start)
        first = self.local(start).date()
        last = self.local(end).date()
        seconds = 0.0
        day = first
        while day <= last:
            if self.is_working_day(day):
                for window_start, window_end in self._windows:
                    lo = max(start, dt.datetime.combine(day, window_start, tzinfo=self._tz))
                    hi = min(end, dt.datetime.combine(day, window_end, tzinfo=self._tz))
                    if hi > lo:
                        seconds += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return seconds / 3600

    def official_data_years(self) -> frozenset[int]:
        """Years for which the installed `holidays` package carries the State Council's 调休 schedule."""
        # The China calendar keeps each year's notice (days off moved from/to make-up workdays) in
        # `special_public_holidays`; a year without an entry is only the statutory-holiday estimate.
        # If a future package drops the attribute every year warns, which is the safe direction.
        table = getattr(self._package, "special_public_holidays", None)
        if not isinstance(table, Mapping):
            return frozenset()
        return frozenset(year for year in table if isinstance(year, int))

    def override_years(self) -> frozenset[int]:
        """Years with at least one admin-entered override."""
        return self._override_years

    def is_year_covered(self, year: int) -> bool:
        """Whether a year has official package data or admin overrides."""
        return year in self._override_years or year in self.official_data_years()

    def warnings(self, years: Iterable[int]) -> list[str]:
        """One message per year that has neither official data nor overrides (never a silent guess)."""
        official = self.official_data_years()
        return [
            f"{year}: no official holiday schedule (调休) in holidays {holidays.__version__} and no "
            f"overrides; working days for {year} are a guess from weekends and statutory holidays. "
            "Enter the State Council notice as calendar overrides."
            for year in sorted(set(years))
            if year not in official and year not in self._override_years
        ]
