"""`hub calendar`: enter the State Council's holiday notice (调休) as overrides and show a year's coverage."""

from __future__ import annotations

import argparse
import datetime as dt

from sqlalchemy import select

from auth.principal import Principal, Role
from hub.db import make_engine, make_sessionmaker, transaction
from hub.deadlines.models import CalendarOverride
from hub.deadlines.service import calendar_for, set_override
from hub.enums import CalendarDayKind
from hub.errors import ValidationFailed
from hub.settings import Settings

# Whoever runs the CLI on the server holds the database credentials: they act as the district's administrator.
CLI_ADMIN = Principal(subject="cli-admin", roles=frozenset({Role.ADMIN}))


async def set_days(settings: Settings, *, days: list[dt.date], kind: CalendarDayKind, note: str | None) -> list[str]:
    """Store the days as holidays or make-up workdays in one transaction; one line per day."""
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            for day in days:
                await set_override(session, actor=CLI_ADMIN, day=day, kind=kind, note=note)
    finally:
        await engine.dispose()
    return [f"{day.isoformat()} {kind.value}" + (f" ({note})" if note else "") for day in days]


async def show_year(settings: Settings, *, year: int) -> list[str]:
    """A year's overrides and whether its working days rest on official data, overrides or a guess."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            stmt = select(CalendarOverride).where(
                CalendarOverride.day >= dt.date(year, 1, 1), CalendarOverride.day <= dt.date(year, 12, 31)
            )
            rows = list((await session.execute(stmt.order_by(CalendarOverride.day))).scalars())
            calendar = await calendar_for(session, settings=settings)
    finally:
        await engine.dispose()
    lines = [" ".join(filter(None, [r.day.isoformat(), r.kind.value, r.note, f"(by {r.created_by})"])) for r in rows]
    if year in calendar.official_data_years():
        lines.append(
            f"{year}: official holiday schedule from the holidays package"
            + (f", plus {len(rows)} override(s)" if rows else "")
        )
    elif rows:
        lines.append(f"{year}: {len(rows)} override(s) entered; other days follow weekends and statutory holidays")
    else:
        lines.extend(calendar.warnings([year]))
    return lines


async def run(settings: Settings, args: argparse.Namespace) -> list[str]:
    """`hub calendar set DAYS --workday|--holiday [--note]` or `hub calendar show YEAR`: the lines to print."""
    if args.calendar_command == "show":
        return await show_year(settings, year=args.year)
    try:
        days = [dt.date.fromisoformat(day) for day in args.days]
    except ValueError:
        raise ValidationFailed("days are ISO dates, e.g. 2027-02-07") from None
    kind = CalendarDayKind.WORKDAY if args.workday else CalendarDayKind.HOLIDAY
    return await set_days(settings, days=days, kind=kind, note=args.note)
