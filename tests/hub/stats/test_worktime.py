"""The constant-time working-hours timeline gives the calendar's own figures."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from helpers import CST

from hub.deadlines.calendar import WorkingCalendar
from hub.enums import CalendarDayKind
from hub.stats.worktime import WorkingTimeline

# The handling times of the statistics fixture (conftest.py), counted by hand.
HAND_COUNTED = [
    # 16:00–18:00 on 30 Sep, the National Day holiday, 09:00–11:00 on 8 Oct
    (dt.datetime(2026, 9, 30, 16, 0, tzinfo=CST), dt.datetime(2026, 10, 8, 11, 0, tzinfo=CST), 4.0),
    # Mon 6.5 (10–12, 13:30–18), Tue–Fri 4 × 7.5, Mon 7.5, Tue 1
    (dt.datetime(2026, 11, 2, 10, 0, tzinfo=CST), dt.datetime(2026, 11, 10, 10, 0, tzinfo=CST), 45.0),
    # Mon 4 (14–18), Tue–Fri 4 × 7.5, Mon 1
    (dt.datetime(2026, 11, 2, 14, 0, tzinfo=CST), dt.datetime(2026, 11, 9, 10, 0, tzinfo=CST), 35.0),
    # inside the lunch break: nothing
    (dt.datetime(2026, 11, 2, 12, 10, tzinfo=CST), dt.datetime(2026, 11, 2, 13, 20, tzinfo=CST), 0.0),
]


@pytest.mark.parametrize(("start", "end", "hours"), HAND_COUNTED)
def test_hand_counted(start: dt.datetime, end: dt.datetime, hours: float) -> None:
    calendar = WorkingCalendar()
    assert calendar.working_hours_between(start, end) == pytest.approx(hours)
    assert WorkingTimeline(calendar).hours_between(start, end) == pytest.approx(hours)


def test_agrees_with_the_calendar_on_random_pairs() -> None:
    # An override makes a Saturday a working day and a Tuesday a day off.
    overrides = {dt.date(2026, 12, 5): CalendarDayKind.WORKDAY, dt.date(2026, 12, 8): CalendarDayKind.HOLIDAY}
    calendar = WorkingCalendar(overrides)
    timeline = WorkingTimeline(calendar)
    rng = random.Random(12345)
    base = dt.datetime(2026, 9, 20, tzinfo=dt.UTC)
    for _ in range(400):
        start = base + dt.timedelta(minutes=rng.randrange(0, 120 * 24 * 60), microseconds=rng.randrange(10**6))
        end = start + dt.timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
        if rng.random() < 0.1:
            start, end = end, start
        assert timeline.hours_between(start, end) == pytest.approx(calendar.working_hours_between(start, end), abs=1e-9)
