"""Every root field has a rule, and every role gets exactly what the permission table says."""

from __future__ import annotations

import pytest
from helpers import CONNECTOR, DISPATCHER, codes, draft, handler

from auth.permission import scope_for
from auth.principal import Principal, Role
from hub.cases.intake import submit_case
from schema.permissions import FIELD_OPERATIONS

ROLES = [r for r in Role if r is not Role.SYSTEM]

# One operation per root field, with arguments that reach the permission check.
OPERATIONS = {
    "Query.me": "{ me { subject } }",
    "Query.case": "query($id: ID!) { case(id: $id) { caseNo } }",
    "Query.cases": "{ cases(first: 5) { totalCount } }",
    "Query.departments": "{ departments { code } }",
    "Query.verifyTrail": "{ verifyTrail { intact } }",
    "Query.readLog": "{ readLog { subject action } }",
    "Query.trail": "{ trail { caseNo event { action } } }",
    "Query.supervisionOrders": "{ supervisionOrders { id } }",
    "Query.escalations": "{ escalations { overdueCases { caseNo } } }",
    "Query.connectors": "{ connectors { channel cursor lagSeconds deadLetterCount } }",
    "Query.stats": "{ stats(groupBy: [DEPARTMENT]) { department received onTimeRate } }",
    "Query.hotTopics": "{ hotTopics { term kind count } }",
    "Query.duplicateSuggestions": "query($id: ID!) { duplicateSuggestions(caseId: $id) { score case { caseNo } } }",
    "Mutation.respondSupervision": 'mutation { respondSupervision(orderId: "999", response: "已落实") { status } }',
    "Mutation.submitCase": """mutation { submitCase(input: {channel: HOTLINE, externalId: "GD-WALK",
        title: "路灯不亮", content: "小区门口路灯不亮", receivedAt: "2026-11-25T09:00:00+08:00"}) { caseNo } }""",
    "Mutation.dispatchCase": 'mutation($id: ID!) { dispatchCase(caseId: $id, leadDepartment: "NH-ZJ") { status } }',
    "Mutation.claimCase": "mutation($id: ID!) { claimCase(caseId: $id) { status } }",
    "Mutation.returnCase": 'mutation($id: ID!) { returnCase(caseId: $id, reason: "不属于本单位") { status } }',
    "Mutation.answerCase": 'mutation($id: ID!) { answerCase(caseId: $id, content: "已处理") { status } }',
    "Mutation.requestExtension": """mutation($id: ID!) { requestExtension(caseId: $id, workingDays: 3,
        reason: "需现场核查") { status } }""",
    "Mutation.decideExtension": "mutation { decideExtension(extensionId: 999, approve: true) { status } }",
    "Mutation.superviseCase": 'mutation($id: ID!) { superviseCase(caseId: $id, note: "请加快") { status } }',
    "Mutation.recordCallback": """mutation($id: ID!) { recordCallback(input: {caseId: $id, satisfaction: SATISFIED,
        solved: true}) { status } }""",
    "Mutation.closeCase": "mutation($id: ID!) { closeCase(caseId: $id) { status } }",
    "Mutation.mergeCases": 'mutation($id: ID!) { mergeCases(primaryId: $id, duplicateIds: ["999"]) { status } }',
    "Mutation.addNote": 'mutation($id: ID!) { addNote(caseId: $id, note: "已联系") { status } }',
    "Mutation.resendReply": 'mutation { resendReply(replyId: "999") { status } }',
}


def _principal(role: Role) -> Principal:
    department = "NH-ZJ" if role is Role.HANDLER else ("NH-DC" if role is Role.DISPATCHER else None)
    return Principal(subject=f"walk-{role.value}", roles=frozenset({role}), department=department)


def test_every_root_field_has_a_rule(schema) -> None:  # type: ignore[no-untyped-def]
    gql_schema = schema._schema
    fields = {
        f"{kind}.{name}"
        for kind, root in (
            ("Query", gql_schema.query_type),
            ("Mutation", gql_schema.mutation_type),
            ("Subscription", gql_schema.subscription_type),
        )
        if root is not None
        for name in root.fields
    }
    assert fields == set(FIELD_OPERATIONS), "a root field without a rule (or a rule without a field)"
    assert fields - {"Subscription.caseEvents"} == set(OPERATIONS)


@pytest.mark.parametrize("field", sorted(OPERATIONS))
async def test_each_role_gets_what_the_table_says(gql, district, field: str) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        case = (
            await submit_case(
                ctx, draft=draft(title="咨询", content="请问如何办理", kind="CONSULTATION"), auto_dispatch=False
            )
        ).case
    variables = {"id": str(case.id)} if "$id" in OPERATIONS[field] else None
    unauthenticated = await gql(OPERATIONS[field], None, variables)
    assert codes(unauthenticated) == ["UNAUTHENTICATED"]
    for role in ROLES:
        operations = FIELD_OPERATIONS[field]
        allowed = not operations or any(scope_for(_principal(role), op) for op in operations)
        result = await gql(OPERATIONS[field], _principal(role), variables)
        if allowed:
            assert "NOT_ALLOWED" not in codes(result), (field, role, result.errors)
        else:
            assert codes(result) == ["NOT_ALLOWED"], (field, role, result.errors)


async def test_subscription_refuses_roles_without_the_rule(schema, district, bus) -> None:  # type: ignore[no-untyped-def]
    from schema.context import HubContext

    async with district.sessions() as session:
        ctx = HubContext(
            principal=_principal(Role.CONNECTOR), session=session, settings=district.settings, bus=bus, request_id="t"
        )
        stream = await schema.subscribe("subscription { caseEvents { caseNo } }", context_value=ctx)
        first = await stream.__anext__()
    assert codes(first) == ["NOT_ALLOWED"]


async def test_handler_sees_own_department_only(gql, district) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        case = (
            await submit_case(
                ctx, draft=draft(title="咨询", content="请问如何办理", kind="CONSULTATION"), auto_dispatch=False
            )
        ).case
    result = await gql(
        'mutation($id: ID!) { dispatchCase(caseId: $id, leadDepartment: "NH-ZJ") { status } }',
        DISPATCHER,
        {"id": str(case.id)},
    )
    assert result.errors is None
    query = "query($id: ID!) { case(id: $id) { caseNo title citizen { phone masked } } }"
    own = await gql(query, handler("NH-ZJ"), {"id": str(case.id)})
    assert own.errors is None and own.data["case"]["citizen"] == {"phone": "13800005678", "masked": False}
    other = await gql(query, handler("NH-JY"), {"id": str(case.id)})
    assert codes(other) == ["NOT_FOUND"] and other.data is None
    audited = await gql(query, _principal(Role.AUDITOR), {"id": str(case.id)})
    assert audited.data["case"]["citizen"] == {"phone": "138****5678", "masked": True}
