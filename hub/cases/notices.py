"""Turning the events a unit of work wrote into notices for live subscribers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases import queries
from hub.cases.models import Case
from hub.events import EventBus, EventNotice
from hub.trail.service import take_new_events


async def notices_for(session: AsyncSession) -> list[EventNotice]:
    """Notices for the events appended in this session; call before commit, publish after it."""
    events = take_new_events(session)
    if not events:
        return []
    case_ids = list(dict.fromkeys(e.case_id for e in events))
    co = await queries.co_departments_by_case(session, case_ids=case_ids)
    notices = []
    for event in events:
        case = await session.get(Case, event.case_id)
        assert case is not None
        departments = tuple(i for i in (case.lead_department_id, *co[case.id]) if i is not None)
        notices.append(
            EventNotice(
                case_id=case.id,
                case_no=case.case_no,
                event_id=event.id,
                seq=event.seq,
                action=event.action,
                status=event.to_status or case.status.value,
                department_ids=departments,
            )
        )
    return notices


async def publish(bus: EventBus, notices: list[EventNotice]) -> None:
    """Send notices out (after the commit that made them true); in one round trip when the bus can."""
    many = getattr(bus, "publish_many", None)
    if many is not None and len(notices) > 1:
        await many(notices)
        return
    for notice in notices:
        await bus.publish(notice)
