"""DeadlinePolicy: sign, answer, return, extension and auto-close deadlines on real holiday schedules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub.deadlines.calendar import WorkingCalendar
from hub.deadlines.policy import DeadlinePolicy
from hub.enums import CalendarDayKind, CaseKind, Urgency
from hub.errors import ExtensionTooLong, ValidationFailed
from hub.settings import Settings

CST = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
NORMAL = Urgency.NORMAL
URGENT = Urgency.URGENT


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> dt.datetime:
    """A moment in Beijing time."""
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=CST)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return DeadlinePolicy()


# Wednesday 2026-09-30 10:00, the last working day before the 2026 National Day holiday.
# Off: Thu 10-01 .. Wed 10-07. Next working days: Thu 10-08, Fri 10-09, Sat 10-10 (make-up), Mon 10-12, ...
BEFORE_NATIONAL_DAY_2026 = at(2026, 9, 30, 10)


def test_sign_deadline_before_national_day_2026(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # 1 working day after Wed 09-30 -> Thu 10-08 10:00 Beijing = 02:00 UTC.
    due = policy.sign_deadline(cal, BEFORE_NATIONAL_DAY_2026, NORMAL)
    assert due == dt.datetime(2026, 10, 8, 2, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


@pytest.mark.parametrize("kind", [CaseKind.CONSULTATION, CaseKind.HELP])
def test_short_answer_deadline_before_national_day_2026(
    cal: WorkingCalendar, policy: DeadlinePolicy, kind: CaseKind
) -> None:
    # 3 working days: Thu 10-08 (1), Fri 10-09 (2), make-up Sat 10-10 (3) -> Sat 10-10 10:00.
    assert policy.answer_deadline(cal, BEFORE_NATIONAL_DAY_2026, kind, NORMAL) == at(2026, 10, 10, 10)


@pytest.mark.parametrize("kind", [CaseKind.COMPLAINT, CaseKind.REPORT, CaseKind.SUGGESTION, CaseKind.OTHER])
def test_long_answer_deadline_before_national_day_2026(
    cal: WorkingCalendar, policy: DeadlinePolicy, kind: CaseKind
) -> None:
    # 13 working days: 10-08 (1), 10-09 (2), Sat 10-10 (3), 10-12..10-16 (4-8), 10-19..10-23 (9-13)
    # -> Fri 10-23 10:00.
    assert policy.answer_deadline(cal, BEFORE_NATIONAL_DAY_2026, kind, NORMAL) == at(2026, 10, 23, 10)


def test_return_window_before_national_day_2026(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # 2 working days: Thu 10-08 (1), Fri 10-09 (2) -> Fri 10-09 10:00.
    assert policy.return_window_end(cal, BEFORE_NATIONAL_DAY_2026) == at(2026, 10, 9, 10)


def test_dispatch_on_make_up_sunday_2026(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Sun 09-20 is a make-up workday, so the clock starts at once: + 1 -> Mon 09-21 14:00.
    assert policy.sign_deadline(cal, at(2026, 9, 20, 14), NORMAL) == at(2026, 9, 21, 14)


def test_dispatch_on_an_ordinary_sunday(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Sun 2026-03-08 15:00 -> Mon 03-09 09:00; sign + 1 -> Tue 03-10 09:00;
    # answer (CONSULTATION) + 3 -> Thu 03-12 09:00.
    sunday = at(2026, 3, 8, 15)
    assert policy.sign_deadline(cal, sunday, NORMAL) == at(2026, 3, 10, 9)
    assert policy.answer_deadline(cal, sunday, CaseKind.CONSULTATION, NORMAL) == at(2026, 3, 12, 9)


def test_dispatch_inside_the_national_day_holiday(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Sat 2026-10-03 (holiday) -> Thu 10-08 09:00; sign + 1 -> Fri 10-09 09:00;
    # answer (HELP) + 3: 10-09 (1), Sat 10-10 (2), Mon 10-12 (3) -> Mon 10-12 09:00.
    holiday = at(2026, 10, 3, 11)
    assert policy.sign_deadline(cal, holiday, NORMAL) == at(2026, 10, 9, 9)
    assert policy.answer_deadline(cal, holiday, CaseKind.HELP, NORMAL) == at(2026, 10, 12, 9)


def test_deadlines_before_national_day_2025(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # 2025: off Wed 10-01 .. Wed 10-08; make-up Sun 09-28 and Sat 10-11.
    # Tue 09-30 16:00: sign + 1 -> Thu 10-09 16:00;
    # answer (CONSULTATION) + 3: Thu 10-09 (1), Fri 10-10 (2), make-up Sat 10-11 (3) -> Sat 10-11 16:00;
    # answer (COMPLAINT) + 13: 10-09, 10-10, 10-11 (3), 10-13..10-17 (4-8), 10-20..10-24 (9-13) -> Fri 10-24.
    dispatched = at(2025, 9, 30, 16)
    assert policy.sign_deadline(cal, dispatched, NORMAL) == at(2025, 10, 9, 16)
    assert policy.answer_deadline(cal, dispatched, CaseKind.CONSULTATION, NORMAL) == at(2025, 10, 11, 16)
    assert policy.answer_deadline(cal, dispatched, CaseKind.COMPLAINT, NORMAL) == at(2025, 10, 24, 16)


def test_dispatch_on_saturday_before_2025_make_up_sunday(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Sat 2025-09-27 -> make-up Sun 09-28 09:00; sign + 1 -> Mon 09-29 09:00.
    assert policy.sign_deadline(cal, at(2025, 9, 27, 20), NORMAL) == at(2025, 9, 29, 9)


def test_overrides_change_the_deadlines(policy: DeadlinePolicy) -> None:
    # An admin marks Thu 2026-10-08 as a holiday and Sun 10-11 as a make-up workday.
    cal = WorkingCalendar(
        {dt.date(2026, 10, 8): CalendarDayKind.HOLIDAY, dt.date(2026, 10, 11): CalendarDayKind.WORKDAY}
    )
    # Sign: 10-08 is off -> Fri 10-09 10:00.
    assert policy.sign_deadline(cal, BEFORE_NATIONAL_DAY_2026, NORMAL) == at(2026, 10, 9, 10)
    # Answer + 3: Fri 10-09 (1), Sat 10-10 (2), Sun 10-11 (3) -> Sun 10-11 10:00.
    assert policy.answer_deadline(cal, BEFORE_NATIONAL_DAY_2026, CaseKind.HELP, NORMAL) == at(2026, 10, 11, 10)


def test_urgent_sign_deadline_is_two_clock_hours(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Even on a holiday: 2026-10-01 10:00 -> 12:00 Beijing = 04:00 UTC.
    due = policy.sign_deadline(cal, at(2026, 10, 1, 10), URGENT)
    assert due == dt.datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


@pytest.mark.parametrize("kind", [CaseKind.CONSULTATION, CaseKind.COMPLAINT])
def test_urgent_answer_deadline_is_end_of_the_local_day(
    cal: WorkingCalendar, policy: DeadlinePolicy, kind: CaseKind
) -> None:
    # Dispatched 2026-10-01 10:00 Beijing -> 23:59:59 Beijing = 15:59:59 UTC, holiday or not.
    assert policy.answer_deadline(cal, at(2026, 10, 1, 10), kind, URGENT) == dt.datetime(
        2026, 10, 1, 15, 59, 59, tzinfo=UTC
    )
    # 2026-09-29 20:00 UTC is already 09-30 04:00 in Beijing: due at the end of 09-30 Beijing.
    assert policy.answer_deadline(cal, dt.datetime(2026, 9, 29, 20, tzinfo=UTC), kind, URGENT) == at(
        2026, 9, 30, 23, 59, 59
    )


def test_extension_moves_due_at_by_working_days(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Due Wed 09-30 10:00, + 2 working days: Thu 10-08 (1), Fri 10-09 (2).
    assert policy.extend(cal, BEFORE_NATIONAL_DAY_2026, 2) == at(2026, 10, 9, 10)
    # The maximum, 10: 10-08, 10-09, 10-10, 10-12..10-16 (8), 10-19 (9), 10-20 (10).
    assert policy.extend(cal, BEFORE_NATIONAL_DAY_2026, 10) == at(2026, 10, 20, 10)


def test_extension_of_an_urgent_due_time_on_a_holiday(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Due 10-01 23:59:59 (a holiday) -> counts from Thu 10-08 09:00; + 1 -> Fri 10-09 09:00.
    assert policy.extend(cal, at(2026, 10, 1, 23, 59, 59), 1) == at(2026, 10, 9, 9)


def test_extension_limits(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    with pytest.raises(ExtensionTooLong):
        policy.extend(cal, BEFORE_NATIONAL_DAY_2026, 11)
    with pytest.raises(ValidationFailed) as info:
        policy.extend(cal, BEFORE_NATIONAL_DAY_2026, 0)
    assert not isinstance(info.value, ExtensionTooLong)


def test_auto_close(cal: WorkingCalendar, policy: DeadlinePolicy) -> None:
    # Answered Wed 09-30 10:00 + 5: 10-08, 10-09, Sat 10-10, Mon 10-12, Tue 10-13 -> Tue 10-13 10:00.
    assert policy.auto_close_at(cal, BEFORE_NATIONAL_DAY_2026) == at(2026, 10, 13, 10)


def test_from_settings() -> None:
    settings = Settings(answer_working_days_short=5, max_extension_working_days=3, urgent_sign_hours=4)
    policy = DeadlinePolicy.from_settings(settings)
    assert policy.answer_working_days(CaseKind.HELP) == 5
    assert policy.answer_working_days(CaseKind.COMPLAINT) == 13
    assert policy.urgent_sign_hours == 4
    cal = WorkingCalendar.from_settings(settings)
    with pytest.raises(ExtensionTooLong):
        policy.extend(cal, BEFORE_NATIONAL_DAY_2026, 4)


def test_policy_rejects_bad_numbers() -> None:
    with pytest.raises(ValueError):
        DeadlinePolicy(sign_working_days=-1)
    with pytest.raises(ValueError):
        DeadlinePolicy(max_extension_working_days=0)
