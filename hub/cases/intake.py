"""Submitting a case: idempotent on (channel, external id), routed, and dispatched when certain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from auth.permission import Operation
from auth.principal import SYSTEM
from connectors.base import CaseDraft
from hub.cases import repository
from hub.cases.batch_intake import plan_page, write_page
from hub.cases.drafts import (
    CheckedDraft,
    SubmitResult,
    auto_dispatch_note,
    auto_dispatch_targets,
    build_case,
    case_number,
    check_draft,
    local_day,
    route_draft,
    submitted_payload,
)
from hub.cases.models import Case, CaseCoDepartment
from hub.cases.service import apply_dispatch
from hub.cases.steps import record
from hub.citizens.service import link_citizen
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.deadlines.service import calendar_for, policy_for
from hub.departments import repository as departments
from hub.enums import CaseAction, CaseStatus
from hub.errors import ValidationFailed
from hub.permissions import require
from hub.routing.repository import active_rules
from hub.routing.service import RouteDecision
from hub.trail.service import start_chain

__all__ = ["SubmitResult", "submit_case", "submit_drafts", "submit_one"]


async def submit_case(ctx: ServiceContext, *, draft: CaseDraft, auto_dispatch: bool = True) -> SubmitResult:
    """Store a citizen's message as a case, once; a repeat returns the first case unchanged."""
    require(ctx.actor, Operation.CASE_SUBMIT)
    [outcome] = await submit_drafts(ctx, items=[check_draft(draft)], auto_dispatch=auto_dispatch)
    if isinstance(outcome, ValidationFailed):
        raise outcome
    return outcome


async def submit_drafts(
    ctx: ServiceContext, *, items: Sequence[CheckedDraft], auto_dispatch: bool = True
) -> list[SubmitResult | ValidationFailed]:
    """Store checked drafts as cases, each message once; one outcome per draft in order (the error for a draft
    the hub refuses: its auto-dispatch names an inactive department).

    The page is written set-based inside one savepoint; when a concurrent transaction stored one of its messages
    or bound one of its identities first, the savepoint is rolled back and the drafts go one by one through
    ``submit_one``, which finds theirs: nothing is dropped or stored twice.
    """
    require(ctx.actor, Operation.CASE_SUBMIT)
    if not items:
        return []
    plan = await plan_page(ctx, items=items, auto_dispatch=auto_dispatch)
    if plan.new:
        try:
            async with ctx.session.begin_nested():
                await write_page(ctx, plan, auto_dispatch=auto_dispatch)
        except IntegrityError:
            for index in plan.new:
                plan.results[index] = await submit_one(
                    ctx, item=items[index], decision=plan.decisions[index], auto_dispatch=auto_dispatch
                )
    return plan.finish()


async def submit_one(
    ctx: ServiceContext, *, item: CheckedDraft, decision: RouteDecision | None = None, auto_dispatch: bool = True
) -> SubmitResult:
    """One draft on its own, safe against concurrent submissions of the same message (the race fallback)."""
    require(ctx.actor, Operation.CASE_SUBMIT)
    channel, external_id = item.key
    existing = await repository.by_external(ctx.session, channel=channel, external_id=external_id)
    if existing is not None:
        return SubmitResult(existing, created=False)
    if decision is None:
        rules = await active_rules(ctx.session)
        decision = route_draft(rules, item, certainty_threshold=ctx.settings.auto_dispatch_confidence)
    try:
        async with ctx.session.begin_nested():
            case = await _insert(ctx, item=item, decision=decision)
    except IntegrityError:
        # A concurrent submission of the same message won the race; return theirs.
        existing = await repository.by_external(ctx.session, channel=channel, external_id=external_id)
        if existing is None:
            raise
        return SubmitResult(existing, created=False)
    if auto_dispatch:
        await _auto_dispatch(ctx, case, decision)
    return SubmitResult(case, created=True, route=decision)


async def _insert(ctx: ServiceContext, *, item: CheckedDraft, decision: RouteDecision) -> Case:
    now = utcnow()
    day = local_day(now, ctx.settings.timezone)
    case_no = item.case_no or case_number(
        ctx.settings.case_no_prefix, day, await repository.next_case_number(ctx.session, day=day)
    )
    citizen = await link_citizen(ctx.session, citizen=item.draft.citizen, channel=item.channel.value)
    case = build_case(item, case_no=case_no, decision=decision, citizen=citizen, now=now)
    ctx.session.add(case)
    await ctx.session.flush()
    start_chain(ctx.session, case=case, case_id=case.id)
    await record(
        ctx, case, CaseAction.SUBMITTED, from_status=CaseStatus.RECEIVED, payload=submitted_payload(item, decision)
    )
    return case


async def _auto_dispatch(ctx: ServiceContext, case: Case, decision: RouteDecision) -> None:
    """The case just inserted, dispatched as ``dispatch_case`` would (no reload, no co-departments to clear)."""
    if not decision.certain or decision.lead_department_id is None:
        return
    found = await departments.by_ids(ctx.session, ids=[decision.lead_department_id, *decision.co_department_ids])
    target = auto_dispatch_targets(decision, found)
    assert target is not None
    calendar, policy = await calendar_for(ctx.session, settings=ctx.settings), policy_for(ctx.settings)
    change = apply_dispatch(
        case, lead=target[0], co=target[1], category=None, now=utcnow(), calendar=calendar, policy=policy
    )
    ctx.session.add_all(CaseCoDepartment(case_id=case.id, department_id=d) for d in change.co_department_ids)
    await record(
        ctx.as_actor(SYSTEM),
        case,
        CaseAction.DISPATCHED,
        from_status=change.before,
        note=auto_dispatch_note(decision),
        payload=change.payload,
    )
