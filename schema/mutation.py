"""Root mutations: each one unit of work, committed here, its events published after the commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from connectors.base import CaseDraft, CitizenDraft
from hub.cases import followup, intake
from hub.cases import service as workflow
from hub.cases.models import Case as CaseModel
from hub.cases.models import Reply as ReplyModel
from hub.cases.notices import notices_for, publish
from hub.cases.outbox import take_new_replies
from hub.context import ServiceContext
from hub.enums import Urgency
from hub.jobs.outbox import requeue_reply
from hub.jobs.queue import enqueue_replies
from schema.context import HubContext
from schema.errors import guarded
from schema.inputs import CallbackInput, SubmitCaseInput
from schema.loaders import build_case, selected_relations
from schema.oversight import respond_supervision
from schema.permissions import principal_of
from schema.types import Case

T = TypeVar("T")


async def _unit(info: strawberry.Info[HubContext, None], work: Callable[[ServiceContext], Awaitable[T]]) -> T:
    """Run one service call in the request's session; commit, then publish; roll back on any error."""
    ctx = info.context
    service = ctx.service(principal_of(info))
    async with ctx.db() as session:
        try:
            result = await guarded(work(service))
            notices = await notices_for(session)
            replies = take_new_replies(session)
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    await publish(ctx.bus, notices)
    if replies:
        await enqueue_replies(replies)  # only after the commit: a worker must find the reply row
    return result


async def _case(info: strawberry.Info[HubContext, None], row: CaseModel) -> Case:
    return await build_case(info.context, row, selected_relations(info))


@strawberry.type
class Mutation:
    """Every workflow step of DESIGN §2."""

    @strawberry.mutation
    async def submit_case(self, info: strawberry.Info[HubContext, None], input: SubmitCaseInput) -> Case:
        """Store a citizen message as a case; the same (channel, externalId) again returns the first case."""
        draft = CaseDraft(
            channel=input.channel.value,
            external_id=input.external_id,
            title=input.title,
            content=input.content,
            received_at=input.received_at,
            kind=input.kind.value if input.kind else None,
            urgency=Urgency.URGENT.value if input.urgent else None,
            address=input.address,
            region=input.region,
            citizen=CitizenDraft(name=input.citizen_name, phone=input.citizen_phone, account_id=input.account_id),
            raw={"via": "graphql"},
        )
        result = await _unit(info, lambda s: intake.submit_case(s, draft=draft))
        return await _case(info, result.case)

    @strawberry.mutation
    async def dispatch_case(
        self,
        info: strawberry.Info[HubContext, None],
        case_id: strawberry.ID,
        lead_department: str,
        co_departments: list[str] | None = None,
        category: str | None = None,
        note: str | None = None,
    ) -> Case:
        """RECEIVED → DISPATCHED to a lead department (and co-handlers)."""
        return await _case(
            info,
            await _unit(
                info,
                lambda s: workflow.dispatch_case(
                    s,
                    case_id=int(case_id),
                    lead_department=lead_department,
                    co_departments=co_departments or [],
                    category=category,
                    note=note,
                ),
            )
        )

    @strawberry.mutation
    async def claim_case(
        self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID, note: str | None = None
    ) -> Case:
        """DISPATCHED → CLAIMED: the lead department signs for it."""
        return await _case(info, await _unit(info, lambda s: workflow.claim_case(s, case_id=int(case_id), note=note)))

    @strawberry.mutation
    async def return_case(self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID, reason: str) -> Case:
        """DISPATCHED → RECEIVED: back to the centre, with a reason, within the window."""
        row = await _unit(info, lambda s: workflow.return_case(s, case_id=int(case_id), reason=reason))
        return await _case(info, row)

    @strawberry.mutation
    async def answer_case(self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID, content: str) -> Case:
        """CLAIMED → ANSWERED (or the centre's direct answer from RECEIVED); the reply is queued for delivery."""
        case, _reply = await _unit(info, lambda s: workflow.answer_case(s, case_id=int(case_id), content=content))
        return await _case(info, case)

    @strawberry.mutation
    async def request_extension(
        self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID, working_days: int, reason: str
    ) -> Case:
        """Ask the centre for more working days."""

        async def work(s: ServiceContext) -> CaseModel:
            request = await followup.request_extension(
                s, case_id=int(case_id), working_days=working_days, reason=reason
            )
            return await _reload(s, request.case_id)

        return await _case(info, await _unit(info, work))

    @strawberry.mutation
    async def decide_extension(
        self,
        info: strawberry.Info[HubContext, None],
        extension_id: strawberry.ID,
        approve: bool,
        note: str | None = None,
    ) -> Case:
        """Approve (dueAt moves) or reject an extension request."""

        async def work(s: ServiceContext) -> CaseModel:
            request = await followup.decide_extension(s, extension_id=int(extension_id), approve=approve, note=note)
            return await _reload(s, request.case_id)

        return await _case(info, await _unit(info, work))

    @strawberry.mutation
    async def supervise_case(
        self,
        info: strawberry.Info[HubContext, None],
        case_id: strawberry.ID,
        note: str,
        deadline: dt.datetime | None = None,
    ) -> Case:
        """Issue a supervision order (督办) to the lead department."""

        async def work(s: ServiceContext) -> CaseModel:
            order = await followup.supervise_case(s, case_id=int(case_id), note=note, deadline=deadline)
            return await _reload(s, order.case_id)

        return await _case(info, await _unit(info, work))

    @strawberry.mutation
    async def record_callback(self, info: strawberry.Info[HubContext, None], input: CallbackInput) -> Case:
        """The follow-up call: satisfied closes, dissatisfied reopens to the same department."""
        return await _case(
            info,
            await _unit(
                info,
                lambda s: followup.record_callback(
                    s, case_id=int(input.case_id), satisfaction=input.satisfaction, solved=input.solved, note=input.note
                ),
            )
        )

    @strawberry.mutation
    async def close_case(
        self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID, note: str | None = None
    ) -> Case:
        """ANSWERED → CLOSED by the centre."""
        return await _case(info, await _unit(info, lambda s: workflow.close_case(s, case_id=int(case_id), note=note)))

    @strawberry.mutation
    async def merge_cases(
        self,
        info: strawberry.Info[HubContext, None],
        primary_id: strawberry.ID,
        duplicate_ids: list[strawberry.ID],
        note: str | None = None,
    ) -> Case:
        """Fold duplicates into a primary case."""
        return await _case(
            info,
            await _unit(
                info,
                lambda s: workflow.merge_cases(
                    s, primary_id=int(primary_id), duplicate_ids=[int(i) for i in duplicate_ids], note=note
                ),
            )
        )

    @strawberry.mutation
    async def respond_supervision(
        self, info: strawberry.Info[HubContext, None], order_id: strawberry.ID, response: str
    ) -> Case:
        """The lead department answers a supervision order."""

        async def work(s: ServiceContext) -> CaseModel:
            return await _reload(s, await respond_supervision(s, order_id=int(order_id), response=response))

        return await _case(info, await _unit(info, work))

    @strawberry.mutation
    async def add_note(self, info: strawberry.Info[HubContext, None], case_id: strawberry.ID, note: str) -> Case:
        """A note on the trail."""
        return await _case(info, await _unit(info, lambda s: workflow.add_note(s, case_id=int(case_id), note=note)))

    @strawberry.mutation
    async def resend_reply(self, info: strawberry.Info[HubContext, None], reply_id: strawberry.ID) -> Case:
        """Send a FAILED or WINDOW_CLOSED reply again (after checking the channel); returns the reply's case."""

        async def work(s: ServiceContext) -> CaseModel:
            reply = await s.session.get(ReplyModel, await requeue_reply(s, reply_id=int(reply_id)))
            assert reply is not None
            return await _reload(s, reply.case_id)

        return await _case(info, await _unit(info, work))


async def _reload(s: ServiceContext, case_id: int) -> CaseModel:
    row = await s.session.get(CaseModel, case_id)
    assert row is not None
    return row
