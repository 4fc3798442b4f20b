"""The inbox's loading: last-N events by a window, relations only when selected, fragments, masking, the read log."""

from __future__ import annotations

from helpers import AUDITOR, CONNECTOR, DISPATCHER, SUPERVISOR, draft, handler

from auth.principal import Principal, Role
from hub.cases import queries
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.departments import cache
from hub.departments.service import create_department

ADMIN = Principal(subject="admin", roles=frozenset({Role.ADMIN}))


async def _case_with_notes(db, notes: int, *, phone: str = "13800005678") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A case dispatched to NH-ZJ (co-handled by NH-CG) with ``notes`` notes after SUBMITTED and DISPATCHED."""
    async with db.ctx(CONNECTOR) as ctx:
        case = (await submit_case(ctx, draft=draft(phone=phone), auto_dispatch=False)).case
    async with db.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-ZJ", co_departments=["NH-CG"])
        for i in range(notes):
            await workflow.add_note(ctx, case_id=case.id, note=f"note {i}")
    return case.id, case.case_no


async def test_last_n_events_per_case_by_a_window(district) -> None:  # type: ignore[no-untyped-def]
    long, _ = await _case_with_notes(district, 5)  # 7 events
    short, _ = await _case_with_notes(district, 0)  # 2 events
    async with district.sessions() as session:
        everything = await queries.events_by_case(session, case_ids=[long, short])
        last3 = await queries.events_by_case(session, case_ids=[long, short], last=3)
        none = await queries.events_by_case(session, case_ids=[long, short], last=0)
    assert [e.seq for e in everything[long]] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.seq for e in last3[long]] == [5, 6, 7]  # the last three, oldest first
    assert [e.note for e in last3[long]] == ["note 2", "note 3", "note 4"]
    assert [e.seq for e in last3[short]] == [1, 2]
    assert [e.action for e in last3[short]] == [e.action for e in everything[short]]
    assert none == {long: [], short: []}


INBOX = """
query($last: Int) {
  cases(first: 10, filter: {department: "NH-ZJ"}) {
    edges { node {
      caseNo
      citizen { phone masked }
      three: events(last: 3) { seq action }
      one: events(last: 1) { seq }
      some: events(last: $last) { seq }
    } }
  }
}
"""


async def test_event_slices_of_one_page_agree_with_the_trail(gql, district) -> None:  # type: ignore[no-untyped-def]
    await _case_with_notes(district, 4)  # 6 events
    result = await gql(INBOX, handler("NH-ZJ"), {"last": 2})
    assert result.errors is None, result.errors
    node = result.data["cases"]["edges"][0]["node"]
    assert [e["seq"] for e in node["three"]] == [4, 5, 6]
    assert [e["seq"] for e in node["one"]] == [6]
    assert [e["seq"] for e in node["some"]] == [5, 6]
    everything = await gql(INBOX, handler("NH-ZJ"), {"last": None})  # one unbounded selection loads the whole trail
    node = everything.data["cases"]["edges"][0]["node"]
    assert [e["seq"] for e in node["some"]] == [1, 2, 3, 4, 5, 6]
    assert [e["seq"] for e in node["three"]] == [4, 5, 6]


FRAGMENTS = """
fragment who on Citizen { phone masked }
fragment row on Case { caseNo citizen { ...who } leadDepartment { code parent { code } } }
query {
  cases(first: 10, filter: {department: "NH-ZJ"}) {
    edges { node { ...row ... on Case { coDepartments { code } events(last: 2) { action } replies { content } } } }
  }
}
"""


async def test_relations_selected_through_fragments_are_loaded(gql, district) -> None:  # type: ignore[no-untyped-def]
    await _case_with_notes(district, 1, phone="13912345678")
    result = await gql(FRAGMENTS, handler("NH-ZJ"))
    assert result.errors is None, result.errors
    node = result.data["cases"]["edges"][0]["node"]
    assert node["citizen"] == {"phone": "13912345678", "masked": False}
    assert node["leadDepartment"] == {"code": "NH-ZJ", "parent": {"code": "NH"}}
    assert node["coDepartments"] == [{"code": "NH-CG"}]
    assert [e["action"] for e in node["events"]] == ["DISPATCHED", "NOTE_ADDED"]
    assert node["replies"] == []


READ_LOG = "query($action: String) { readLog(action: $action) { subject action target requestId } }"


async def test_inbox_reads_in_clear_are_recorded_masked_ones_are_not(gql, district) -> None:  # type: ignore[no-untyped-def]
    _, case_no = await _case_with_notes(district, 0, phone="13912345678")
    shown = await gql(  # the co-handling department sees the citizen in clear
        '{ cases(filter: {department: "NH-CG"}) { edges { node { caseNo citizen { phone masked } } } } }',
        handler("NH-CG"),
        request_id="req-co-handler",
    )
    clear = {"caseNo": case_no, "citizen": {"phone": "13912345678", "masked": False}}
    assert shown.data["cases"]["edges"] == [{"node": clear}]
    masked = await gql(INBOX, SUPERVISOR, {"last": 1}, request_id="req-supervisor")
    assert masked.data["cases"]["edges"][0]["node"]["citizen"] == {"phone": "139****5678", "masked": True}
    log = await gql(READ_LOG, AUDITOR, {"action": "citizen.unmasked"})
    assert log.errors is None, log.errors
    assert log.data["readLog"] == [
        {"subject": "handler-NH-CG", "action": "citizen.unmasked", "target": case_no, "requestId": "req-co-handler"}
    ]


async def test_another_departments_case_stays_not_found(gql, district) -> None:  # type: ignore[no-untyped-def]
    case_id, case_no = await _case_with_notes(district, 0)
    other = await gql("query($no: String!) { case(caseNo: $no) { caseNo } }", handler("NH-JT"), {"no": case_no})
    assert [e.extensions["code"] for e in other.errors or []] == ["NOT_FOUND"]
    listed = await gql("{ cases { totalCount edges { node { caseNo } } } }", handler("NH-JT"))
    assert listed.data["cases"] == {"totalCount": 0, "edges": []}
    assert case_id


async def test_a_handler_of_a_department_made_after_caching_works_at_once(district, gql) -> None:  # type: ignore[no-untyped-def]
    async with district.sessions() as session:
        await cache.directory(session)  # cached before the department exists
    async with district.sessions() as session, session.begin():
        await create_department(session, actor=ADMIN, code="NH-JJ", name="九江镇", kind="STREET", parent_code="NH")
    async with district.ctx(CONNECTOR) as ctx:
        case = (await submit_case(ctx, draft=draft(), auto_dispatch=False)).case
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.dispatch_case(ctx, case_id=case.id, lead_department="NH-JJ", co_departments=[])
    query = "{ cases { totalCount edges { node { caseNo leadDepartment { code parent { code } } } } } }"
    result = await gql(query, handler("NH-JJ"))
    assert result.errors is None, result.errors
    assert result.data["cases"]["totalCount"] == 1
    assert result.data["cases"]["edges"][0]["node"]["leadDepartment"] == {"code": "NH-JJ", "parent": {"code": "NH"}}
