"""Submitting is idempotent on (channel, external id), also when two submissions race."""

from __future__ import annotations

import asyncio

import pytest
from helpers import AUDITOR, CONNECTOR, DISPATCHER, draft
from sqlalchemy import func, select

from hub.cases.intake import submit_case
from hub.cases.models import Case
from hub.citizens.models import Citizen
from hub.enums import CaseStatus
from hub.errors import NotAllowed, ValidationFailed
from hub.trail.models import CaseEvent


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    async with db.ctx() as ctx:
        return int(await ctx.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_same_external_id_twice_returns_the_first_case(district) -> None:  # type: ignore[no-untyped-def]
    message = draft(external_id="GD20261125000001")
    async with district.ctx(CONNECTOR) as ctx:
        first = await submit_case(ctx, draft=message)
    async with district.ctx(CONNECTOR) as ctx:
        second = await submit_case(ctx, draft=message)
    assert first.created and not second.created
    assert second.case.id == first.case.id and second.case.case_no == first.case.case_no
    assert await _count(district, Case) == 1


async def test_concurrent_submissions_make_one_case(district) -> None:  # type: ignore[no-untyped-def]
    message = draft(external_id="WX-RACE-1", channel="WECHAT", account_id="oRaceOpenid")

    async def submit() -> tuple[int, bool]:
        async with district.ctx(CONNECTOR) as ctx:
            result = await submit_case(ctx, draft=message)
            return result.case.id, result.created

    results = await asyncio.gather(*(submit() for _ in range(6)))
    assert len({case_id for case_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert await _count(district, Case) == 1
    assert await _count(district, Citizen) == 1


async def test_keyword_rule_dispatches_automatically(district) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        result = await submit_case(ctx, draft=draft())  # 油烟直排 → the environment bureau, by keyword
    assert result.case.status is CaseStatus.DISPATCHED and result.route and result.route.certain
    assert result.case.due_at is not None and result.case.sign_deadline is not None


async def test_uncertain_case_waits_for_the_centre(district) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        result = await submit_case(
            ctx, draft=draft(title="反映一个情况", content="最近遇到一些问题，希望有人联系我。", kind="OTHER")
        )
    assert result.case.status is CaseStatus.RECEIVED


async def test_one_citizen_across_channels(district) -> None:  # type: ignore[no-untyped-def]
    async with district.ctx(CONNECTOR) as ctx:
        a = await submit_case(ctx, draft=draft(channel="HOTLINE", phone="13912345678"))
        b = await submit_case(ctx, draft=draft(channel="WECHAT", phone="13912345678", account_id="oAbc123"))
        c = await submit_case(ctx, draft=draft(channel="WECHAT", phone=None, account_id="oAbc123"))
    assert a.case.citizen_id == b.case.citizen_id == c.case.citizen_id is not None


@pytest.mark.parametrize(
    "bad",
    [
        {"channel": "FAX"},
        {"external_id": " "},
        {"title": "", "content": ""},
        {"kind": "WHATEVER"},
    ],
)
async def test_bad_drafts_are_refused_and_store_nothing(district, bad: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        async with district.ctx(CONNECTOR) as ctx:
            await submit_case(ctx, draft=draft(**bad))
    assert await _count(district, Case) == 0 and await _count(district, CaseEvent) == 0


async def test_only_connectors_and_the_centre_submit(district) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed):
        async with district.ctx(AUDITOR) as ctx:
            await submit_case(ctx, draft=draft())
    async with district.ctx(DISPATCHER) as ctx:
        assert (await submit_case(ctx, draft=draft())).created
