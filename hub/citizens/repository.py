"""All SQL of citizens and their identities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.citizens.models import Citizen, CitizenIdentity
from hub.sql import one_of, one_of_parameter

_CITIZEN = cast(Table, Citizen.__table__)
_IDENTITY = cast(Table, CitizenIdentity.__table__)


async def find_by_identities(session: AsyncSession, *, keys: Sequence[tuple[str, str]]) -> list[CitizenIdentity]:
    """Identities matching any of (kind, value)."""
    if not keys:
        return []
    found: list[CitizenIdentity] = []
    for kind, value in keys:
        stmt = select(CitizenIdentity).where(CitizenIdentity.kind == kind, CitizenIdentity.value == value)
        found.extend((await session.execute(stmt)).scalars())
    return found


_PERSONAL_DATA = select(Citizen.id, Citizen.name, Citizen.phone, Citizen.id_number).where(
    one_of_parameter(Citizen.id, "ids")
)


async def get_many(session: AsyncSession, *, ids: Sequence[int]) -> list[Row[Any]]:
    """Citizens by id, as rows of (id, name, phone, id_number): what a case shows of its citizen, no entities."""
    if not ids:
        return []
    return list(await session.execute(_PERSONAL_DATA, {"ids": list(ids)}))


async def citizens_by_identities(
    session: AsyncSession, *, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Citizen]:
    """The citizen behind each known (kind, value), in one read."""
    if not keys:
        return {}
    kinds, values = sorted({k for k, _ in keys}), sorted({v for _, v in keys})
    stmt = (
        select(CitizenIdentity.kind, CitizenIdentity.value, Citizen)
        .join(Citizen, Citizen.id == CitizenIdentity.citizen_id)
        .where(CitizenIdentity.kind.in_(kinds), one_of(CitizenIdentity.value, values))
    )
    wanted = set(keys)
    return {(kind, value): person for kind, value, person in await session.execute(stmt) if (kind, value) in wanted}


async def insert_citizens(session: AsyncSession, *, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert citizens (rows with the same keys) in one statement, without the unit of work; their ids in order."""
    if not rows:
        return []
    stmt = insert(_CITIZEN).returning(_CITIZEN.c.id, sort_by_parameter_order=True)
    return list((await session.execute(stmt, list(rows))).scalars())


async def insert_identities(session: AsyncSession, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert identities (rows with the same keys) in one statement."""
    if rows:
        await session.execute(insert(_IDENTITY), list(rows))
