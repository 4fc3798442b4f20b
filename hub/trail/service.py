"""Writing and verifying the hash-chained trail (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from hub.clock import utcnow
from hub.trail import repository
from hub.trail.models import CaseEvent, ReadLog

GENESIS = "0" * 64
NEW_EVENTS_KEY = "hub.new_events"
_HEADS_KEY = "hub.chain_heads"

_EVENTS = cast(Table, CaseEvent.__table__)
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


def canonical_json(fields: Mapping[str, Any]) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 kept as is."""
    if _plain(fields):  # orjson writes these exactly as json.dumps below does, several times faster
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _plain(value: object) -> bool:
    """Whether a value holds only what both serialisers write alike: no exponent floats, 64-bit ints, str keys."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -(2**63) <= value < 2**63  # type: ignore[operator]
    if kind is float:
        return value == 0.0 or 1e-4 <= abs(value) < 1e16  # type: ignore[arg-type]  # json writes 1e-05, orjson 1e-5
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())  # type: ignore[attr-defined]
    if kind is list or kind is tuple:
        return all(_plain(v) for v in value)  # type: ignore[attr-defined]
    return False  # datetimes, enums, decimals: json.dumps writes str() of them


_HASHED = ("case_id", "seq", "action", "actor_subject", "actor_role", "actor_department", "from_status", "to_status",
           "note", "payload", "at")


def hashed_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of an event (as a mapping) that the hash covers: everything but id, prev_hash and hash."""
    fields = {name: values[name] for name in _HASHED}
    fields["payload"] = fields["payload"] or {}
    fields["at"] = fields["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    return fields


def event_fields(event: CaseEvent) -> dict[str, Any]:
    """``hashed_fields`` of a stored or built event row."""
    return hashed_fields({name: getattr(event, name) for name in _HASHED})


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """sha256(prev_hash + canonical JSON of the row)."""
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode("utf-8")).hexdigest()


def event_values(
    *,
    case_id: int,
    seq: int,
    prev_hash: str,
    actor: Principal,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    payload: Mapping[str, Any] | None = None,
    at: dt.datetime,
) -> dict[str, Any]:
    """The column values of an event chained after ``prev_hash``, its hash computed."""
    values: dict[str, Any] = {
        "at": at.astimezone(dt.UTC),
        "case_id": case_id,
        "seq": seq,
        "action": action,
        "actor_subject": actor.subject,
        "actor_role": actor.primary_role.value,
        "actor_department": actor.department,
        "from_status": from_status,
        "to_status": to_status,
        "note": note,
        "payload": dict(payload or {}),
    }
    values["prev_hash"], values["hash"] = prev_hash, chain_hash(prev_hash, hashed_fields(values))
    return values


@dataclass(frozen=True)
class WrittenEvent:
    """An event a set-based insert wrote: what notices need, without loading the row back."""

    id: int
    case_id: int
    seq: int
    action: str
    to_status: str | None


NewEvent = CaseEvent | WrittenEvent


async def insert_events(
    session: AsyncSession, *, rows: Sequence[Mapping[str, Any]], anchors: Mapping[int, object]
) -> list[WrittenEvent]:
    """Insert events built by ``event_values`` in one statement, as their chains' heads.

    ``anchors`` maps each case id to its persistent case object: a head is trusted while its anchor is (a
    rolled-back savepoint detaches it, and the chain is read again).
    """
    if not rows:
        return []
    ids = (await session.execute(_INSERT_EVENTS, list(rows))).scalars()
    events = [
        WrittenEvent(i, row["case_id"], row["seq"], row["action"], row["to_status"])
        for i, row in zip(ids, rows, strict=True)
    ]
    _remember(session, [(row["case_id"], anchors[row["case_id"]], row["seq"], row["hash"]) for row in rows], events)
    return events


def _heads(session: AsyncSession) -> dict[int, tuple[object, int, str]]:
    """Chain heads known to this unit of work: case id → (anchor row, seq, hash); reset with each transaction."""
    root = session.sync_session.get_transaction()
    cached = session.info.get(_HEADS_KEY)
    if cached is None or cached[0] is not root:
        cached = (root, {})
        session.info[_HEADS_KEY] = cached
    heads: dict[int, tuple[object, int, str]] = cached[1]
    return heads


def start_chain(session: AsyncSession, *, case: object, case_id: int) -> None:
    """Note that a case was created in this unit of work, so its chain starts at GENESIS without a read."""
    _heads(session)[case_id] = (case, 0, GENESIS)


def register_events(session: AsyncSession, events: Sequence[CaseEvent]) -> None:
    """Remember flushed events as their chains' heads and queue them for publishing after commit."""
    _remember(session, [(event.case_id, event, event.seq, event.hash) for event in events], events)


def _remember(
    session: AsyncSession, heads: Sequence[tuple[int, object, int, str]], events: Sequence[NewEvent]
) -> None:
    """New chain heads (case id, anchor row, seq, hash), and the events to publish after commit."""
    known = _heads(session)
    for case_id, anchor, seq, digest in heads:
        known[case_id] = (anchor, seq, digest)
    # Whoever commits this unit of work publishes these to live subscribers afterwards.
    session.info.setdefault(NEW_EVENTS_KEY, []).extend(events)


async def _head(session: AsyncSession, case_id: int) -> tuple[int, str]:
    cached = _heads(session).get(case_id)
    # A row written inside a savepoint that was rolled back is no longer persistent: read the chain again.
    if cached is not None and inspect(cached[0]).persistent:
        return cached[1], cached[2]
    last = await repository.last_event(session, case_id=case_id)
    return (last.seq, last.hash) if last else (0, GENESIS)


async def append_event(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Principal,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    payload: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> CaseEvent:
    """Append one event to a case's chain. The caller holds the case row lock (or created the case)."""
    seq, prev_hash = await _head(session, case_id)
    event = CaseEvent(
        **event_values(
            case_id=case_id,
            seq=seq + 1,
            prev_hash=prev_hash,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note,
            payload=payload,
            at=at or utcnow(),
        )
    )
    session.add(event)
    await session.flush()
    register_events(session, [event])
    return event


def take_new_events(session: AsyncSession) -> list[NewEvent]:
    """The events this unit of work appended, once (for publishing after commit)."""
    events: list[NewEvent] = session.info.pop(NEW_EVENTS_KEY, [])
    # Events of a savepoint that was rolled back never happened (a set-based insert is its savepoint's last step).
    return [e for e in events if isinstance(e, WrittenEvent) or inspect(e).has_identity]


@dataclass(frozen=True)
class BrokenLink:
    """The first event of a case whose chain does not hold."""

    case_id: int
    case_no: str | None
    event_id: int
    seq: int
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """What a verification pass found."""

    cases_checked: int
    events_checked: int
    broken: list[BrokenLink]

    @property
    def intact(self) -> bool:
        """Whether every chain held."""
        return not self.broken


async def verify_chains(session: AsyncSession, *, case_id: int | None = None) -> VerifyReport:
    """Recompute every chain (or one case's) and name the first broken link of each broken case."""
    broken: list[BrokenLink] = []
    cases = events = 0
    async for case_no, chain in _chains(session, case_id=case_id):
        cases += 1
        prev, expected_seq = GENESIS, 1
        for event in chain:
            events += 1
            reason = None
            if event.seq != expected_seq:
                reason = f"sequence gap: expected {expected_seq}, found {event.seq}"
            elif event.prev_hash != prev:
                reason = "prev_hash does not match the previous event"
            elif chain_hash(prev, event_fields(event)) != event.hash:
                reason = "hash does not match the row's content"
            if reason:
                broken.append(BrokenLink(event.case_id, case_no, event.id, event.seq, reason))
                break
            prev, expected_seq = event.hash, expected_seq + 1
    return VerifyReport(cases_checked=cases, events_checked=events, broken=broken)


async def _chains(session: AsyncSession, *, case_id: int | None) -> AsyncIterator[tuple[str | None, list[CaseEvent]]]:
    current: list[CaseEvent] = []
    current_no: str | None = None
    async for case_no, event in repository.stream_events(session, case_id=case_id):
        if current and current[0].case_id != event.case_id:
            yield current_no, current
            current = []
        current.append(event)
        current_no = case_no
    if current:
        yield current_no, current


async def record_read(
    session: AsyncSession, *, actor: Principal, action: str, target: str | None, request_id: str | None = None
) -> None:
    """Record a sensitive read (who looked at what, and when)."""
    session.add(
        ReadLog(
            at=utcnow(),
            subject=actor.subject,
            role=actor.primary_role.value,
            department=actor.department,
            action=action,
            target=target,
            request_id=request_id,
        )
    )


async def write_read(
    session: AsyncSession, *, actor: Principal, action: str, target: str | None, request_id: str | None = None
) -> None:
    """Record a sensitive read now, in the session's transaction: one INSERT, no unit-of-work flush."""
    await session.execute(
        insert(ReadLog).values(
            at=utcnow(),
            subject=actor.subject,
            role=actor.primary_role.value,
            department=actor.department,
            action=action,
            target=target,
            request_id=request_id,
        )
    )
