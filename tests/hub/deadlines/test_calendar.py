"""WorkingCalendar against the official 2025/2026 schedules, overrides and missing years."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub.deadlines.calendar import WorkingCalendar
from hub.enums import CalendarDayKind
from hub.settings import Settings

CST = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    """A moment in Beijing time."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=CST)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# 2026 notice: National Day + Mid-Autumn 10-01..10-07 off; Sun 09-20 and Sat 10-10 are make-up workdays.
@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 9, 30), True),
        (dt.date(2026, 10, 1), False),
        (dt.date(2026, 10, 5), False),  # Monday inside the holiday
        (dt.date(2026, 10, 7), False),
        (dt.date(2026, 10, 8), True),
        (dt.date(2026, 9, 20), True),  # make-up Sunday
        (dt.date(2026, 10, 10), True),  # make-up Saturday
        (dt.date(2026, 10, 11), False),  # ordinary Sunday
        (dt.date(2026, 10, 17), False),  # ordinary Saturday
        (dt.date(2025, 9, 28), True),  # 2025 make-up Sunday
        (dt.date(2025, 10, 8), False),  # 2025 holiday ran to 10-08
        (dt.date(2025, 10, 11), True),  # 2025 make-up Saturday
    ],
)
def test_is_working_day_follows_the_official_schedule(cal: WorkingCalendar, day: dt.date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_next_working_day_skips_the_golden_week(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(dt.date(2026, 9, 30)) == dt.date(2026, 10, 8)
    # Friday 10-09 -> make-up Saturday 10-10.
    assert cal.next_working_day(dt.date(2026, 10, 9)) == dt.date(2026, 10, 10)
    # Saturday 09-19 -> make-up Sunday 09-20.
    assert cal.next_working_day(dt.date(2026, 9, 19)) == dt.date(2026, 9, 20)


def test_add_working_days_keeps_time_of_day_over_a_weekend(cal: WorkingCalendar) -> None:
    # Friday 2026-03-06 10:00 + 1 working day = Monday 03-09 10:00 (02:00 UTC).
    due = cal.add_working_days(at(2026, 3, 6, 10), 1)
    assert due == dt.datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_add_working_days_from_a_sunday_starts_at_the_next_workday_morning(cal: WorkingCalendar) -> None:
    # Sunday 2026-03-08 15:00 -> Monday 03-09 09:00, + 1 -> Tuesday 03-10 09:00.
    assert cal.add_working_days(at(2026, 3, 8, 15), 1) == at(2026, 3, 10, 9)
    assert cal.add_working_days(at(2026, 3, 8, 15), 0) == at(2026, 3, 9, 9)


def test_add_working_days_from_a_saturday_before_a_make_up_sunday(cal: WorkingCalendar) -> None:
    # Saturday 2026-09-19 15:00 -> make-up Sunday 09-20 09:00, + 1 -> Monday 09-21 09:00.
    assert cal.add_working_days(at(2026, 9, 19, 15), 1) == at(2026, 9, 21, 9)


def test_add_working_days_accepts_any_timezone_and_works_in_local_time(cal: WorkingCalendar) -> None:
    # 2026-09-30 01:30 UTC is Wednesday 09:30 in Beijing; + 1 -> Thursday 10-08 09:30 Beijing.
    assert cal.add_working_days(dt.datetime(2026, 9, 30, 1, 30, tzinfo=UTC), 1) == at(2026, 10, 8, 9, 30)
    # 2026-09-29 17:00 UTC is already Wednesday 01:00 in Beijing, not Tuesday.
    assert cal.add_working_days(dt.datetime(2026, 9, 29, 17, 0, tzinfo=UTC), 1) == at(2026, 10, 8, 1)


def test_add_working_days_rejects_naive_and_negative(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_days(dt.datetime(2026, 3, 6, 10), 1)
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_days(at(2026, 3, 6, 10), -1)


def test_working_days_between(cal: WorkingCalendar) -> None:
    # After 09-30: 10-08, 10-09, 10-10 (make-up Saturday) = 3 working days up to 10-11.
    assert cal.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 11)) == 3
    assert cal.working_days_between(dt.date(2026, 10, 11), dt.date(2026, 9, 30)) == -3
    assert cal.working_days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 7)) == 0
    assert cal.working_days_between(dt.date(2026, 3, 9), dt.date(2026, 3, 9)) == 0
    # Datetimes count by their Beijing date: 10-07 20:00 UTC is 10-08 04:00 Beijing.
    assert cal.working_days_between(at(2026, 9, 30, 10), dt.datetime(2026, 10, 7, 20, tzinfo=UTC)) == 1


def test_working_hours_within_a_day_skip_lunch(cal: WorkingCalendar) -> None:
    # 11:00-12:00 (1h) + 13:30-14:00 (0.5h).
    assert cal.working_hours_between(at(2026, 3, 9, 11), at(2026, 3, 9, 14)) == pytest.approx(1.5)
    # Entirely after hours.
    assert cal.working_hours_between(at(2026, 3, 9, 19), at(2026, 3, 9, 22)) == 0.0


def test_working_hours_across_a_weekend(cal: WorkingCalendar) -> None:
    # Friday 03-06 17:00-18:00 (1h) + Monday 03-09 09:00-10:00 (1h).
    assert cal.working_hours_between(at(2026, 3, 6, 17), at(2026, 3, 9, 10)) == pytest.approx(2.0)
    assert cal.working_hours_between(at(2026, 3, 9, 10), at(2026, 3, 6, 17)) == pytest.approx(-2.0)


def test_working_hours_across_the_national_day_holiday(cal: WorkingCalendar) -> None:
    # Wed 09-30 11:00: 11-12 (1) + 13:30-18 (4.5) = 5.5; 10-01..10-07 off;
    # Thu 10-08 until 14:30: 9-12 (3) + 13:30-14:30 (1) = 4. Total 9.5.
    assert cal.working_hours_between(at(2026, 9, 30, 11), at(2026, 10, 8, 14, 30)) == pytest.approx(9.5)


def test_working_hours_count_a_make_up_saturday(cal: WorkingCalendar) -> None:
    # Fri 10-09 17:00-18:00 (1) + make-up Sat 10-10 full day (3 + 4.5) + Mon 10-12 09:00-09:30 (0.5) = 9.
    assert cal.working_hours_between(at(2026, 10, 9, 17), at(2026, 10, 12, 9, 30)) == pytest.approx(9.0)


def test_working_hours_window_is_configurable() -> None:
    cal = WorkingCalendar(working_hours=[(dt.time(8, 0), dt.time(17, 0))])
    # Friday 16:00-17:00 (1) + Monday 08:00-10:00 (2).
    assert cal.working_hours_between(at(2026, 3, 6, 16), at(2026, 3, 9, 10)) == pytest.approx(3.0)


def test_working_hours_windows_are_validated() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(working_hours=[(dt.time(12, 0), dt.time(9, 0))])
    with pytest.raises(ValueError):
        WorkingCalendar(working_hours=[(dt.time(9, 0), dt.time(13, 0)), (dt.time(12, 0), dt.time(18, 0))])


def test_overrides_win_over_the_package() -> None:
    base = WorkingCalendar()
    cal = WorkingCalendar(
        {
            dt.date(2026, 10, 8): CalendarDayKind.HOLIDAY,  # an admin-entered extra day off
            dt.date(2026, 10, 17): CalendarDayKind.WORKDAY,  # an admin-entered make-up Saturday
        }
    )
    assert base.is_working_day(dt.date(2026, 10, 8)) and not cal.is_working_day(dt.date(2026, 10, 8))
    assert not base.is_working_day(dt.date(2026, 10, 17)) and cal.is_working_day(dt.date(2026, 10, 17))
    # Wed 09-30 10:00 + 1: 10-08 is now off -> Fri 10-09 10:00.
    assert cal.add_working_days(at(2026, 9, 30, 10), 1) == at(2026, 10, 9, 10)
    # Fri 10-16 10:00 + 1: Saturday 10-17 is now a workday.
    assert base.add_working_days(at(2026, 10, 16, 10), 1) == at(2026, 10, 19, 10)
    assert cal.add_working_days(at(2026, 10, 16, 10), 1) == at(2026, 10, 17, 10)


def test_overrides_accept_plain_strings() -> None:
    cal = WorkingCalendar({dt.date(2026, 10, 17): "WORKDAY"})  # type: ignore[dict-item]
    assert cal.is_working_day(dt.date(2026, 10, 17))


def test_official_data_years_include_2025_and_2026_not_2027(cal: WorkingCalendar) -> None:
    years = cal.official_data_years()
    assert {2025, 2026} <= years
    assert cal.warnings([2025, 2026]) == []


def test_2027_without_overrides_warns(cal: WorkingCalendar) -> None:
    # On 2026-11-28 no package had 2027's make-up workdays; if a later `holidays` release ships them,
    # this test should move to the next uncovered year.
    assert 2027 not in cal.official_data_years()
    messages = cal.warnings([2026, 2027])
    assert len(messages) == 1
    assert "2027" in messages[0]
    assert not cal.is_year_covered(2027)


def test_2027_with_overrides_does_not_warn() -> None:
    cal = WorkingCalendar({dt.date(2027, 2, 20): CalendarDayKind.WORKDAY})
    assert cal.warnings([2027]) == []
    assert cal.is_year_covered(2027)
    assert cal.override_years() == frozenset({2027})
    assert cal.is_working_day(dt.date(2027, 2, 20))


def test_from_settings_uses_timezone_and_start_hour() -> None:
    cal = WorkingCalendar.from_settings(Settings(timezone="UTC", workday_start_hour=8))
    assert cal.tz == ZoneInfo("UTC")
    # Sunday 2026-03-08 -> Monday 08:00 UTC, + 1 -> Tuesday 08:00 UTC.
    assert cal.add_working_days(dt.datetime(2026, 3, 8, 15, tzinfo=UTC), 1) == dt.datetime(2026, 3, 10, 8, tzinfo=UTC)


def test_a_year_is_computed_once(cal: WorkingCalendar) -> None:
    cal.is_working_day(dt.date(2026, 5, 1))
    first = cal._working_days_of(2026)
    assert cal._working_days_of(2026) is first
