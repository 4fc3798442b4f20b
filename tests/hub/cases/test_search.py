"""Case search finds 1-, 2- and 5-character Chinese terms exactly, on both backends (bigram index on PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import CONNECTOR, draft

from hub.cases.intake import submit_case
from hub.cases.queries import SEARCH_COUNT_CAP, page_of_cases
from hub.cases.types import CaseFilter, CaseOrder

TEXTS = {
    "fumes": ("楼下餐馆油烟扰民", "每天晚上油烟直排，无法开窗。"),
    "fumes_in_body": ("投诉餐馆", "一楼烧烤店排油烟，味道很大。"),
    "parking": ("反映小区停车难", "锦绣花园小区停车难，车位严重不足。"),
    "parking_in_body": ("车位问题", "我们小区停车难的问题越来越严重。"),
    "scattered": ("小区停车问题", "停车难，小区车位少，难停。"),  # 小区 停车 难 but never 小区停车难
    "oil_only": ("加油站排队", "加油站烟头乱扔。"),  # 油 and 烟, never 油烟
    "symbols": ("收费100%不合理", "收费标准_a'b\\c 写错了。"),
}


async def _seed(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids = {}
    for key, (title, content) in TEXTS.items():
        async with db.ctx(CONNECTOR) as ctx:
            result = await submit_case(ctx, draft=draft(title=title, content=content), auto_dispatch=False)
            ids[key] = result.case.id
    return ids


def _query(session, term: str, *, first: int = 50, cap: int = SEARCH_COUNT_CAP, **more):  # type: ignore[no-untyped-def]
    """One page of a search, newest first unless ``order`` is given, for everyone unless ``scope_department_id``."""
    return page_of_cases(session, filter=CaseFilter(search=term), first=first, search_count_cap=cap,
                         **{"order": CaseOrder.RECEIVED_AT_DESC, "after": None, "scope_department_id": None, **more})


async def _search(db, term: str) -> set[int]:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        page = await _query(session, term)
    assert page.total == len(page.cases)
    return {c.id for c in page.cases}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("油烟", {"fumes", "fumes_in_body"}),
        ("小区停车难", {"parking", "parking_in_body"}),
        ("停车难", {"parking", "parking_in_body", "scattered"}),
        ("难停", {"scattered"}),
        ("烟", {"fumes", "fumes_in_body", "oil_only"}),
        ("足。", {"parking"}),  # the text's last characters
        ("油烟 晚上", {"fumes"}),
        ("100%", {"symbols"}),
        ("_a'b\\c", {"symbols"}),
        ("%", {"symbols"}),
        ("停车场", set()),
    ],
)
async def test_search_terms(district, term: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    ids = await _seed(district)
    assert await _search(district, term) == {ids[k] for k in expected}


async def test_consecutive_searches_do_not_share_cached_terms(district) -> None:  # type: ignore[no-untyped-def]
    ids = await _seed(district)
    assert await _search(district, "油烟") == {ids["fumes"], ids["fumes_in_body"]}
    assert await _search(district, "加油") == {ids["oil_only"]}
    assert await _search(district, "小区停车难") == {ids["parking"], ids["parking_in_body"]}
    assert await _search(district, "车位严重") == {ids["parking"]}


async def test_postgres_keeps_search_documents_by_trigger(district) -> None:  # type: ignore[no-untyped-def]
    if district.backend != "postgresql":
        pytest.skip("the bigram documents exist on PostgreSQL only")
    from sqlalchemy import text

    ids = await _seed(district)
    async with district.sessions() as session, session.begin():
        count = await session.scalar(text("SELECT count(*) FROM hub_search.case_doc"))
        assert count == len(TEXTS)
        await session.execute(
            text("UPDATE hub_case SET title = '新标题雨污混接' WHERE id = :i"), {"i": ids["oil_only"]}
        )
    assert await _search(district, "雨污") == {ids["oil_only"]}


async def test_a_search_counts_up_to_the_cap_and_says_so(district) -> None:  # type: ignore[no-untyped-def]
    await _seed(district)
    async with district.sessions() as session:
        over = await _query(session, "烟", first=1, cap=2)  # three cases match
        exact = await _query(session, "烟", first=1, cap=3)
        unfiltered = await page_of_cases(
            session,
            filter=CaseFilter(),
            order=CaseOrder.RECEIVED_AT_DESC,
            first=1,
            after=None,
            scope_department_id=None,
            search_count_cap=2,
        )
    assert (over.total, over.total_capped, len(over.cases), over.has_next) == (2, True, 1, True)
    assert (exact.total, exact.total_capped) == (3, False)
    assert (unfiltered.total, unfiltered.total_capped) == (len(TEXTS), False)  # the cap is for searches only


PAGED = [  # (title, content, hours after the first, lead department or None)
    ("小区停车难", "锦绣花园小区停车难。", 0, "NH-ZJ"),
    ("停车难问题", "学校门口停车难，接送孩子堵车。", 1, None),
    ("车位不足", "小区停车难，车位严重不足。", 1, "NH-ZJ"),  # same moment as the one before: ties go by id
    ("停车", "停车场收费贵，车难停。", 2, "NH-ZJ"),  # 停车 and 车难, never 停车难
    ("医院停车难", "医院周边停车难，排队一小时。", 3, "NH-CG"),
    ("路灯不亮", "小区门口路灯不亮。", 4, "NH-ZJ"),
    ("停车难又来了", "菜市场门口停车难。", 5, None),
]


async def _seed_paged(db) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from helpers import DISPATCHER

    from hub.cases.service import dispatch_case

    first = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    for title, content, hours, lead in PAGED:
        message = replace(draft(title=title, content=content), received_at=first + dt.timedelta(hours=hours))
        async with db.ctx(CONNECTOR) as ctx:
            case = (await submit_case(ctx, draft=message, auto_dispatch=False)).case
        if lead:
            async with db.ctx(DISPATCHER) as ctx:
                await dispatch_case(ctx, case_id=case.id, lead_department=lead)


def _expected(cases: list, term: str, order: CaseOrder, department_id: int | None) -> list[int]:  # type: ignore[type-arg]
    hits = [c for c in cases if term in c.title or term in c.content]
    if department_id is not None:
        hits = [c for c in hits if c.lead_department_id == department_id]
    if order is CaseOrder.RECEIVED_AT_DESC:
        return [c.id for c in sorted(hits, key=lambda c: (c.received_at, c.id), reverse=True)]
    if order is CaseOrder.RECEIVED_AT_ASC:
        return [c.id for c in sorted(hits, key=lambda c: (c.received_at, c.id))]
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    return [c.id for c in sorted(hits, key=lambda c: (c.due_at is None, c.due_at or never, c.id))]


@pytest.mark.parametrize("cap", [1, 3, 100])
async def test_paging_a_search_visits_every_match_once_in_order(district, cap: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from hub.cases.models import Case
    from hub.departments.repository import by_code

    await _seed_paged(district)
    async with district.sessions() as session:
        cases = list((await session.execute(select(Case))).scalars())
        zj = await by_code(session, code="NH-ZJ")
        assert zj is not None
        for term in ("停车难", "停车", "路灯"):
            for order in CaseOrder:
                for department_id in (None, zj.id):
                    expected = _expected(cases, term, order, department_id)
                    seen: list[int] = []
                    after = None
                    while True:
                        page = await _query(session, term, first=2, cap=cap, order=order, after=after,
                                            scope_department_id=department_id)
                        seen += [c.id for c in page.cases]
                        if len(expected) > cap:
                            assert (page.total, page.total_capped) == (cap, True)
                        else:
                            assert (page.total, page.total_capped) == (len(expected), False)
                        if not page.has_next:
                            break
                        after = page.cursors[-1]
                    assert seen == expected, (term, order, department_id)
