"""Ingest: drafts from connectors become cases, once; a pull channel's cursor moves only after its page is stored."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from auth.principal import Principal, Role
from connectors.base import CaseDraft, Page
from connectors.registry import channel_value
from hub.cases.drafts import CheckedDraft, check_draft
from hub.cases.intake import SubmitResult, submit_case, submit_drafts
from hub.cases.models import Case
from hub.cases.repository import get as get_case
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.errors import HubError, ValidationFailed
from hub.ingest import repository
from hub.ingest.config import channel_name
from hub.jobs.repository import add_dead_letter
from hub.routing.scoring import Scorer

log = logging.getLogger("hub.ingest")


class CursorMoved(HubError):
    """Another pass moved the channel's cursor first; this pass's work is rolled back (and was a repeat)."""

    code = "CURSOR_MOVED"


def connector_principal(channel: str) -> Principal:
    """The actor a channel's connector submits cases as."""
    name = channel_name(channel)
    return Principal(subject=f"connector-{name}", roles=frozenset({Role.CONNECTOR}), client_id=name)


@dataclass
class IngestResult:
    """What a batch of drafts did: new cases, repeats of stored ones, drafts refused (external id, reason)."""

    created: int = 0
    repeated: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    new_case_ids: set[int] = field(default_factory=set)  # which of ``cases`` this call created

    def add(self, other: IngestResult) -> None:
        """Fold another result into this one."""
        self.created += other.created
        self.repeated += other.repeated
        self.rejected.extend(other.rejected)
        self.cases.extend(other.cases)
        self.new_case_ids |= other.new_case_ids


Checked = CheckedDraft | ValidationFailed


def check_drafts(*, channel: str, drafts: Sequence[CaseDraft]) -> list[Checked]:
    """Each draft checked for the channel's stream: its normalised fields, or why the hub refuses it."""
    value = channel_value(channel_name(channel))
    checked: list[Checked] = []
    for draft in drafts:
        try:
            if draft.channel != value:
                raise ValidationFailed(f"a {draft.channel} message in the {value} stream")
            checked.append(check_draft(draft))
        except ValidationFailed as exc:
            checked.append(exc)
    return checked


async def prepare_drafts(*, channel: str, drafts: Sequence[CaseDraft], scorer: Scorer) -> list[Checked]:
    """``check_drafts``, with the category of every valid draft suggested by ``scorer`` (routing then reuses it)."""
    checked = check_drafts(channel=channel, drafts=drafts)
    valid = [(n, item) for n, item in enumerate(checked) if isinstance(item, CheckedDraft)]
    suggestions = await scorer.suggest_many([(item.title, item.content) for _, item in valid])
    for (n, item), suggestion in zip(valid, suggestions, strict=True):
        checked[n] = replace(item, suggestion=suggestion)
    return checked


async def ingest_drafts(
    ctx: ServiceContext, *, channel: str, drafts: Sequence[CaseDraft], checked: Sequence[Checked] | None = None
) -> IngestResult:
    """Submit every draft as the channel's connector; a draft the hub refuses is dead-lettered, not fatal.

    ``checked`` is ``prepare_drafts``'s answer for these drafts when it ran ahead (else they are checked here).
    The valid drafts are stored as one page (``submit_drafts``: set-based, falling back to draft by draft when a
    concurrent transaction got to one of them first); ``cases`` lists their cases in the drafts' order.
    """
    value = channel_value(channel_name(channel))
    connector_ctx = ctx.as_actor(connector_principal(channel))
    outcomes: list[SubmitResult | Checked] = list(
        checked if checked is not None else check_drafts(channel=channel, drafts=drafts)
    )
    if len(outcomes) != len(drafts):
        raise ValueError("one checked entry per draft")
    valid = [(n, item) for n, item in enumerate(outcomes) if isinstance(item, CheckedDraft)]
    stored = await submit_drafts(connector_ctx, items=[item for _, item in valid])
    for (index, _), submitted in zip(valid, stored, strict=True):
        outcomes[index] = submitted
    result = IngestResult()
    for draft, outcome in zip(drafts, outcomes, strict=True):
        if isinstance(outcome, ValidationFailed):
            # skipping it keeps one bad message from blocking the channel
            result.rejected.append((draft.external_id, outcome.message))
            add_dead_letter(ctx.session, job="ingest", channel=value, ref=draft.external_id, status="REJECTED",
                            error=outcome.message, now=utcnow())
            log.warning("%s draft refused: %s", value, outcome.message)
            continue
        assert isinstance(outcome, SubmitResult)
        result.cases.append(outcome.case)
        if outcome.created:
            result.created += 1
            result.new_case_ids.add(outcome.case.id)
        else:
            result.repeated += 1
    return result


async def ingest_page(
    ctx: ServiceContext,
    *,
    channel: str,
    page: Page,
    expected_cursor: str | None,
    checked: Sequence[Checked] | None = None,
) -> IngestResult:
    """Store every draft of a pulled page, then move the cursor from ``expected_cursor`` in the same transaction.

    Raises CursorMoved when a concurrent pass moved the cursor first; the caller's transaction must roll back.
    """
    value = channel_value(channel_name(channel))
    result = await ingest_drafts(ctx, channel=channel, drafts=page.drafts, checked=checked)
    now = utcnow()

    async def advance() -> bool:
        return await repository.advance_cursor(ctx.session, channel=value, expected=expected_cursor,
                                               cursor=page.next_cursor, created=result.created, now=now)

    moved = await advance()
    if not moved and expected_cursor is None:  # perhaps the channel's first page ever: no state row to move yet
        await repository.ensure_state(ctx.session, channel=value)
        moved = await advance()
    if not moved:
        raise CursorMoved(f"{value}: the cursor moved during this pass")
    return result


@dataclass(frozen=True)
class PushResult:
    """A pushed message's case (None for an event) and whether this delivery stored it."""

    case: Case | None
    created: bool
    case_no: str | None = None  # the reserved number of a message whose case is created after the reply

    @property
    def number(self) -> str | None:
        """The case number to tell the citizen (None for an event)."""
        return self.case_no or (self.case.case_no if self.case is not None else None)


async def receive_push(
    ctx: ServiceContext, *, channel: str, draft: CaseDraft | None, dedupe_key: str | None = None
) -> PushResult:
    """Store a pushed message once; a retried delivery (same dedupe key or external id) finds the first one."""
    value = channel_value(channel_name(channel))
    if dedupe_key is not None:
        receipt = await repository.get_receipt(ctx.session, channel=value, key=dedupe_key)
        if receipt is not None:
            case = await get_case(ctx.session, case_id=receipt.case_id) if receipt.case_id else None
            return PushResult(case, created=False)
    submitted: SubmitResult | None = None
    if draft is not None:
        if draft.channel != value:
            raise ValidationFailed(f"a {draft.channel} message pushed to the {value} endpoint")
        submitted = await submit_case(ctx.as_actor(connector_principal(channel)), draft=draft)
    case = submitted.case if submitted else None
    now = utcnow()
    if dedupe_key is not None:
        await repository.add_receipt(ctx.session, channel=value, key=dedupe_key, case_id=case.id if case else None,
                                     now=now)
    created = bool(submitted and submitted.created)
    await repository.record_success(ctx.session, channel=value, created=int(created), now=now)
    return PushResult(case, created)


async def record_channel_error(ctx: ServiceContext, *, channel: str, message: str) -> None:
    """Count a channel failure and keep its message (connectors' messages carry no personal data)."""
    value = channel_value(channel_name(channel))
    await repository.record_error(ctx.session, channel=value, message=message, now=utcnow())
