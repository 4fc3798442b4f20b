"""`hub calendar`: an administrator enters a year's holiday notice and deadlines follow it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.deadlines.commands import set_days, show_year
from hub.deadlines.service import calendar_for
from hub.enums import CalendarDayKind

SATURDAY = dt.date(2027, 2, 20)
THURSDAY = dt.date(2027, 2, 11)


async def test_entered_days_change_the_working_calendar_and_show_up(db: Any) -> None:
    assert "no official holiday schedule" in "\n".join(await show_year(db.settings, year=2027))
    async with db.sessions() as session:
        before = await calendar_for(session, settings=db.settings)
    assert not before.is_working_day(SATURDAY) and before.is_working_day(THURSDAY)

    await set_days(db.settings, days=[SATURDAY], kind=CalendarDayKind.WORKDAY, note="春节调休")
    await set_days(db.settings, days=[THURSDAY], kind=CalendarDayKind.HOLIDAY, note=None)

    async with db.sessions() as session:
        after = await calendar_for(session, settings=db.settings)
    assert after.is_working_day(SATURDAY) and not after.is_working_day(THURSDAY)
    shown = await show_year(db.settings, year=2027)
    assert shown[:2] == ["2027-02-11 HOLIDAY (by cli-admin)", "2027-02-20 WORKDAY 春节调休 (by cli-admin)"]
    assert shown[-1].startswith("2027: 2 override(s) entered")


async def test_setting_a_day_again_replaces_it(db: Any) -> None:
    await set_days(db.settings, days=[SATURDAY], kind=CalendarDayKind.WORKDAY, note="first")
    await set_days(db.settings, days=[SATURDAY], kind=CalendarDayKind.HOLIDAY, note="corrected")
    shown = await show_year(db.settings, year=2027)
    assert shown[0] == "2027-02-20 HOLIDAY corrected (by cli-admin)" and len(shown) == 2


async def test_the_command_refuses_a_day_that_is_not_a_date(db: Any) -> None:
    import argparse

    import pytest

    from hub.deadlines.commands import run
    from hub.errors import ValidationFailed

    args = argparse.Namespace(calendar_command="set", days=["2027-02-30"], workday=False, note=None)
    with pytest.raises(ValidationFailed, match="ISO dates"):
        await run(db.settings, args)
    assert not [line for line in await show_year(db.settings, year=2027) if line.startswith("2027-")]  # none stored
