"""Hot topics: a rising term is picked, a steady or falling one is not; scoped like the statistics."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

import pytest
from helpers import CONNECTOR, CST, DISPATCHER, SUPERVISOR, handler
from sqlalchemy import select

from connectors.base import CaseDraft, CitizenDraft
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.errors import NotAllowed, ValidationFailed
from hub.topics.service import hot_topics, rising
from hub.topics.terms import keywords, places
from hub.topics.types import HotTopics, TopicKind
from hub.trail.models import ReadLog

_ids = itertools.count(1)
NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=CST)  # the clock fixture's start
# Window: 18 Nov 09:30 – 25 Nov 09:30; the one before: 11 Nov 09:30 – 18 Nov 09:30.
RISING = ("海八路餐馆油烟扰民", "餐馆每天排放油烟，影响居民生活。", "环境保护", "桂城", "NH-HB")
STEADY = ("南海大道路灯长期不亮", "路灯坏了很久，晚上出行不便。", "城乡建设", "大沥", "NH-ZJ")
FALLING = ("灯湖东路工地夜间噪音", "工地夜间施工噪音大。", "环境保护", None, "NH-HB")
STORY = [
    (RISING, [(11, 1)]),  # long before both windows: not counted
    (STEADY, [(11, 12), (11, 13), (11, 20), (11, 21)]),  # 2 before, 2 now
    (FALLING, [(11, 14), (11, 15), (11, 16), (11, 22)]),  # 3 before, 1 now
    (RISING, [(11, 19), (11, 20), (11, 23), (11, 24)]),  # 0 before, 4 now
]


@pytest.fixture
async def stories(district: Any, clock: Any) -> None:
    for (title, content, category, region, lead), days in STORY:
        for month, day in days:
            when = dt.datetime(2026, month, day, 10, 0, tzinfo=CST)
            clock.set(when)
            draft = CaseDraft(
                channel="WECHAT",
                external_id=f"TOPIC-{next(_ids):06d}",
                title=title,
                content=content,
                received_at=when,
                citizen=CitizenDraft(account_id="openid-1"),
                kind="COMPLAINT",
                region=region,
                category_hint=category,
            )
            async with district.ctx(CONNECTOR) as ctx:
                case = (await submit_case(ctx, draft=draft, auto_dispatch=False)).case
            async with district.ctx(DISPATCHER) as ctx:
                await workflow.dispatch_case(ctx, case_id=case.id, lead_department=lead, category=category)
    clock.set(NOW)


def _terms(report: HotTopics, kind: TopicKind) -> list[tuple[str, int, int, float]]:
    return [(i.term, i.count, i.previous_count, round(i.growth, 4)) for i in report.of(kind)]


async def _topics(db: Any, actor: Any = SUPERVISOR, **kw: Any) -> HotTopics:
    async with db.ctx(actor) as ctx:
        return await hot_topics(ctx, **kw)


async def test_rising_terms_are_picked_and_steady_ones_ignored(district, stories) -> None:  # type: ignore[no-untyped-def]
    report = await _topics(district)
    assert report.window_end == NOW and report.window_start == NOW - dt.timedelta(days=7)
    # 环境保护: 4 rising + 1 falling now, 3 falling before; 城乡建设 is steady at 2 and 2.
    assert _terms(report, TopicKind.CATEGORY) == [("环境保护", 5, 3, 0.6667)]
    # 桂城 (the rising cases' region) and 海八路 are new; 南海大道 and 大沥 are steady; 灯湖东路 falls.
    assert _terms(report, TopicKind.PLACE) == [("桂城", 4, 0, 4.0), ("海八路", 4, 0, 4.0)]
    assert sorted(_terms(report, TopicKind.KEYWORD)) == [("扰民", 4, 0, 4.0), ("油烟", 4, 0, 4.0), ("餐馆", 4, 0, 4.0)]


async def test_an_explicit_moment_and_window(district, stories) -> None:  # type: ignore[no-untyped-def]
    # Window 17 Nov – 24 Nov 09:00 (before the last rising case); before: 10 – 17 Nov.
    report = await _topics(district, now=dt.datetime(2026, 11, 24, 9, 0, tzinfo=CST), limit=1)
    assert [(i.kind, i.term, i.count, i.previous_count) for i in report.items] == [
        (TopicKind.CATEGORY, "环境保护", 4, 3),  # rising 3 + falling 1
        (TopicKind.PLACE, "桂城", 3, 0),  # limit 1 per kind
        (TopicKind.KEYWORD, "扰民", 3, 0),
    ]


async def test_scope_permissions_and_read_log(district, stories) -> None:  # type: ignore[no-untyped-def]
    zj = await _topics(district, handler("NH-ZJ"))
    assert zj.items == []  # ZJ only leads the steady cases
    hb = await _topics(district, handler("NH-HB"))
    assert _terms(hb, TopicKind.CATEGORY) == [("环境保护", 5, 3, 0.6667)]
    assert [i.term for i in hb.of(TopicKind.PLACE)] == ["桂城", "海八路"]
    with pytest.raises(NotAllowed):
        await _topics(district, CONNECTOR)
    with pytest.raises(ValidationFailed):
        await _topics(district, window_days=0)
    with pytest.raises(ValidationFailed):
        await _topics(district, limit=0)
    async with district.ctx() as ctx:
        logged = list((await ctx.session.execute(select(ReadLog.subject, ReadLog.action))).all())
    assert [tuple(r) for r in logged] == []  # handlers are not watched; refusals record nothing
    await _topics(district, SUPERVISOR)
    async with district.ctx() as ctx:
        logged = list((await ctx.session.execute(select(ReadLog.subject, ReadLog.action))).all())
    assert [tuple(r) for r in logged] == [("supervisor", "hotTopics")]


def test_ranking_prefers_a_large_unlikely_rise() -> None:
    now = Counter({"大涨": 90, "新词": 2, "微涨": 11, "持平": 5, "下降": 3})
    before = Counter({"大涨": 40, "微涨": 10, "持平": 5, "下降": 8})
    items = rising(now, before, TopicKind.KEYWORD, limit=10)
    # scores: 大涨 50/√41 ≈ 7.8, 新词 2/1 = 2, 微涨 1/√11 ≈ 0.3; 持平 and 下降 do not rise
    assert [(i.term, round(i.growth, 2)) for i in items] == [("大涨", 1.25), ("新词", 2.0), ("微涨", 0.1)]
    assert rising(now, before, TopicKind.KEYWORD, limit=10, min_count=3)[-1].term == "微涨"
    assert [i.term for i in rising(now, before, TopicKind.KEYWORD, limit=1)] == ["大涨"]


def test_places_and_keywords_from_text() -> None:
    assert places("南海大道与灯湖东路交叉口往东一段路灯已经坏了") == ["南海大道", "灯湖东路"]
    assert places("建议优化黄岐大道公交线路") == ["黄岐大道"]  # a verb is not part of the name
    assert places("桂城街道平洲夏北社区锦绣花园楼下餐馆油烟扰民") == ["桂城街道", "平洲夏北社区", "锦绣花园"]
    assert places("过马路很危险，道路拥堵") == []
    assert keywords("海八路餐馆油烟扰民", exclude=["海八路"]) == ["餐馆", "油烟", "扰民"]
    assert keywords("请问如何办理居住证") == ["办理", "居住证"]
