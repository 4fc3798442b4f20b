"""Loading what a page of cases shows: one statement per relation the query selects, whatever the page size.

Resolvers do no SQL per case. A root field that returns cases (the `cases` connection, `case`, the mutations,
escalations, duplicate suggestions) looks once at what the query selects under it (`selected_relations`), loads
each selected relation for all its cases at once (`build_cases`) and hands graphql-core complete objects:
citizens already masked or not, departments from the per-process department cache, the last N events by a
window query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
)
from sqlalchemy import Row

from hub.cases import queries
from hub.cases.models import Case as CaseModel
from hub.cases.reads import may_see_personal_data
from hub.citizens import repository as citizens
from hub.citizens.masking import mask_id_number, mask_name, mask_phone
from hub.departments import cache as department_cache
from schema.context import HubContext
from schema.types import Case, CaseEvent, Citizen, DepartmentNodes, DepartmentRow, Reply

ALL_EVENTS = -1  # `Wanted.events_last` when some selection of `events` has no `last`


@dataclass(frozen=True)
class Wanted:
    """The relations of `Case` a query selects (what is not selected is not loaded)."""

    lead_department: bool = False
    co_departments: bool = False
    citizen: bool = False
    events_last: int | None = None  # None: events not selected; ALL_EVENTS: every event; N: the last N
    replies: bool = False


def selected_relations(info: strawberry.Info[HubContext, None], *path: str) -> Wanted:
    """What the query selects on the cases found at ``path`` under the current field (e.g. "edges", "node")."""
    raw: GraphQLResolveInfo = info._raw_info
    nodes: list[FieldNode] = list(raw.field_nodes)
    for name in path:
        nodes = [f for node in nodes for f in _fields(raw, node.selection_set) if f.name.value == name]
    selected = [f for node in nodes for f in _fields(raw, node.selection_set)]
    names = {f.name.value for f in selected}
    lasts = [_last(raw, f) for f in selected if f.name.value == "events"]
    return Wanted(
        lead_department="leadDepartment" in names,
        co_departments="coDepartments" in names,
        citizen="citizen" in names,
        events_last=None if not lasts else ALL_EVENTS if None in lasts else max(0, *(n or 0 for n in lasts)),
        replies="replies" in names,
    )


def _fields(info: GraphQLResolveInfo, selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
    """The field nodes of a selection set, fragments flattened (@skip/@include ignored: loading more is harmless)."""
    for node in selection_set.selections if selection_set is not None else ():
        if isinstance(node, FieldNode):
            yield node
        elif isinstance(node, InlineFragmentNode):
            yield from _fields(info, node.selection_set)
        elif isinstance(node, FragmentSpreadNode):
            fragment = info.fragments.get(node.name.value)
            if fragment is not None:
                yield from _fields(info, fragment.selection_set)


def _last(info: GraphQLResolveInfo, node: FieldNode) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value != "last":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            found = _variables(info).get(value.name.value)
            return int(found) if found is not None else None
        if isinstance(value, IntValueNode):
            return int(value.value)
        return None  # null
    return None


def _variables(info: GraphQLResolveInfo) -> dict[str, Any]:
    values: Any = info.variable_values
    return dict(getattr(values, "coerced", values) or {})


async def build_cases(ctx: HubContext, rows: Sequence[CaseModel | Row[Any]], want: Wanted) -> list[Case]:
    """GraphQL cases for model rows, with what ``want`` names loaded for all of them at once."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    co_ids: dict[int, list[int]] = {}
    people: dict[int, Row[Any]] = {}
    events: dict[int, list[Row[Any]]] = {}
    replies: dict[int, list[Row[Any]]] = {}
    nodes: DepartmentNodes | None = None
    async with ctx.db() as session:
        if want.lead_department or want.co_departments:
            nodes = DepartmentNodes((await department_cache.directory(session)).by_id)
        if want.co_departments or want.citizen:  # the co-departments also decide whether the citizen is masked
            co_ids = await queries.co_departments_by_case(session, case_ids=ids)
        if want.citizen:
            wanted_people = sorted({r.citizen_id for r in rows if r.citizen_id is not None})
            people = {c.id: c for c in await citizens.get_many(session, ids=wanted_people)}
        if want.events_last is not None:
            last = None if want.events_last == ALL_EVENTS else want.events_last
            events = await queries.events_by_case(session, case_ids=ids, last=last)
        if want.replies:
            replies = await queries.replies_by_case(session, case_ids=ids)
    service = ctx.service(ctx.principal) if want.citizen and ctx.principal is not None else None
    out = []
    for row in rows:
        co = co_ids.get(row.id, [])
        citizen = None
        if want.citizen and row.citizen_id is not None and service is not None:
            person = people.get(row.citizen_id)
            if person is not None:
                clear = may_see_personal_data(
                    service,
                    case_department_ids=[row.lead_department_id, *co],
                    actor_department_id=ctx.actor_department_id,
                )
                citizen = _citizen(person, clear=clear)
                if clear and (person.phone or person.id_number):
                    ctx.unmasked_cases.append(row.case_no)  # written to the read log when the operation ends
        out.append(
            Case.of(
                row,
                lead_department=nodes.get(row.lead_department_id) if nodes and want.lead_department else None,
                co_departments=[d for d in (nodes.get(i) for i in co) if d is not None] if nodes else [],
                citizen=citizen,
                trail=[CaseEvent.of(e) for e in events.get(row.id, ())],
                replies=[Reply.of(r) for r in replies.get(row.id, ())],
            )
        )
    return out


async def build_case(ctx: HubContext, row: CaseModel | Row[Any], want: Wanted) -> Case:
    """One GraphQL case (a mutation's result, `case(id)`)."""
    return (await build_cases(ctx, [row], want))[0]


def _citizen(person: Row[Any], *, clear: bool) -> Citizen:
    if clear:
        return Citizen(name=person.name, phone=person.phone, id_number=person.id_number, masked=False)
    return Citizen(
        name=mask_name(person.name),
        phone=mask_phone(person.phone),
        id_number=mask_id_number(person.id_number),
        masked=True,
    )


def department_nodes(rows: Iterable[DepartmentRow]) -> DepartmentNodes:
    """Nodes for a list of department rows (the `departments` root field), parents from the same rows."""
    return DepartmentNodes({d.id: d for d in rows})

