"""The workflow: every transition of DESIGN §2, each checked, each writing one chained event."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from auth.permission import Operation
from auth.principal import Role
from hub.cases import repository
from hub.cases.access import load_case
from hub.cases.models import Case, Reply
from hub.cases.outbox import note_new_reply
from hub.cases.steps import iso, record, required_text
from hub.cases.workflow import next_status
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.deadlines.calendar import WorkingCalendar
from hub.deadlines.policy import DeadlinePolicy
from hub.deadlines.service import calendar_for, policy_for
from hub.departments import repository as departments
from hub.departments.models import Department
from hub.enums import CaseAction, CaseKind, CaseStatus, DeliveryStatus, Urgency
from hub.errors import (
    IllegalTransition,
    ReturnWindowClosed,
    UnknownDepartment,
    ValidationFailed,
)
from hub.permissions import require

A = CaseAction


@dataclass(frozen=True)
class DispatchChange:
    """What a dispatch did to a case: its status before, its co-departments and the event's payload."""

    before: CaseStatus
    co_department_ids: list[int]
    payload: dict[str, Any]


def require_active(named: Sequence[Department]) -> None:
    """UnknownDepartment for the first inactive one, as a dispatch naming it by code would give."""
    inactive = [d.code for d in named if not d.active]
    if inactive:
        raise UnknownDepartment(f"unknown department {inactive[0]!r}")


class Dispatchable(Protocol):
    """What a dispatch reads and writes of a case: a stored Case, or the values of one being inserted."""

    case_no: str
    kind: CaseKind
    urgency: Urgency
    status: CaseStatus
    category: str | None
    lead_department_id: int | None
    dispatched_at: dt.datetime | None
    claimed_at: dt.datetime | None
    sign_deadline: dt.datetime | None
    due_at: dt.datetime | None
    return_deadline: dt.datetime | None


def apply_dispatch(
    case: Dispatchable,
    *,
    lead: Department,
    co: Sequence[Department],
    category: str | None,
    now: dt.datetime,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
) -> DispatchChange:
    """RECEIVED → DISPATCHED on the case object: lead, deadlines, category; the one rule both dispatch paths use."""
    target = next_status(A.DISPATCHED, case.status, case.case_no)
    require_active([lead, *co])
    co_departments = list({d.code: d for d in co if d.code != lead.code}.values())
    before = case.status
    case.status, case.lead_department_id, case.dispatched_at = target, lead.id, now
    case.claimed_at = None
    case.sign_deadline = policy.sign_deadline(calendar, now, case.urgency)
    case.due_at = policy.answer_deadline(calendar, now, case.kind, case.urgency)
    case.return_deadline = policy.return_window_end(calendar, now)
    if category:
        case.category = category
    payload = {
        "lead": lead.code,
        "co": [d.code for d in co_departments],
        "category": case.category,
        "signDeadline": iso(case.sign_deadline),
        "dueAt": iso(case.due_at),
    }
    return DispatchChange(before, [d.id for d in co_departments], payload)


async def dispatch_case(
    ctx: ServiceContext,
    *,
    case_id: int,
    lead_department: str,
    co_departments: Sequence[str] = (),
    category: str | None = None,
    note: str | None = None,
) -> Case:
    """RECEIVED → DISPATCHED: the centre names a lead department and optional co-handlers."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.CASE_DISPATCH)
    next_status(A.DISPATCHED, case.status, case.case_no)
    codes = [lead_department, *co_departments]
    found = await departments.by_codes(ctx.session, codes=codes)
    missing = [c for c in codes if c not in found]
    if missing:
        raise UnknownDepartment(f"unknown department {missing[0]!r}")
    calendar, policy = await calendar_for(ctx.session, settings=ctx.settings), policy_for(ctx.settings)
    change = apply_dispatch(
        case,
        lead=found[lead_department],
        co=[found[c] for c in co_departments],
        category=category,
        now=utcnow(),
        calendar=calendar,
        policy=policy,
    )
    await repository.set_co_departments(ctx.session, case_id=case.id, department_ids=change.co_department_ids)
    await record(ctx, case, A.DISPATCHED, from_status=change.before, note=note, payload=change.payload)
    return case


async def claim_case(ctx: ServiceContext, *, case_id: int, note: str | None = None) -> Case:
    """DISPATCHED → CLAIMED: the lead department signs for the case (签收)."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.CASE_CLAIM)
    target = next_status(A.CLAIMED, case.status, case.case_no)
    now, before = utcnow(), case.status
    case.status, case.claimed_at = target, now
    on_time = case.sign_deadline is None or now <= case.sign_deadline
    await record(ctx, case, A.CLAIMED, from_status=before, note=note, payload={"onTime": on_time})
    return case


async def return_case(ctx: ServiceContext, *, case_id: int, reason: str) -> Case:
    """DISPATCHED → RECEIVED: the lead department sends a misrouted case back (退单), with a reason."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.CASE_RETURN)
    target = next_status(A.RETURNED, case.status, case.case_no)
    reason = required_text(reason, "a reason for the return")
    now = utcnow()
    if case.return_deadline is not None and now > case.return_deadline:
        raise ReturnWindowClosed(
            f"case {case.case_no} can no longer be returned: the window closed at {iso(case.return_deadline)}"
        )
    before = case.status
    returned_by = ctx.actor.department
    case.status, case.lead_department_id, case.return_count = target, None, case.return_count + 1
    case.dispatched_at = case.sign_deadline = case.due_at = case.return_deadline = None
    await repository.set_co_departments(ctx.session, case_id=case.id, department_ids=[])
    await record(ctx, case, A.RETURNED, from_status=before, note=reason, payload={"from": returned_by})
    return case


async def answer_case(ctx: ServiceContext, *, case_id: int, content: str) -> tuple[Case, Reply]:
    """CLAIMED → ANSWERED by the lead department, or RECEIVED → ANSWERED by the centre directly.

    The reply is queued for delivery on the citizen's channel in the same transaction (the outbox).
    """
    content = required_text(content, "the answer's content")
    direct = Role.DISPATCHER in ctx.actor.roles or Role.SYSTEM in ctx.actor.roles
    operation = Operation.CASE_ANSWER_DIRECT if direct else Operation.CASE_ANSWER
    case = await load_case(ctx, case_id=case_id, operation=operation)
    if direct and case.status is not CaseStatus.RECEIVED:
        raise IllegalTransition(
            f"case {case.case_no} is {case.status.value}: the centre answers directly only from RECEIVED"
        )
    target = next_status(A.ANSWERED, case.status, case.case_no)
    now, before = utcnow(), case.status
    case.status, case.answered_at = target, now
    on_time = case.due_at is None or now <= case.due_at
    if not on_time:
        case.overdue = True
    reply = Reply(
        case_id=case.id,
        department_id=case.lead_department_id,
        author_subject=ctx.actor.subject,
        content=content,
        channel=case.channel,
        created_at=now,
        delivery_status=DeliveryStatus.PENDING,
        idempotency_key=uuid.uuid4().hex,
    )
    ctx.session.add(reply)
    await ctx.session.flush()
    note_new_reply(ctx.session, reply.id)
    await _copy_to_merged(ctx, case, reply)
    await record(
        ctx, case, A.ANSWERED, from_status=before, payload={"onTime": on_time, "replyId": reply.id, "direct": direct}
    )
    return case, reply


async def _copy_to_merged(ctx: ServiceContext, primary: Case, reply: Reply) -> None:
    """Each citizen whose case was merged into this one gets the same answer on their own channel."""
    targets = {(primary.channel, json.dumps(primary.reply_to, sort_keys=True))}
    for merged in await repository.merged_cases(ctx.session, primary_id=primary.id):
        target = (merged.channel, json.dumps(merged.reply_to, sort_keys=True))
        if target in targets:
            continue  # the same account wrote twice: one answer is enough
        targets.add(target)
        copy = Reply(
            case_id=merged.id,
            department_id=reply.department_id,
            author_subject=reply.author_subject,
            content=reply.content,
            channel=merged.channel,
            created_at=reply.created_at,
            delivery_status=DeliveryStatus.PENDING,
            idempotency_key=uuid.uuid4().hex,
        )
        ctx.session.add(copy)
        await ctx.session.flush()
        note_new_reply(ctx.session, copy.id)


async def close_case(ctx: ServiceContext, *, case_id: int, note: str | None = None) -> Case:
    """ANSWERED → CLOSED by the centre (or by the system when no callback came in time)."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.CASE_CLOSE)
    target = next_status(A.CLOSED, case.status, case.case_no)
    before = case.status
    case.status, case.closed_at = target, utcnow()
    await record(ctx, case, A.CLOSED, from_status=before, note=note)
    return case


async def add_note(ctx: ServiceContext, *, case_id: int, note: str) -> Case:
    """A note on the trail; the status stays."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.CASE_NOTE)
    note = required_text(note, "the note")
    next_status(A.NOTE_ADDED, case.status, case.case_no)
    await record(ctx, case, A.NOTE_ADDED, from_status=case.status, note=note)
    return case


async def merge_cases(
    ctx: ServiceContext, *, primary_id: int, duplicate_ids: Sequence[int], note: str | None = None
) -> Case:
    """Any non-final → MERGED: duplicates fold into a primary; their citizens still get its answer."""
    require(ctx.actor, Operation.CASE_MERGE)
    ids = [i for i in dict.fromkeys(duplicate_ids) if i != primary_id]
    if not ids:
        raise ValidationFailed("name at least one duplicate other than the primary case")
    # Lock in id order so two merges touching the same cases cannot deadlock.
    locked = {i: await load_case(ctx, case_id=i, operation=Operation.CASE_MERGE) for i in sorted([primary_id, *ids])}
    primary = locked[primary_id]
    if primary.status in (CaseStatus.MERGED, CaseStatus.CLOSED):
        raise IllegalTransition(f"case {primary.case_no} is {primary.status.value} and cannot be a primary case")
    targets = [(locked[i], next_status(A.MERGED, locked[i].status, locked[i].case_no)) for i in ids]
    for duplicate, target in targets:
        before = duplicate.status
        duplicate.status, duplicate.merged_into_id = target, primary.id
        await record(ctx, duplicate, A.MERGED, from_status=before, note=note, payload={"into": primary.case_no})
    await record(
        ctx,
        primary,
        A.MERGED,
        from_status=primary.status,
        note=note,
        payload={"merged": [d.case_no for d, _ in targets]},
    )
    return primary
