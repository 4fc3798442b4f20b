"""The calendar the hub computes deadlines with: the package's official days plus admin overrides."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.permission import Operation
from auth.principal import Principal
from hub.deadlines.calendar import WorkingCalendar
from hub.deadlines.models import CalendarOverride
from hub.deadlines.policy import DeadlinePolicy
from hub.enums import CalendarDayKind
from hub.permissions import require
from hub.settings import Settings

# Overrides change a few times a year; other processes pick a change up within this many seconds.
_CACHE_SECONDS = 60.0
_cache: tuple[float, str, WorkingCalendar] | None = None


async def calendar_for(session: AsyncSession, *, settings: Settings) -> WorkingCalendar:
    """The working calendar with the database's overrides, cached briefly per process."""
    global _cache
    key = f"{settings.timezone}/{settings.workday_start_hour}"
    if _cache is not None and _cache[1] == key and time.monotonic() - _cache[0] < _CACHE_SECONDS:
        return _cache[2]
    rows = (await session.execute(select(CalendarOverride))).scalars()
    calendar = WorkingCalendar.from_settings(settings, {r.day: r.kind for r in rows})
    _cache = (time.monotonic(), key, calendar)
    return calendar


def invalidate_calendar() -> None:
    """Forget the cached calendar (after overrides change)."""
    global _cache
    _cache = None


def policy_for(settings: Settings) -> DeadlinePolicy:
    """The configured deadline policy."""
    return DeadlinePolicy.from_settings(settings)


async def set_override(
    session: AsyncSession, *, actor: Principal, day: dt.date, kind: CalendarDayKind, note: str | None = None
) -> CalendarOverride:
    """Enter one day of a State Council notice (admin only); replaces an earlier row for that day."""
    require(actor, Operation.CALENDAR_MANAGE)
    row = await session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, kind=kind, note=note, created_by=actor.subject)
        session.add(row)
    else:
        row.kind, row.note, row.created_by = kind, note, actor.subject
    await session.flush()
    invalidate_calendar()
    return row
