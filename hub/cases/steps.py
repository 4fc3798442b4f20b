"""Small pieces every workflow step shares: writing its event, checking required text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.cases.models import Case
from hub.context import ServiceContext
from hub.enums import CaseAction, CaseStatus
from hub.errors import MissingReason
from hub.trail.service import append_event


def iso(moment: dt.datetime | None) -> str | None:
    """ISO-8601 UTC, or None."""
    return moment.astimezone(dt.UTC).isoformat() if moment else None


async def record(
    ctx: ServiceContext,
    case: Case,
    action: CaseAction,
    *,
    from_status: CaseStatus,
    note: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append the one event a step writes, with the case's new status."""
    await append_event(
        ctx.session,
        case_id=case.id,
        actor=ctx.actor,
        action=action.value,
        from_status=from_status.value,
        to_status=case.status.value,
        note=note,
        payload=payload,
    )


def required_text(text: str | None, what: str) -> str:
    """The stripped text, or MissingReason naming what was missing."""
    if text is None or not text.strip():
        raise MissingReason(f"{what} is required")
    return text.strip()
