"""Submitting a case: idempotent on (channel, external id), routed, and dispatched when certain."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from auth.permission import Operation
from auth.principal import SYSTEM
from connectors.base import CaseDraft
from hub.cases import repository
from hub.cases.kinds import guess_kind
from hub.cases.models import Case
from hub.cases.service import dispatch_case
from hub.cases.steps import record
from hub.citizens.service import link_citizen
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.departments import repository as departments
from hub.enums import CaseAction, CaseKind, CaseStatus, Channel, Urgency
from hub.errors import ValidationFailed
from hub.permissions import require
from hub.routing.service import RouteDecision, route

MAX_TITLE = 300
MAX_CONTENT = 20000


@dataclass(frozen=True)
class SubmitResult:
    """The case a draft became, and whether this call created it (False: a repeat of an earlier one)."""

    case: Case
    created: bool
    route: RouteDecision | None = None


def _validated(draft: CaseDraft) -> tuple[Channel, CaseKind, Urgency, str, str]:
    try:
        channel = Channel(draft.channel)
    except ValueError:
        raise ValidationFailed(f"unknown channel {draft.channel!r}") from None
    if not draft.external_id or not draft.external_id.strip() or len(draft.external_id) > 128:
        raise ValidationFailed("a case needs the channel's external id (1–128 characters)")
    content = " ".join((draft.content or "").split()) if draft.content else ""
    title = " ".join((draft.title or "").split())
    if not content and not title:
        raise ValidationFailed("a case needs a title or content")
    if len(content) > MAX_CONTENT:
        raise ValidationFailed(f"content longer than {MAX_CONTENT} characters")
    title = (title or content[:40])[:MAX_TITLE]
    try:
        kind = CaseKind(draft.kind) if draft.kind else guess_kind(title, content)
        urgency = Urgency(draft.urgency) if draft.urgency else Urgency.NORMAL
    except ValueError:
        raise ValidationFailed("unknown kind or urgency") from None
    if draft.received_at.tzinfo is None:
        raise ValidationFailed("received_at must carry a timezone")
    return channel, kind, urgency, title, content or title


def _raw_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)


async def submit_case(ctx: ServiceContext, *, draft: CaseDraft, auto_dispatch: bool = True) -> SubmitResult:
    """Store a citizen's message as a case, once; a repeat returns the first case unchanged."""
    require(ctx.actor, Operation.CASE_SUBMIT)
    channel, kind, urgency, title, content = _validated(draft)
    existing = await repository.by_external(ctx.session, channel=channel, external_id=draft.external_id)
    if existing is not None:
        return SubmitResult(existing, created=False)
    decision = await route(
        ctx.session,
        title=title,
        content=content,
        channel=channel.value,
        kind=kind.value,
        region=draft.region,
        category_hint=draft.category_hint,
        certainty_threshold=ctx.settings.auto_dispatch_confidence,
    )
    try:
        async with ctx.session.begin_nested():
            case = await _insert(
                ctx,
                draft=draft,
                channel=channel,
                kind=kind,
                urgency=urgency,
                title=title,
                content=content,
                decision=decision,
            )
    except IntegrityError:
        # A concurrent submission of the same message won the race; return theirs.
        existing = await repository.by_external(ctx.session, channel=channel, external_id=draft.external_id)
        if existing is None:
            raise
        return SubmitResult(existing, created=False)
    if auto_dispatch and decision.certain and decision.lead_department_id is not None:
        found = await departments.by_ids(ctx.session, ids=[decision.lead_department_id, *decision.co_department_ids])
        lead = found[decision.lead_department_id]
        co = [found[i].code for i in decision.co_department_ids if i in found]
        await dispatch_case(
            ctx.as_actor(SYSTEM),
            case_id=case.id,
            lead_department=lead.code,
            co_departments=co,
            note="auto-dispatched: " + "; ".join(decision.reasons),
        )
    return SubmitResult(case, created=True, route=decision)


async def _insert(
    ctx: ServiceContext,
    *,
    draft: CaseDraft,
    channel: Channel,
    kind: CaseKind,
    urgency: Urgency,
    title: str,
    content: str,
    decision: RouteDecision,
) -> Case:
    now = utcnow()
    local_day = now.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    number = await repository.next_case_number(ctx.session, day=local_day)
    citizen = await link_citizen(ctx.session, citizen=draft.citizen, channel=channel.value)
    case = Case(
        case_no=f"{ctx.settings.case_no_prefix}{local_day:%Y%m%d}{number:06d}",
        channel=channel,
        external_id=draft.external_id,
        kind=kind,
        status=CaseStatus.RECEIVED,
        urgency=urgency,
        title=title,
        content=content,
        category=decision.category,
        suggested_category=decision.category,
        suggestion_confidence=round(decision.confidence, 4),
        address=draft.address,
        region=draft.region,
        citizen_id=citizen.id if citizen else None,
        received_at=draft.received_at.astimezone(dt.UTC),
        reply_to=dict(draft.reply_to),
        raw_payload=_raw_text(draft.raw),
        created_at=now,
    )
    ctx.session.add(case)
    await ctx.session.flush()
    await record(
        ctx,
        case,
        CaseAction.SUBMITTED,
        from_status=CaseStatus.RECEIVED,
        payload={
            "channel": channel.value,
            "externalId": draft.external_id,
            "kind": kind.value,
            "suggestedCategory": decision.category,
            "confidence": round(decision.confidence, 4),
        },
    )
    return case
