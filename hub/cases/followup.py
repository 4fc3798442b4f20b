"""What happens around the answer: extensions (延期), supervision (督办) and callbacks (回访)."""

from __future__ import annotations

import datetime as dt

from auth.permission import Operation
from hub.cases import repository
from hub.cases.access import load_case
from hub.cases.models import Callback, Case, ExtensionRequest, SupervisionOrder
from hub.cases.steps import iso, record, required_text
from hub.cases.workflow import next_status
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.deadlines.service import calendar_for, policy_for
from hub.enums import CaseAction, ExtensionStatus, Satisfaction, SupervisionStatus
from hub.errors import ExtensionTooLong, IllegalTransition, NotFound, ValidationFailed
from hub.permissions import require

A = CaseAction


async def request_extension(ctx: ServiceContext, *, case_id: int, working_days: int, reason: str) -> ExtensionRequest:
    """The lead department asks for more working days; the case stays CLAIMED until the centre decides."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.EXTENSION_REQUEST)
    next_status(A.EXTENSION_REQUESTED, case.status, case.case_no)
    reason = required_text(reason, "a reason for the extension")
    limit = ctx.settings.max_extension_working_days
    if working_days > limit:
        raise ExtensionTooLong(f"an extension adds at most {limit} working days, {working_days} asked")
    if working_days < 1:
        raise ValidationFailed("an extension adds at least one working day")
    if await repository.pending_extension(ctx.session, case_id=case.id) is not None:
        raise IllegalTransition(f"case {case.case_no} already has an extension request waiting")
    request = ExtensionRequest(
        case_id=case.id,
        department_id=case.lead_department_id,
        requested_by=ctx.actor.subject,
        working_days=working_days,
        reason=reason,
        status=ExtensionStatus.PENDING,
        requested_at=utcnow(),
        old_due_at=case.due_at,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    await record(
        ctx,
        case,
        A.EXTENSION_REQUESTED,
        from_status=case.status,
        note=reason,
        payload={"extensionId": request.id, "workingDays": working_days},
    )
    return request


async def decide_extension(
    ctx: ServiceContext, *, extension_id: int, approve: bool, note: str | None = None
) -> ExtensionRequest:
    """The centre approves (dueAt moves by the working days) or rejects an extension request."""
    require(ctx.actor, Operation.EXTENSION_DECIDE)
    request = await repository.get_extension(ctx.session, extension_id=extension_id)
    if request is None:
        raise NotFound(f"extension request {extension_id} not found")
    case = await load_case(ctx, case_id=request.case_id, operation=Operation.EXTENSION_DECIDE)
    if request.status is not ExtensionStatus.PENDING:
        raise IllegalTransition(f"extension request {extension_id} was decided already ({request.status.value})")
    next_status(A.EXTENSION_DECIDED, case.status, case.case_no)
    if not approve:
        required_text(note, "a reason for rejecting the extension")
    request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = ctx.actor.subject, utcnow(), note
    if approve and case.due_at is not None:
        calendar, policy = await calendar_for(ctx.session, settings=ctx.settings), policy_for(ctx.settings)
        request.old_due_at = case.due_at
        request.new_due_at = policy.extend(calendar, case.due_at, request.working_days)
        case.due_at = request.new_due_at
        case.extension_count += 1
        if case.overdue and case.due_at > utcnow():
            case.overdue = False
    await record(
        ctx,
        case,
        A.EXTENSION_DECIDED,
        from_status=case.status,
        note=note,
        payload={
            "extensionId": request.id,
            "approved": approve,
            "workingDays": request.working_days,
            "oldDueAt": iso(request.old_due_at),
            "newDueAt": iso(request.new_due_at),
        },
    )
    return request


async def supervise_case(
    ctx: ServiceContext, *, case_id: int, note: str, deadline: dt.datetime | None = None
) -> SupervisionOrder:
    """A supervisor orders the lead department to act (督办), with its own deadline."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.CASE_SUPERVISE)
    next_status(A.SUPERVISED, case.status, case.case_no)
    note = required_text(note, "the supervision note")
    now = utcnow()
    if deadline is None:
        calendar, policy = await calendar_for(ctx.session, settings=ctx.settings), policy_for(ctx.settings)
        deadline = policy.extend(calendar, now, policy.answer_working_days_short)
    elif deadline.tzinfo is None or deadline <= now:
        raise ValidationFailed("a supervision deadline must be a future time with a timezone")
    order = SupervisionOrder(
        case_id=case.id,
        department_id=case.lead_department_id,
        issued_by=ctx.actor.subject,
        note=note,
        deadline=deadline,
        status=SupervisionStatus.OPEN,
        issued_at=now,
    )
    ctx.session.add(order)
    case.supervised = True
    await ctx.session.flush()
    await record(
        ctx,
        case,
        A.SUPERVISED,
        from_status=case.status,
        note=note,
        payload={"orderId": order.id, "deadline": iso(deadline)},
    )
    return order


async def respond_supervision(ctx: ServiceContext, *, order_id: int, response: str) -> SupervisionOrder:
    """The lead department answers a supervision order."""
    require(ctx.actor, Operation.SUPERVISION_RESPOND)
    order = await ctx.session.get(SupervisionOrder, order_id)
    if order is None:
        raise NotFound(f"supervision order {order_id} not found")
    case = await load_case(ctx, case_id=order.case_id, operation=Operation.SUPERVISION_RESPOND)
    if order.status is not SupervisionStatus.OPEN:
        raise IllegalTransition(f"supervision order {order_id} was answered already")
    response = required_text(response, "the response to the supervision order")
    order.status, order.response = SupervisionStatus.RESPONDED, response
    order.responded_by, order.responded_at = ctx.actor.subject, utcnow()
    await record(
        ctx, case, A.SUPERVISION_RESPONDED, from_status=case.status, note=response, payload={"orderId": order.id}
    )
    return order


async def record_callback(
    ctx: ServiceContext, *, case_id: int, satisfaction: Satisfaction, solved: bool, note: str | None = None
) -> Case:
    """The centre's follow-up call: satisfied closes the case; dissatisfied reopens it to the same department."""
    case = await load_case(ctx, case_id=case_id, operation=Operation.CALLBACK_RECORD)
    reopen = satisfaction is Satisfaction.DISSATISFIED
    target = next_status(A.REOPENED if reopen else A.CLOSED, case.status, case.case_no)
    now, before = utcnow(), case.status
    ctx.session.add(
        Callback(
            case_id=case.id,
            recorded_by=ctx.actor.subject,
            satisfaction=satisfaction,
            solved=solved,
            note=note,
            recorded_at=now,
        )
    )
    case.satisfaction, case.solved, case.status = satisfaction, solved, target
    payload: dict[str, object] = {"satisfaction": satisfaction.value, "solved": solved, "reopened": reopen}
    if reopen:
        calendar, policy = await calendar_for(ctx.session, settings=ctx.settings), policy_for(ctx.settings)
        case.reopen_count += 1
        case.answered_at, case.overdue = None, False
        case.due_at = policy.answer_deadline(calendar, now, case.kind, case.urgency)
        payload["dueAt"] = iso(case.due_at)
    else:
        case.closed_at = now
    await ctx.session.flush()
    await record(ctx, case, A.CALLBACK_RECORDED, from_status=before, note=note, payload=payload)
    return case
