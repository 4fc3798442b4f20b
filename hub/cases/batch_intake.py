"""A page of drafts stored set-based: one read or one write per table, routing in memory, chains hashed here.

Statements per page do not grow with its size: the stored (channel, external id)s, the routing rules, the
departments and the known identities are each read once; the day's case numbers are reserved at once; citizens,
identities, cases, co-departments and events each go in one multi-row INSERT. The result is what
``hub.cases.intake.submit_one`` gives draft after draft (tested side by side).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from auth.principal import SYSTEM
from hub.cases import repository
from hub.cases.drafts import (
    CheckedDraft,
    SubmitResult,
    auto_dispatch_note,
    auto_dispatch_targets,
    case_numbers,
    case_values,
    local_day,
    route_draft,
    submitted_payload,
)
from hub.cases.models import Case
from hub.cases.service import DispatchChange, apply_dispatch, require_active
from hub.citizens.service import link_citizens
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.deadlines.service import calendar_for, policy_for
from hub.departments import repository as departments
from hub.departments.models import Department
from hub.enums import CaseAction, CaseKind, CaseStatus, Urgency
from hub.errors import ValidationFailed
from hub.routing.repository import active_rules
from hub.routing.service import RouteDecision
from hub.trail.service import GENESIS, event_values, insert_events


@dataclass
class PagePlan:
    """A page after its reads: which drafts are new, which repeat a stored or an earlier one, their routes."""

    items: Sequence[CheckedDraft]
    results: list[SubmitResult | None]
    new: list[int] = field(default_factory=list)
    repeats: dict[int, int] = field(default_factory=dict)
    decisions: dict[int, RouteDecision] = field(default_factory=dict)
    departments: dict[int, Department] = field(default_factory=dict)
    refused: dict[int, ValidationFailed] = field(default_factory=dict)

    def finish(self) -> list[SubmitResult | ValidationFailed]:
        """One outcome per draft, in order; a repeat inside the page gets its first occurrence's."""
        outcomes: list[SubmitResult | ValidationFailed] = []
        for index in range(len(self.items)):
            first = self.repeats.get(index, index)
            if first in self.refused:
                outcomes.append(self.refused[first])
                continue
            result = self.results[first]
            assert result is not None
            outcomes.append(result if first == index else SubmitResult(result.case, created=False))
        return outcomes


async def plan_page(ctx: ServiceContext, *, items: Sequence[CheckedDraft], auto_dispatch: bool) -> PagePlan:
    """Read what the page needs: stored repeats, the routing rules, the departments auto-dispatch names."""
    session = ctx.session
    stored = await repository.by_externals(session, keys=[item.key for item in items])
    plan = PagePlan(items, [None] * len(items))
    first_of: dict[tuple[object, str], int] = {}
    for index, item in enumerate(items):
        if item.key in stored:
            plan.results[index] = SubmitResult(stored[item.key], created=False)
        elif item.key in first_of:
            plan.repeats[index] = first_of[item.key]
        else:
            first_of[item.key] = index
            plan.new.append(index)
    if not plan.new:
        return plan
    rules = await active_rules(session)
    for index in plan.new:
        item = plan.items[index]
        plan.decisions[index] = route_draft(rules, item, certainty_threshold=ctx.settings.auto_dispatch_confidence)
    if auto_dispatch:
        wanted = {
            i
            for d in plan.decisions.values()
            if d.certain and d.lead_department_id is not None
            for i in (d.lead_department_id, *d.co_department_ids)
        }
        plan.departments = await departments.by_ids(session, ids=sorted(wanted))
        for index in list(plan.new):
            target = auto_dispatch_targets(plan.decisions[index], plan.departments)
            try:
                if target is not None:
                    require_active([target[0], *target[1]])
            except ValidationFailed as exc:
                # the per-draft path refuses such a draft when its dispatch fails: nothing of it is stored
                plan.refused[index] = exc
                plan.new.remove(index)
    return plan


@dataclass
class NewCase:
    """The columns a dispatch sets on a case being inserted (``apply_dispatch`` works on these as on a Case)."""

    case_no: str
    kind: CaseKind
    urgency: Urgency
    category: str | None
    status: CaseStatus = CaseStatus.RECEIVED
    lead_department_id: int | None = None
    dispatched_at: dt.datetime | None = None
    claimed_at: dt.datetime | None = None
    sign_deadline: dt.datetime | None = None
    due_at: dt.datetime | None = None
    return_deadline: dt.datetime | None = None


async def write_page(ctx: ServiceContext, plan: PagePlan, *, auto_dispatch: bool) -> None:
    """Store the plan's new drafts as cases with their citizens, co-departments and trail; run in a savepoint.

    Rows go in as multi-row INSERTs built from plain values (no unit of work); the cases and events come back
    from their INSERT's RETURNING as persistent objects, as a read would load them. A concurrent transaction
    that stored one of the messages or bound one of the identities first surfaces as IntegrityError; the
    caller rolls the savepoint back and goes draft by draft.
    """
    session = ctx.session
    items = [plan.items[i] for i in plan.new]
    decisions = [plan.decisions[i] for i in plan.new]
    now = utcnow()
    day = local_day(now, ctx.settings.timezone)
    # Taken first: it queues concurrent case-creating transactions behind this one before any unique key is written.
    unnumbered = sum(item.case_no is None for item in items)  # drafts accepted earlier bring a reserved number
    first = await repository.allocate_case_numbers(session, day=day, count=unnumbered) if unnumbered else 0
    numbers = iter(case_numbers(ctx.settings.case_no_prefix, day, first, unnumbered))
    citizen_ids = await link_citizens(
        session, citizens=[(i.draft.citizen, i.channel.value) for i in items], now=now
    )
    rows = [
        case_values(item, case_no=item.case_no or next(numbers), decision=decision, citizen_id=citizen_id, now=now)
        for item, decision, citizen_id in zip(items, decisions, citizen_ids, strict=True)
    ]
    dispatched = [NewCase(row["case_no"], row["kind"], row["urgency"], row["category"]) for row in rows]
    changes = await _auto_dispatch(ctx, plan, dispatched, decisions, now=now) if auto_dispatch else {}
    for row, columns in zip(rows, dispatched, strict=True):
        row.update(columns.__dict__)  # every row has the same keys: one INSERT for the page
        row["updated_at"] = now
    cases = await repository.insert_cases(session, rows=rows)
    try:
        await _write_trail(ctx, items, decisions, cases, changes, now=now)
    except BaseException:
        # Rows loaded from RETURNING are not the savepoint's "new" objects: its rollback would leave them behind.
        for case in cases:
            session.expunge(case)
        raise
    for index, case, decision in zip(plan.new, cases, decisions, strict=True):
        plan.results[index] = SubmitResult(case, created=True, route=decision)


async def _write_trail(
    ctx: ServiceContext,
    items: Sequence[CheckedDraft],
    decisions: Sequence[RouteDecision],
    cases: Sequence[Case],
    changes: dict[int, DispatchChange],
    *,
    now: dt.datetime,
) -> None:
    """The new cases' co-departments and their SUBMITTED (and DISPATCHED) events, chained from GENESIS."""
    events: list[dict[str, Any]] = []
    co_departments: list[dict[str, int]] = []
    for n, (item, decision, case) in enumerate(zip(items, decisions, cases, strict=True)):
        submitted = event_values(
            case_id=case.id,
            seq=1,
            prev_hash=GENESIS,
            actor=ctx.actor,
            action=CaseAction.SUBMITTED.value,
            from_status=CaseStatus.RECEIVED.value,
            to_status=CaseStatus.RECEIVED.value,
            payload=submitted_payload(item, decision),
            at=now,
        )
        events.append(submitted)
        change = changes.get(n)
        if change is None:
            continue
        events.append(
            event_values(
                case_id=case.id,
                seq=2,
                prev_hash=submitted["hash"],
                actor=SYSTEM,
                action=CaseAction.DISPATCHED.value,
                from_status=change.before.value,
                to_status=case.status.value,
                note=auto_dispatch_note(decision),
                payload=change.payload,
                at=now,
            )
        )
        co_departments.extend({"case_id": case.id, "department_id": d} for d in change.co_department_ids)
    await repository.insert_co_departments(ctx.session, rows=co_departments)
    await insert_events(ctx.session, rows=events, anchors={case.id: case for case in cases})


async def _auto_dispatch(
    ctx: ServiceContext,
    plan: PagePlan,
    cases: Sequence[NewCase],
    decisions: Sequence[RouteDecision],
    *,
    now: dt.datetime,
) -> dict[int, DispatchChange]:
    """Dispatch the certain cases before they are inserted, exactly as ``dispatch_case`` would."""
    targets = {n: auto_dispatch_targets(d, plan.departments) for n, d in enumerate(decisions)}
    if not any(targets.values()):
        return {}
    calendar, policy = await calendar_for(ctx.session, settings=ctx.settings), policy_for(ctx.settings)
    changes: dict[int, DispatchChange] = {}
    for n, target in targets.items():
        if target is not None:
            lead, co = target
            changes[n] = apply_dispatch(
                cases[n], lead=lead, co=co, category=None, now=now, calendar=calendar, policy=policy
            )
    return changes
