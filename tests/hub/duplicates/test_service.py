"""Duplicate suggestions and merged recipients on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import AUDITOR, CONNECTOR, CST, DISPATCHER, SUPERVISOR, handler
from sqlalchemy import select

from auth.principal import SYSTEM
from connectors.base import CaseDraft, CitizenDraft
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.duplicates.service import recipients_of, suggest_duplicates
from hub.duplicates.types import DuplicateSuggestion, Recipient
from hub.enums import Channel
from hub.errors import NotAllowed, NotFound, ValidationFailed
from hub.trail.models import ReadLog

BASE = dt.datetime(2026, 11, 20, 9, 0, tzinfo=CST)

# One matter on three channels, in each channel's own voice (our own texts).
HOTLINE = {
    "title": "金沙湾小区2座电梯频繁困人",
    "content": "来电人反映：桂城金沙湾小区2座电梯本月已三次困人，物业维修后仍反复故障，请相关部门督促彻底检修。",
}
WEIBO = {"title": "", "content": "@南海发布 金沙湾2座的电梯又把人关在里面了，这个月第三次！物业到底修不修[怒]"}
WECHAT = {"title": "", "content": "金沙湾小区2座电梯又坏了，我妈被困了半个钟，物业电话打不通"}
# Near-misses: the same estate with another problem, the same problem at another estate.
SAME_ESTATE = {
    "title": "金沙湾小区物业擅自提高停车费",
    "content": "金沙湾小区物业公司未经业主大会表决，将月租车位费从每月250元调到400元，请问是否合规？",
}
OTHER_ESTATE = {
    "title": "碧桂花城电梯频繁困人",
    "content": "来电人反映：桂城碧桂花城小区5座电梯本月多次困人，物业维修不及时，请相关部门督促检修。",
}


def _draft(
    message: dict[str, str],
    *,
    channel: str,
    ext: str,
    days: float = 0.0,
    phone: str | None = None,
    account: str | None = None,
) -> CaseDraft:
    reply_to = {
        "HOTLINE": {"orderNum": ext},
        "WEBSITE": {"messageId": ext},
        "WEIBO": {"id": ext, "uid": account or ""},
        "WECHAT": {"openid": account or ""},
    }[channel]
    return CaseDraft(
        channel=channel,
        external_id=ext,
        title=message["title"],
        content=message["content"],
        received_at=BASE + dt.timedelta(days=days),
        citizen=CitizenDraft(name="市民", phone=phone, account_id=account),
        kind="COMPLAINT",
        reply_to=reply_to,
    )


async def _submit(db, message: dict[str, str], **kw) -> int:  # type: ignore[no-untyped-def]
    async with db.ctx(CONNECTOR) as ctx:
        result = await submit_case(ctx, draft=_draft(message, **kw), auto_dispatch=False)
    return result.case.id


async def _three_channels(db) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    first = await _submit(db, HOTLINE, channel="HOTLINE", ext="GD-1", phone="13700001111")
    second = await _submit(db, WEIBO, channel="WEIBO", ext="5012345678", account="u20001", days=0.4)
    third = await _submit(db, WECHAT, channel="WECHAT", ext="wx-msg-1", account="oWx0003", days=1.2)
    return first, second, third


async def _suggest(db, case_id: int, actor=DISPATCHER, **kw) -> list[DuplicateSuggestion]:  # type: ignore[no-untyped-def]
    async with db.ctx(actor) as ctx:
        return await suggest_duplicates(ctx, case_id=case_id, **kw)


async def test_three_channels_of_one_matter_find_each_other(district, clock) -> None:  # type: ignore[no-untyped-def]
    first, second, third = await _three_channels(district)
    assert await _suggest(district, first) != []
    later = await _suggest(district, second)
    assert {s.candidate_id for s in later} == {first, third}
    last = await _suggest(district, third)
    assert {s.candidate_id for s in last} == {first, second}
    for suggestion in [*later, *last]:
        assert suggestion.score >= 0.7, suggestion
        assert 0.0 <= suggestion.score <= 1.0
        assert any(r.startswith("同一地点") for r in suggestion.reasons)
        assert any("电梯" in r for r in suggestion.reasons)
    assert all(s.case_id == third for s in last)
    assert [s.score for s in last] == sorted((s.score for s in last), reverse=True)


async def test_near_misses_are_not_suggested(district, clock) -> None:  # type: ignore[no-untyped-def]
    first, _second, third = await _three_channels(district)
    same_estate = await _submit(district, SAME_ESTATE, channel="WEBSITE", ext="LY-77", days=1.0, phone="13911112222")
    other_estate = await _submit(district, OTHER_ESTATE, channel="HOTLINE", ext="GD-2", days=1.0, phone="13622223333")
    found = {s.candidate_id for s in await _suggest(district, third)}
    assert same_estate not in found and other_estate not in found
    assert await _suggest(district, same_estate) == []
    assert await _suggest(district, other_estate) == []
    assert first in found


async def test_the_same_citizen_again_without_the_place(district, clock) -> None:  # type: ignore[no-untyped-def]
    first = await _submit(district, HOTLINE, channel="HOTLINE", ext="GD-1", phone="13700001111")
    again = await _submit(
        district,
        {"title": "", "content": "我上次反映的电梯困人问题还是没解决，今天又困人了"},
        channel="HOTLINE",
        ext="GD-9",
        days=3.0,
        phone="13700001111",
    )
    suggestions = await _suggest(district, again)
    assert [s.candidate_id for s in suggestions] == [first]
    assert "同一市民" in suggestions[0].reasons


async def test_outside_the_window_or_finished_is_not_suggested(district, clock) -> None:  # type: ignore[no-untyped-def]
    old = await _submit(district, HOTLINE, channel="HOTLINE", ext="GD-OLD", days=-40.0, phone="13500000001")
    closed = await _submit(district, WECHAT, channel="WECHAT", ext="wx-closed", account="oWxClosed", days=-2.0)
    merged = await _submit(district, WEIBO, channel="WEIBO", ext="50999", account="u9", days=-1.0)
    primary = await _submit(district, SAME_ESTATE, channel="WEBSITE", ext="LY-1", days=-1.0)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.answer_case(ctx, case_id=closed, content="已督促物业维修电梯，并安排特种设备检验。")
        await workflow.close_case(ctx, case_id=closed)
        await workflow.merge_cases(ctx, primary_id=primary, duplicate_ids=[merged])
    new = await _submit(district, HOTLINE, channel="HOTLINE", ext="GD-NEW", phone="13500000002")
    assert await _suggest(district, new) == []
    wide = await _suggest(district, new, window_days=60)
    assert [s.candidate_id for s in wide] == [old]
    assert await _suggest(district, merged) == []  # a merged case has nothing left to merge into it


async def test_limit_and_threshold(district, clock) -> None:  # type: ignore[no-untyped-def]
    first, second, third = await _three_channels(district)
    top = await _suggest(district, third, limit=1)
    assert len(top) == 1 and top[0].candidate_id in {first, second}
    everything = await _suggest(district, third, threshold=0.0)
    assert {s.candidate_id for s in everything} >= {first, second}
    with pytest.raises(ValidationFailed):
        await _suggest(district, third, limit=0)


async def test_who_may_see_suggestions(district, clock) -> None:  # type: ignore[no-untyped-def]
    first, second, _third = await _three_channels(district)
    for actor in (handler("NH-ZJ"), CONNECTOR):
        with pytest.raises(NotAllowed):
            await _suggest(district, second, actor=actor)
    assert {s.candidate_id for s in await _suggest(district, second, actor=SUPERVISOR)} >= {first}
    assert await _suggest(district, second, actor=AUDITOR) != []
    async with district.ctx() as ctx:
        reads = list(await ctx.session.scalars(select(ReadLog).where(ReadLog.action == "duplicates")))
    assert {r.subject for r in reads} == {SUPERVISOR.subject, AUDITOR.subject}
    with pytest.raises(NotFound):
        await _suggest(district, 999_999)


async def test_every_merged_citizen_is_answered_on_their_channel(district, clock) -> None:  # type: ignore[no-untyped-def]
    first, second, third = await _three_channels(district)
    # The WeChat citizen wrote a second time from the same account: one answer is enough.
    repeat = await _submit(district, WECHAT, channel="WECHAT", ext="wx-msg-2", account="oWx0003", days=1.5)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.merge_cases(ctx, primary_id=first, duplicate_ids=[second, third])
    async with district.ctx(DISPATCHER) as ctx:
        recipients = await recipients_of(ctx, primary_id=first)
    assert recipients == [
        Recipient(second, Channel.WEIBO, {"id": "5012345678", "uid": "u20001"}),
        Recipient(third, Channel.WECHAT, {"openid": "oWx0003"}),
    ]
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.merge_cases(ctx, primary_id=first, duplicate_ids=[repeat])
    async with district.ctx(SYSTEM) as ctx:
        again = await recipients_of(ctx, primary_id=first)
    assert [r.case_id for r in again] == [second, third]
    for actor in (handler("NH-ZJ"), SUPERVISOR, AUDITOR):
        with pytest.raises(NotAllowed):
            async with district.ctx(actor) as ctx:
                await recipients_of(ctx, primary_id=first)
    async with district.ctx(DISPATCHER) as ctx:
        assert await recipients_of(ctx, primary_id=second) == []
        with pytest.raises(NotFound):
            await recipients_of(ctx, primary_id=999_999)


async def test_merges_of_merges_reach_every_citizen(district, clock) -> None:  # type: ignore[no-untyped-def]
    first, second, third = await _three_channels(district)
    async with district.ctx(DISPATCHER) as ctx:
        await workflow.merge_cases(ctx, primary_id=second, duplicate_ids=[third])
        await workflow.merge_cases(ctx, primary_id=first, duplicate_ids=[second])
        recipients = await recipients_of(ctx, primary_id=first)
    assert [(r.case_id, r.channel) for r in recipients] == [(second, Channel.WEIBO), (third, Channel.WECHAT)]
