"""What both intake paths share: checking a draft, the case row it becomes, where auto-dispatch sends it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from connectors.base import CaseDraft
from hub.cases.kinds import guess_kind
from hub.cases.models import Case
from hub.citizens.models import Citizen
from hub.departments.models import Department
from hub.enums import CaseKind, CaseStatus, Channel, Urgency
from hub.errors import ValidationFailed
from hub.routing.models import ActiveRule
from hub.routing.service import RouteDecision, decide_route
from hub.routing.suggester import Suggestion

MAX_TITLE = 300
MAX_CONTENT = 20000


@dataclass(frozen=True)
class SubmitResult:
    """The case a draft became, and whether this call created it (False: a repeat of an earlier one)."""

    case: Case
    created: bool
    route: RouteDecision | None = None


@dataclass(frozen=True)
class CheckedDraft:
    """A draft that passed validation, with its normalised fields."""

    draft: CaseDraft
    channel: Channel
    kind: CaseKind
    urgency: Urgency
    title: str
    content: str
    case_no: str | None = None  # a number reserved when the message was accepted (pending intake), else allocated
    suggestion: Suggestion | None = None  # the category suggester's, when a pull pass scored the page ahead

    @property
    def key(self) -> tuple[Channel, str]:
        """What makes a message the same message: (channel, external id)."""
        return self.channel, self.draft.external_id


def check_draft(draft: CaseDraft) -> CheckedDraft:
    """The draft's normalised fields, or ValidationFailed naming what is wrong."""
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
    return CheckedDraft(draft, channel, kind, urgency, title, content or title)


def _raw_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return orjson.dumps(raw, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode()
    except orjson.JSONEncodeError:  # what orjson cannot write (integers beyond 64 bits, say)
        return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)


def case_values(
    item: CheckedDraft, *, case_no: str, decision: RouteDecision, citizen_id: int | None, now: dt.datetime
) -> dict[str, Any]:
    """The column values of a checked draft's new case (RECEIVED, not dispatched)."""
    draft = item.draft
    return {
        "case_no": case_no,
        "channel": item.channel,
        "external_id": draft.external_id,
        "kind": item.kind,
        "status": CaseStatus.RECEIVED,
        "urgency": item.urgency,
        "title": item.title,
        "content": item.content,
        "category": decision.category,
        "suggested_category": decision.category,
        "suggestion_confidence": round(decision.confidence, 4),
        "address": draft.address,
        "region": draft.region,
        "citizen_id": citizen_id,
        "received_at": draft.received_at.astimezone(dt.UTC),
        "reply_to": dict(draft.reply_to),
        "raw_payload": _raw_text(draft.raw),
        "created_at": now,
    }


def build_case(
    item: CheckedDraft, *, case_no: str, decision: RouteDecision, citizen: Citizen | None, now: dt.datetime
) -> Case:
    """The new case row of a checked draft (RECEIVED, not yet added to a session)."""
    return Case(
        **case_values(item, case_no=case_no, decision=decision, citizen_id=citizen.id if citizen else None, now=now)
    )


def case_number(prefix: str, day: dt.date, number: int) -> str:
    """The human-readable case number: prefix, local day, six-digit sequence of that day."""
    return case_numbers(prefix, day, number, 1)[0]


def case_numbers(prefix: str, day: dt.date, first: int, count: int) -> list[str]:
    """``count`` consecutive case numbers of a day from ``first``."""
    stem = f"{prefix}{day:%Y%m%d}"
    return [f"{stem}{number:06d}" for number in range(first, first + count)]


def submitted_payload(item: CheckedDraft, decision: RouteDecision) -> dict[str, Any]:
    """The payload of a case's SUBMITTED event."""
    return {
        "channel": item.channel.value,
        "externalId": item.draft.external_id,
        "kind": item.kind.value,
        "suggestedCategory": decision.category,
        "confidence": round(decision.confidence, 4),
    }


def auto_dispatch_targets(
    decision: RouteDecision, departments: Mapping[int, Department]
) -> tuple[Department, list[Department]] | None:
    """The lead and co-departments a certain decision dispatches to, or None when it waits for the centre."""
    if not decision.certain or decision.lead_department_id is None:
        return None
    lead = departments[decision.lead_department_id]
    return lead, [departments[i] for i in decision.co_department_ids if i in departments]


def auto_dispatch_note(decision: RouteDecision) -> str:
    """The note of an automatic dispatch: why the hub was sure."""
    return "auto-dispatched: " + "; ".join(decision.reasons)


def local_day(now: dt.datetime, timezone: str) -> dt.date:
    """The district's calendar day at a moment (case numbers count per local day)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def route_draft(rules: Sequence[ActiveRule], item: CheckedDraft, *, certainty_threshold: float) -> RouteDecision:
    """Where a checked draft goes under the active rules (loaded by the caller, once per page)."""
    return decide_route(
        rules,
        title=item.title,
        content=item.content,
        channel=item.channel.value,
        kind=item.kind.value,
        region=item.draft.region,
        category_hint=item.draft.category_hint,
        certainty_threshold=certainty_threshold,
        suggestion=item.suggestion,
    )
