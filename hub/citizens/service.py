"""Finding the one citizen behind many channels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import CitizenDraft
from hub.citizens import repository
from hub.citizens.models import Citizen, CitizenIdentity


def identity_keys(*, citizen: CitizenDraft, channel: str) -> list[tuple[str, str]]:
    """The (kind, value) pairs a draft's citizen can be recognised by."""
    keys: list[tuple[str, str]] = []
    if citizen.phone and "*" not in citizen.phone:
        keys.append(("PHONE", citizen.phone))
    if citizen.account_id:
        keys.append((channel, citizen.account_id))
    return keys


async def link_citizen(session: AsyncSession, *, citizen: CitizenDraft, channel: str) -> Citizen | None:
    """Return the citizen this draft came from, creating them or binding new identities as needed."""
    keys = identity_keys(citizen=citizen, channel=channel)
    if not keys and not citizen.name:
        return None
    for _attempt in range(3):
        try:
            async with session.begin_nested():
                return await _link(session, citizen=citizen, keys=keys)
        except IntegrityError:
            # Another transaction bound the same identity first; the next pass finds theirs.
            continue
    raise RuntimeError("could not link citizen after concurrent retries")


async def _link(session: AsyncSession, *, citizen: CitizenDraft, keys: list[tuple[str, str]]) -> Citizen:
    known = await repository.find_by_identities(session, keys=keys)
    if known:
        person = await session.get(Citizen, known[0].citizen_id)
        assert person is not None
    else:
        person = Citizen(name=citizen.name, phone=_clear_phone(citizen.phone), id_number=citizen.id_number)
        session.add(person)
        await session.flush()
    if person.phone is None and _clear_phone(citizen.phone):
        person.phone = citizen.phone
    if person.name is None and citizen.name:
        person.name = citizen.name
    have = {(i.kind, i.value) for i in known}
    for kind, value in keys:
        if (kind, value) not in have:
            session.add(CitizenIdentity(citizen_id=person.id, kind=kind, value=value))
    await session.flush()
    return person


@dataclass
class _NewCitizen:
    """A citizen this page creates (a plain row until it is inserted)."""

    name: str | None
    phone: str | None
    id_number: str | None
    id: int | None = None


async def link_citizens(
    session: AsyncSession, *, citizens: Sequence[tuple[CitizenDraft, str]], now: dt.datetime
) -> list[int | None]:
    """``link_citizen`` for each (citizen, channel) in turn, with one read and one insert per table; their ids.

    The same rules apply as one draft after another: the first known key (phone before account) names the
    person, new keys are bound to them, a missing phone or name is filled in. The caller runs this inside a
    savepoint: a concurrent binding of the same identity surfaces as IntegrityError at the insert.
    """
    keyed = [(draft, identity_keys(citizen=draft, channel=channel)) for draft, channel in citizens]
    known: dict[tuple[str, str], Citizen | _NewCitizen] = dict(
        await repository.citizens_by_identities(session, keys=[k for _, keys in keyed for k in keys])
    )
    people: list[Citizen | _NewCitizen | None] = []
    created: list[_NewCitizen] = []
    bindings: list[tuple[Citizen | _NewCitizen, str, str]] = []
    for draft, keys in keyed:
        if not keys and not draft.name:
            people.append(None)
            continue
        hits = [known[k] for k in keys if k in known]
        if hits:
            person = hits[0]
        else:
            person = _NewCitizen(name=draft.name, phone=_clear_phone(draft.phone), id_number=draft.id_number)
            created.append(person)
        # a stored citizen is updated through the session (rare); a new one's row is still being built
        if person.phone is None and _clear_phone(draft.phone):
            person.phone = draft.phone
        if person.name is None and draft.name:
            person.name = draft.name
        for kind, value in keys:
            if (kind, value) not in known:
                known[(kind, value)] = person
                bindings.append((person, kind, value))
        people.append(person)
    if created:
        rows = [{"name": p.name, "phone": p.phone, "id_number": p.id_number, "created_at": now} for p in created]
        for person, new_id in zip(created, await repository.insert_citizens(session, rows=rows), strict=True):
            person.id = new_id
    bound = [{"citizen_id": p.id, "kind": kind, "value": value, "bound_at": now} for p, kind, value in bindings]
    await repository.insert_identities(session, rows=bound)
    return [p.id if p is not None else None for p in people]


def _clear_phone(phone: str | None) -> str | None:
    return phone if phone and "*" not in phone else None
