"""Pushed messages stored many at a time, in the caller's unit of work (the push batcher's group commit).

:func:`receive_pushes` is :func:`hub.ingest.service.receive_push` for a batch: one SELECT of the receipts the
batch's dedupe keys already have, one of the cases its external ids already became, the new drafts through
:func:`hub.ingest.service.ingest_drafts`, the new receipts in one INSERT, and the channel's success counter
moved once. Each item gets its own outcome: a :class:`PushResult` (the first case for a repeat, in this batch or
an earlier one; None for an event) or the :class:`ValidationFailed` that refused its draft (that draft alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from connectors.base import CaseDraft
from connectors.registry import channel_value
from hub.cases.models import Case
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.errors import ValidationFailed
from hub.ingest import repository
from hub.ingest.config import channel_name
from hub.ingest.service import PushResult, ingest_drafts

# Keeps each IN (...) list well inside every driver's parameter limit.
_CHUNK = 500


@dataclass(frozen=True)
class PushItem:
    """One pushed delivery: its draft (None for an event such as subscribe) and the channel's dedupe key."""

    draft: CaseDraft | None
    dedupe_key: str | None = None


async def _cases_by_id(ctx: ServiceContext, ids: Sequence[int]) -> dict[int, Case]:
    out: dict[int, Case] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = select(Case).where(Case.id.in_(ids[start : start + _CHUNK]))
        out.update((case.id, case) for case in (await ctx.session.execute(stmt)).scalars())
    return out


async def receive_pushes(
    ctx: ServiceContext, *, channel: str, items: Sequence[PushItem]
) -> list[PushResult | ValidationFailed]:
    """Store a batch of pushed messages once each; one outcome per item, in order.

    Idempotent like ``receive_push``: a delivery whose dedupe key has a receipt, or whose external id already has
    a case, gets that case back (``created=False``), also when the first delivery is in this same batch.
    """
    value = channel_value(channel_name(channel))
    keys = list(dict.fromkeys(item.dedupe_key for item in items if item.dedupe_key is not None))
    receipts = await repository.receipts_for(ctx.session, channel=value, keys=keys)
    by_id = await _cases_by_id(ctx, sorted({case_id for case_id in receipts.values() if case_id is not None}))

    fresh: dict[str, CaseDraft] = {}  # external id → the first draft of it not covered by a receipt
    for item in items:
        if item.draft is not None and (item.dedupe_key is None or item.dedupe_key not in receipts):
            fresh.setdefault(item.draft.external_id, item.draft)
    # ingest_drafts finds the ones already stored itself (and says which cases it created)
    ingested = await ingest_drafts(ctx, channel=channel, drafts=list(fresh.values())) if fresh else None
    made = {case.external_id: case for case in ingested.cases} if ingested else {}
    refused = dict(ingested.rejected) if ingested else {}

    outcomes: list[PushResult | ValidationFailed] = []
    new_receipts: dict[str, int | None] = {}
    reported: set[str] = set()  # external ids whose creation was already reported to an earlier item
    now = utcnow()
    for item in items:
        key = item.dedupe_key
        if key is not None and key in receipts:
            case_id = receipts[key]
            outcomes.append(PushResult(by_id.get(case_id) if case_id is not None else None, created=False))
            continue
        if item.draft is None:
            outcomes.append(PushResult(None, created=False))
            if key is not None:
                new_receipts.setdefault(key, None)
            continue
        external_id = item.draft.external_id
        if external_id in refused:
            outcomes.append(ValidationFailed(refused[external_id]))
            continue
        case = made.get(external_id)
        if case is None:  # ingest_drafts neither stored nor refused it: never silently drop a message
            outcomes.append(ValidationFailed("the message was not stored"))
            continue
        created = ingested is not None and case.id in ingested.new_case_ids and external_id not in reported
        reported.add(external_id)
        outcomes.append(PushResult(case, created=created))
        if key is not None:
            new_receipts.setdefault(key, case.id)
    await repository.add_receipts(ctx.session, channel=value, receipts=new_receipts, now=now)
    await repository.count_success(ctx.session, channel=value, created=ingested.created if ingested else 0, now=now)
    return outcomes
