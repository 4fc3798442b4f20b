"""Duplicates across channels (一网打尽): suggestions for the centre, and who hears the primary's answer.

The centre sees, for any case, the open cases that are probably the same matter, with a score and the reasons;
``mergeCases`` (hub.cases.service.merge_cases) then folds them into one primary. When the primary is answered,
``recipients_of`` names every merged case's channel and reply target, so each citizen gets the answer where they
wrote. Candidates are fetched in SQL within a time window, open statuses, and the citizen or a named place;
scoring runs in Python (hub.duplicates.scoring).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from auth.permission import Operation
from hub.cases.reads import audit_query
from hub.context import ServiceContext
from hub.duplicates import repository
from hub.duplicates.places import search_terms
from hub.duplicates.scoring import THRESHOLD, WINDOW_DAYS, profile, rank
from hub.duplicates.types import DuplicateSuggestion, Recipient
from hub.enums import FINAL_STATUSES
from hub.errors import NotFound, ValidationFailed
from hub.permissions import require

CANDIDATE_LIMIT = 200  # newest open cases looked at per suggestion call
MAX_LIMIT = 50


async def suggest_duplicates(
    ctx: ServiceContext,
    *,
    case_id: int,
    limit: int = 5,
    window_days: int = WINDOW_DAYS,
    threshold: float = THRESHOLD,
) -> list[DuplicateSuggestion]:
    """Open cases within the window that are probably the same matter as this case, best first."""
    require(ctx.actor, Operation.DUPLICATES_READ)
    if not 1 <= limit <= MAX_LIMIT or not 1 <= window_days <= 366 or not 0.0 <= threshold <= 1.0:
        raise ValidationFailed(f"limit must be 1–{MAX_LIMIT}, window_days 1–366 and threshold within [0, 1]")
    found = await repository.case_text(ctx.session, case_id=case_id)
    if found is None:
        raise NotFound(f"case {case_id} not found")
    case, case_no, status = found
    await audit_query(ctx, action="duplicates", target=case_no)
    if status in FINAL_STATUSES:
        return []  # closed or already merged: nothing left to fold into it
    subject = profile(case)
    window = dt.timedelta(days=window_days)
    candidates = await repository.open_candidates(
        ctx.session,
        case_id=case.id,
        since=case.received_at - window,
        until=case.received_at + window,
        citizen_id=case.citizen_id,
        place_terms=search_terms(subject.places),
        limit=CANDIDATE_LIMIT,
    )
    return rank(subject, candidates, threshold=threshold, limit=limit)


async def recipients_of(ctx: ServiceContext, *, primary_id: int) -> list[Recipient]:
    """Every case merged into the primary (also through merged cases): its id, channel and reply target.

    The primary's own target is left out (its answer goes there already), and so is any repeat of a target, so a
    citizen who wrote twice on one account hears the answer once. Reply targets carry channel account ids, which
    are personal data (DESIGN §5): only the centre and the system (the reply outbox) may read them.
    """
    require(ctx.actor, Operation.CASE_MERGE)
    own = await repository.reply_target(ctx.session, case_id=primary_id)
    if own is None:
        raise NotFound(f"case {primary_id} not found")
    seen = {_key(own[0].value, own[1])}
    recipients: list[Recipient] = []
    for case_id, channel, reply_to in await repository.merged_into(ctx.session, primary_id=primary_id):
        target = {str(k): str(v) for k, v in reply_to.items()}
        key = _key(channel.value, target)
        if key in seen:
            continue
        seen.add(key)
        recipients.append(Recipient(case_id, channel, target))
    return recipients


def _key(channel: str, reply_to: Mapping[str, object]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return channel, tuple(sorted((str(k), str(v)) for k, v in reply_to.items()))
