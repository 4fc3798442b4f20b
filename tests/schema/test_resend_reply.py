"""`resendReply`: the centre sends a failed reply again; nobody else may, and only failed replies go again."""

from __future__ import annotations

from typing import Any

from helpers import AUDITOR, CONNECTOR, DISPATCHER, codes, draft, handler
from sqlalchemy import select

from hub.cases.intake import submit_case
from hub.cases.models import Reply
from hub.cases.service import answer_case, claim_case, dispatch_case
from hub.enums import DeliveryStatus

RESEND = """mutation($id: ID!) { resendReply(replyId: $id) {
  caseNo replies { id deliveryStatus } events { action note } } }"""


async def _failed_reply(district: Any) -> tuple[int, str]:
    async with district.ctx(CONNECTOR) as ctx:
        case = (await submit_case(ctx, draft=draft(), auto_dispatch=False)).case
    async with district.ctx(DISPATCHER) as ctx:
        await dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    async with district.ctx(handler("NH-ZJ")) as ctx:
        await claim_case(ctx, case_id=case.id)
        await answer_case(ctx, case_id=case.id, content="经现场核查，路灯已修复。")
    async with district.ctx() as ctx:  # the channel refused it for good (as a delivery job records it)
        reply = (await ctx.session.execute(select(Reply).where(Reply.case_id == case.id))).scalar_one()
        reply.delivery_status = DeliveryStatus.FAILED
        return reply.id, case.case_no


async def test_the_centre_resends_a_failed_reply_once(gql, district) -> None:  # type: ignore[no-untyped-def]
    reply_id, case_no = await _failed_reply(district)
    variables = {"id": str(reply_id)}
    assert codes(await gql(RESEND, AUDITOR, variables)) == ["NOT_ALLOWED"]
    assert codes(await gql(RESEND, handler("NH-ZJ"), variables)) == ["NOT_ALLOWED"]

    result = await gql(RESEND, DISPATCHER, variables)
    assert result.errors is None, result.errors
    case = result.data["resendReply"]
    assert case["caseNo"] == case_no
    assert case["replies"] == [{"id": str(reply_id), "deliveryStatus": "PENDING"}]
    assert f"答复 #{reply_id} 由 dispatcher 安排重新发送" in [e["note"] for e in case["events"]]

    assert codes(await gql(RESEND, DISPATCHER, variables)) == ["ILLEGAL_TRANSITION"]  # pending now: not again
    assert codes(await gql(RESEND, DISPATCHER, {"id": "987654"})) == ["NOT_FOUND"]
