"""Supervision orders answered by the lead department; the trail filtered for auditors and scoped for handlers."""

from __future__ import annotations

from helpers import AUDITOR, CONNECTOR, DISPATCHER, SUPERVISOR, codes, draft, handler

from hub.cases import service as workflow
from hub.cases.intake import submit_case


async def test_supervision_order_round_trip_and_trail_filters(gql, district) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        case = (
            await submit_case(
                ctx, draft=draft(title="咨询", content="请问如何办理", kind="CONSULTATION"), auto_dispatch=False
            )
        ).case
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ")
    ordered = await gql(
        'mutation($id: ID!) { superviseCase(caseId: $id, note: "群众反映强烈，请三日内办结") { supervised } }',
        SUPERVISOR,
        {"id": str(case.id)},
    )
    assert ordered.errors is None and ordered.data["superviseCase"]["supervised"] is True
    listed = await gql("{ supervisionOrders { id status note } }", handler("NH-ZJ"))
    assert [o["status"] for o in listed.data["supervisionOrders"]] == ["OPEN"]
    assert (await gql("{ supervisionOrders { id } }", handler("NH-JY"))).data["supervisionOrders"] == []
    order_id = listed.data["supervisionOrders"][0]["id"]
    answered = await gql(
        'mutation($o: ID!) { respondSupervision(orderId: $o, response: "已安排专人跟进") { events { action } } }',
        handler("NH-ZJ"),
        {"o": order_id},
    )
    assert answered.errors is None
    assert answered.data["respondSupervision"]["events"][-1]["action"] == "SUPERVISION_RESPONDED"
    again = await gql(
        'mutation($o: ID!) { respondSupervision(orderId: $o, response: "再次") { status } }',
        handler("NH-ZJ"),
        {"o": order_id},
    )
    assert codes(again) == ["ILLEGAL_TRANSITION"]
    assert (await gql("{ supervisionOrders { id } }", SUPERVISOR)).data["supervisionOrders"] == []

    trail = await gql('{ trail(action: "SUPERVISED") { caseNo event { actor { subject role } note } } }', AUDITOR)
    assert trail.data["trail"] == [
        {
            "caseNo": case.case_no,
            "event": {"actor": {"subject": "supervisor", "role": "supervisor"}, "note": "群众反映强烈，请三日内办结"},
        }
    ]
    by_actor = await gql('{ trail(actor: "handler-NH-ZJ") { event { action } } }', AUDITOR)
    assert [e["event"]["action"] for e in by_actor.data["trail"]] == ["SUPERVISION_RESPONDED"]
    assert (await gql("{ trail { caseNo } }", handler("NH-JY"))).data["trail"] == []
    assert len((await gql("{ trail { caseNo } }", handler("NH-ZJ"))).data["trail"]) == 4
