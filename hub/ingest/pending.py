"""Pending intake: a pushed message is stored and numbered in the request, its case created afterwards by a job.

In the request (the push batcher's group commit), :func:`accept_pushes` verifies nothing itself (the endpoint
did) but dedupes the batch against receipts, cases and pending rows, reserves the day's case numbers for the new
messages with one counter upsert, and stores each parsed draft as a ``pending_intake`` row (three statements):
the passive reply can name the case number as soon as that transaction commits. Routing, the category
suggester, citizens and the trail (the expensive part) run later in :func:`create_pending_cases`, which turns
each pending row into exactly one case with exactly its reserved number, writes its receipt and deletes the row
in the same transaction; a repeat delivery finds the pending row, later the receipt, and gets the same number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import CaseDraft, CitizenDraft
from connectors.registry import channel_value
from hub.cases import repository as cases
from hub.cases.drafts import CheckedDraft, case_number, check_draft, local_day
from hub.cases.intake import submit_drafts
from hub.cases.notices import notices_for, publish
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.db import transaction
from hub.errors import ValidationFailed
from hub.events import EventBus, EventNotice
from hub.ingest import repository
from hub.ingest.config import channel_name
from hub.ingest.push import PushItem
from hub.ingest.records import PendingIntake
from hub.ingest.service import PushResult, connector_principal
from hub.jobs.repository import add_dead_letter
from hub.settings import Settings

log = logging.getLogger("hub.ingest.pending")


_DRAFT_FIELDS = dataclasses.fields(CaseDraft)
_CITIZEN_FIELDS = dataclasses.fields(CitizenDraft)


def draft_json(draft: CaseDraft) -> str:
    """A draft as the JSON text a pending row keeps."""
    data = {f.name: getattr(draft, f.name) for f in _DRAFT_FIELDS}  # not asdict: it deep-copies every value
    data["citizen"] = {f.name: getattr(draft.citizen, f.name) for f in _CITIZEN_FIELDS}
    data["received_at"] = draft.received_at.isoformat()
    data["reply_to"] = dict(draft.reply_to)
    data["raw"] = draft.raw if isinstance(draft.raw, str) else dict(draft.raw)
    return json.dumps(data, ensure_ascii=False, default=str)


def draft_from_json(text: str) -> CaseDraft:
    """The draft a pending row keeps."""
    data: dict[str, Any] = json.loads(text)
    data["received_at"] = dt.datetime.fromisoformat(data["received_at"])
    data["citizen"] = CitizenDraft(**data["citizen"])
    return CaseDraft(**data)


async def accept_pushes(
    ctx: ServiceContext, *, channel: str, items: Sequence[PushItem]
) -> list[PushResult | ValidationFailed]:
    """Store a batch of pushed messages as pending intake with reserved case numbers; one outcome per item.

    A delivery whose dedupe key has a receipt, or whose external id already has a case or a pending row, gets
    that number back (``created=False``), also when its first delivery is in this same batch. A draft the hub
    refuses (empty, too long) gets its ValidationFailed and is dead-lettered; an event gets no number.
    """
    session, value, now = ctx.session, channel_value(channel_name(channel)), utcnow()
    keys = list(dict.fromkeys(item.dedupe_key for item in items if item.dedupe_key is not None))
    drafted = list(dict.fromkeys(item.draft.external_id for item in items if item.draft is not None))
    receipts, numbers = await repository.known_numbers(session, channel=value, keys=keys, external_ids=drafted)
    checked: dict[str, CheckedDraft | ValidationFailed] = {}  # external id → its first fresh draft, checked
    for item in items:
        draft = item.draft
        if draft is None or (item.dedupe_key is not None and item.dedupe_key in receipts):
            continue
        if draft.external_id not in checked:
            try:
                if draft.channel != value:
                    raise ValidationFailed(f"a {draft.channel} message pushed to the {value} endpoint")
                checked[draft.external_id] = check_draft(draft)
            except ValidationFailed as exc:
                checked[draft.external_id] = exc
                add_dead_letter(session, job="ingest", channel=value, ref=draft.external_id, status="REJECTED",
                                error=exc.message, now=now)
                log.warning("%s draft refused: %s", value, exc.message)
    valid = [external_id for external_id, c in checked.items() if not isinstance(c, ValidationFailed)]
    dedupe: dict[str, str] = {}  # external id → the dedupe key its receipt gets when its case is created
    for item in items:
        if item.draft is not None and item.dedupe_key is not None:
            dedupe.setdefault(item.draft.external_id, item.dedupe_key)
    new = [e for e in valid if e not in numbers]
    created = await _reserve(ctx, value, checked, dedupe, new, numbers, now)

    outcomes: list[PushResult | ValidationFailed] = []
    events: dict[str, tuple[int | None, str | None]] = {}
    for item in items:
        key = item.dedupe_key
        if key is not None and key in receipts:
            outcomes.append(PushResult(None, created=False, case_no=receipts[key]))
            continue
        if item.draft is None:
            outcomes.append(PushResult(None, created=False))
            if key is not None:
                events.setdefault(key, (None, None))
            continue
        outcome = checked[item.draft.external_id]
        if isinstance(outcome, ValidationFailed):
            outcomes.append(outcome)
            continue
        external_id = item.draft.external_id
        outcomes.append(PushResult(None, created=external_id in created, case_no=numbers[external_id]))
        created.discard(external_id)  # a repeat later in the batch is not new
    # a message's receipt is written with its case (the pending row answers redeliveries until then); the
    # channel's counter moves there too: one statement less per batch here
    await repository.add_numbered_receipts(session, channel=value, receipts=events, now=now)
    return outcomes


async def _reserve(
    ctx: ServiceContext, channel: str, drafts: dict[str, CheckedDraft | ValidationFailed], dedupe: dict[str, str],
    new: list[str], numbers: dict[str, str], now: dt.datetime,
) -> set[str]:
    """Number the new messages (one counter upsert) and store them pending; fills ``numbers``; returns the stored."""
    if not new:
        return set()
    day = local_day(now, ctx.settings.timezone)
    first = await cases.allocate_case_numbers(ctx.session, day=day, count=len(new))
    reserved = {e: case_number(ctx.settings.case_no_prefix, day, first + n) for n, e in enumerate(new)}
    rows = []
    for external_id, number in reserved.items():
        item = drafts[external_id]
        assert isinstance(item, CheckedDraft)
        rows.append({"channel": channel, "external_id": external_id, "case_no": number,
                     "dedupe_key": dedupe.get(external_id), "draft": draft_json(item.draft), "received_at": now})
    stored = await repository.add_pending(ctx.session, rows=rows)
    numbers.update((e, reserved[e]) for e in stored)
    lost = [e for e in new if e not in stored]
    if lost:  # another process stored them between our read and our insert: theirs stands (a gap in the day's numbers)
        numbers.update(await repository.numbers_for_externals(ctx.session, channel=channel, external_ids=lost))
    return stored


# A message whose case fails this often on its own (a value the database refuses) is dead-lettered and skipped;
# its row stays, with its number, for an operator.
MAX_ATTEMPTS = 5


async def create_pending_cases(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int = 200, bus: EventBus | None = None
) -> int:
    """Create the cases of up to ``limit`` pending messages, each with its reserved number; how many it created.

    One transaction: the cases, their trail, and the deletion of their pending rows commit together, so a crash
    leaves either the pending row or the case, never both or neither. On PostgreSQL concurrent drains skip each
    other's rows. When the batch fails, its messages go one at a time, so one that cannot be stored blocks only
    itself (counted, dead-lettered after ``MAX_ATTEMPTS``).
    """
    try:
        return await _create_batch(sessions, settings, limit=limit, bus=bus)
    except Exception as exc:  # which message? each alone tells
        log.warning("creating %d pending cases at once failed (%s); one at a time", limit, type(exc).__name__)
    async with sessions() as session:
        ids = await repository.pending_ids(session, limit=limit, max_attempts=MAX_ATTEMPTS)
    created = 0
    for row_id in ids:
        try:
            created += await _create_batch(sessions, settings, limit=1, bus=bus, ids=[row_id])
        except Exception as exc:  # this message alone: its row stays; the next drain tries it again
            async with transaction(sessions) as session:
                await _failed(session, row_id, exc)
    return created


async def _failed(session: AsyncSession, row_id: int, exc: Exception) -> None:
    row = await repository.count_attempt(session, row_id=row_id)
    if row is None:
        return
    log.error("pending message %s failed to become a case (%d): %s", row.case_no, row.attempts, type(exc).__name__)
    if row.attempts >= MAX_ATTEMPTS:  # only the class: the message could quote the citizen's text
        add_dead_letter(session, job="intake", channel=row.channel, ref=row.case_no, status="FAILED",
                        error=f"the case could not be created: {type(exc).__name__}", attempts=row.attempts,
                        now=utcnow())


async def _create_batch(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int, bus: EventBus | None,
    ids: Sequence[int] | None = None,
) -> int:
    notices: list[EventNotice] = []
    async with transaction(sessions) as session:
        rows = await repository.take_pending(session, limit=limit, ids=ids, max_attempts=MAX_ATTEMPTS)
        if not rows:
            return 0
        by_channel: dict[str, list[PendingIntake]] = defaultdict(list)
        for row in rows:
            by_channel[row.channel].append(row)
        for channel, group in by_channel.items():
            ctx = ServiceContext(session, connector_principal(channel), settings)
            await _create(ctx, channel, group)
        await repository.delete_pending(session, ids=[row.id for row in rows])
        if bus is not None:
            notices = await notices_for(session)
    if notices and bus is not None:
        try:
            await publish(bus, notices)
        except Exception as exc:  # subscribers miss a notice; the cases are stored
            log.warning("publishing %d notices failed: %s", len(notices), type(exc).__name__)
    return len(rows)


async def _create(ctx: ServiceContext, channel: str, rows: Sequence[PendingIntake]) -> None:
    """The rows' cases, their receipts (the first case when the message already had one) and the counter."""
    items: list[CheckedDraft] = []
    keys: list[str | None] = []
    now = utcnow()
    for row in rows:
        try:
            items.append(dataclasses.replace(check_draft(draft_from_json(row.draft)), case_no=row.case_no))
            keys.append(row.dedupe_key)
        except ValidationFailed as exc:  # it passed when accepted; kept as a dead letter, never silently dropped
            add_dead_letter(ctx.session, job="intake", channel=channel, ref=row.external_id, status="REJECTED",
                            error=exc.message, now=now)
    outcomes = await submit_drafts(ctx, items=items)
    refused = [n for n, outcome in enumerate(outcomes) if isinstance(outcome, ValidationFailed)]
    if refused:  # auto-dispatch named an inactive department: the case waits for the centre instead
        again = await submit_drafts(ctx, items=[items[n] for n in refused], auto_dispatch=False)
        for n, outcome in zip(refused, again, strict=True):
            outcomes[n] = outcome
    receipts: dict[str, tuple[int | None, str | None]] = {}
    for key, outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, ValidationFailed):
            raise outcome  # never drop the row: the drain fails and is retried
        if key is not None:
            receipts.setdefault(key, (outcome.case.id, outcome.case.case_no))
    await repository.add_numbered_receipts(ctx.session, channel=channel, receipts=receipts, now=now)
    created = sum(not isinstance(o, ValidationFailed) and o.created for o in outcomes)
    await repository.count_success(ctx.session, channel=channel, created=created, now=now)


@dataclass
class DrainResult:
    """What a drain did: pending rows turned into cases, in how many transactions."""

    taken: int = 0
    batches: int = 0


async def drain_pending(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, bus: EventBus | None = None,
    limit: int = 200, max_batches: int = 1000,
) -> DrainResult:
    """Create pending cases until none waits (bounded by ``max_batches`` transactions)."""
    result = DrainResult()
    for _ in range(max_batches):
        taken = await create_pending_cases(sessions, settings, limit=limit, bus=bus)
        if not taken:
            break
        result.taken += taken
        result.batches += 1
    return result


async def drain_stale(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, older_than: dt.timedelta,
    bus: EventBus | None = None, limit: int = 200,
) -> DrainResult:
    """Drain pending intake when its oldest row waited longer than ``older_than`` (a lost job, a worker down)."""
    async with sessions() as session:
        oldest = await repository.oldest_pending(session, max_attempts=MAX_ATTEMPTS)
    if oldest is None or utcnow() - oldest < older_than:
        return DrainResult()
    result = await drain_pending(sessions, settings, bus=bus, limit=limit)
    log.warning("pending intake waited since %s; drained %d messages here", oldest.isoformat(), result.taken)
    return result
