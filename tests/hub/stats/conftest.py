"""Eight cases driven through the real workflow at hand-picked times, for hand-counted statistics.

Working hours are 09:00–12:00 and 13:30–18:00 (7.5 h a day); 2026-10-01..07 is the National Day holiday.
Statistics are read at Wed 2026-11-25 09:30 (the `clock` fixture's start).

A  HOTLINE COMPLAINT 环境保护, received Wed 09-30 16:00, lead HB: claimed 10-08 09:30 (due 10-08 16:00: on
   time), answered 10-08 11:00, callback SATISFIED/solved.
B  WEIBO HELP 城乡建设, received Mon 11-02 10:00, lead ZJ: claimed 11-03 11:00 (due 10:00: late), extension +2
   approved (due 11-09 10:00), answered 11-06 15:00, callback DISSATISFIED/unsolved (reopened, due 11-12
   10:00), answered 11-10 10:00, callback BASICALLY_SATISFIED/solved.
C  WECHAT COMPLAINT 环境保护, received Sun 11-01 00:30 (UTC: 31 Oct), lead HB: dispatched 11-02 09:00, claimed
   14:00 (on time), supervised 11-10, never answered (due 11-19 09:00: overdue now).
D  HOTLINE CONSULTATION 城乡建设, received Mon 11-02 09:30, lead ZJ: dispatched to HB 09:40, returned by HB
   11:00, dispatched to ZJ 14:00, claimed 15:00 (on time), answered 11-09 10:00 (due 11-05 14:00: late).
E  WEBSITE SUGGESTION 交通运输, received Tue 11-03 10:00, never dispatched.
F  HOTLINE CONSULTATION 商贸旅游, received Tue 11-03 10:30: answered directly by the centre at 11:00, callback
   SATISFIED/solved.
G  WEIBO COMPLAINT 环境保护, received Mon 11-16 10:00, lead HB: never claimed (due 12-03: not overdue).
H  HOTLINE HELP 城乡建设, received Tue 11-17 09:00, lead ZJ: claimed 10:00 (on time), extension asked and
   rejected, never answered (due 11-20 09:00: overdue now).

Handling times (dispatch → latest answer, working hours):
A 09-30 16:00 → 10-08 11:00: 2 (Sep 30) + 0 (holiday) + 2 (Oct 8) = 4.0
B 11-02 10:00 → 11-10 10:00: 6.5 + 4 × 7.5 (Tue–Fri) + 7.5 (Mon) + 1 = 45.0
D 11-02 14:00 → 11-09 10:00: 4 + 4 × 7.5 + 1 = 35.0
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from helpers import CONNECTOR, CST, DISPATCHER, SUPERVISOR, handler

from connectors.base import CaseDraft, CitizenDraft
from hub.cases import followup
from hub.cases import repository as case_repo
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.enums import Satisfaction

_ids = itertools.count(1)

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=CST)


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of 2026 in the district's time."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CST)


class Story:
    """Drives the workflow at given moments; remembers case ids by letter."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db, self.clock, self.ids = db, clock, {}

    async def submit(self, name: str, when: dt.datetime, *, channel: str, kind: str, category: str) -> None:
        self.clock.set(when)
        draft = CaseDraft(
            channel=channel,
            external_id=f"STATS-{next(_ids):06d}",
            title=f"统计测试{name}",
            content=f"统计测试案件{name}，请处理。",
            received_at=when,
            citizen=CitizenDraft(name="李先生", phone="13900001234"),
            kind=kind,
            category_hint=category,
        )
        async with self.db.ctx(CONNECTOR) as ctx:
            result = await submit_case(ctx, draft=draft, auto_dispatch=False)
        assert result.case.category == category
        self.ids[name] = result.case.id

    async def do(self, when: dt.datetime, actor: Any, step: Any, name: str, **kw: Any) -> Any:
        self.clock.set(when)
        async with self.db.ctx(actor) as ctx:
            return await step(ctx, case_id=self.ids[name], **kw)

    async def dispatch(self, when: dt.datetime, name: str, lead: str, category: str) -> None:
        await self.do(when, DISPATCHER, workflow.dispatch_case, name, lead_department=lead, category=category)

    async def extension(self, when: dt.datetime, name: str, lead: str, *, approve: bool) -> None:
        await self.do(when, handler(lead), followup.request_extension, name, working_days=2, reason="需要协调")
        async with self.db.ctx(DISPATCHER) as ctx:
            pending = await case_repo.pending_extension(ctx.session, case_id=self.ids[name])
            assert pending is not None
            await followup.decide_extension(ctx, extension_id=pending.id, approve=approve, note="依规决定")

    async def callback(self, when: dt.datetime, name: str, satisfaction: Satisfaction, solved: bool) -> None:
        await self.do(when, DISPATCHER, followup.record_callback, name, satisfaction=satisfaction, solved=solved)


@pytest.fixture
async def seeded(district: Any, clock: Any) -> dict[str, int]:
    """The eight cases of the table above; the clock left at the reading moment."""
    s = Story(district, clock)
    hb, zj = handler("NH-HB"), handler("NH-ZJ")
    await s.submit("A", at(9, 30, 16), channel="HOTLINE", kind="COMPLAINT", category="环境保护")
    await s.dispatch(at(9, 30, 16), "A", "NH-HB", "环境保护")
    await s.do(at(10, 8, 9, 30), hb, workflow.claim_case, "A")
    await s.do(at(10, 8, 11), hb, workflow.answer_case, "A", content="已处理")
    await s.callback(at(10, 9, 10), "A", Satisfaction.SATISFIED, True)

    await s.submit("C", at(11, 1, 0, 30), channel="WECHAT", kind="COMPLAINT", category="环境保护")
    await s.dispatch(at(11, 2, 9), "C", "NH-HB", "环境保护")
    await s.submit("D", at(11, 2, 9, 30), channel="HOTLINE", kind="CONSULTATION", category="城乡建设")
    await s.dispatch(at(11, 2, 9, 40), "D", "NH-HB", "城乡建设")
    await s.submit("B", at(11, 2, 10), channel="WEIBO", kind="HELP", category="城乡建设")
    await s.dispatch(at(11, 2, 10), "B", "NH-ZJ", "城乡建设")
    await s.do(at(11, 2, 11), hb, workflow.return_case, "D", reason="不属于本单位职责")
    await s.dispatch(at(11, 2, 14), "D", "NH-ZJ", "城乡建设")
    await s.do(at(11, 2, 14), hb, workflow.claim_case, "C")
    await s.do(at(11, 2, 15), zj, workflow.claim_case, "D")
    await s.submit("E", at(11, 3, 10), channel="WEBSITE", kind="SUGGESTION", category="交通运输")
    await s.submit("F", at(11, 3, 10, 30), channel="HOTLINE", kind="CONSULTATION", category="商贸旅游")
    await s.do(at(11, 3, 11), zj, workflow.claim_case, "B")
    await s.do(at(11, 3, 11), DISPATCHER, workflow.answer_case, "F", content="您好，规定如下。")
    await s.extension(at(11, 4, 10), "B", "NH-ZJ", approve=True)
    await s.callback(at(11, 4, 10), "F", Satisfaction.SATISFIED, True)
    await s.do(at(11, 6, 15), zj, workflow.answer_case, "B", content="已维修")
    await s.do(at(11, 9, 10), zj, workflow.answer_case, "D", content="答复如下")
    await s.callback(at(11, 9, 10), "B", Satisfaction.DISSATISFIED, False)
    await s.do(at(11, 10, 10), zj, workflow.answer_case, "B", content="已彻底维修")
    await s.do(at(11, 10, 10), SUPERVISOR, followup.supervise_case, "C", note="请加快办理")
    await s.callback(at(11, 11, 10), "B", Satisfaction.BASICALLY_SATISFIED, True)

    await s.submit("G", at(11, 16, 10), channel="WEIBO", kind="COMPLAINT", category="环境保护")
    await s.dispatch(at(11, 16, 10), "G", "NH-HB", "环境保护")
    await s.submit("H", at(11, 17, 9), channel="HOTLINE", kind="HELP", category="城乡建设")
    await s.dispatch(at(11, 17, 9), "H", "NH-ZJ", "城乡建设")
    await s.do(at(11, 17, 10), zj, workflow.claim_case, "H")
    await s.extension(at(11, 18, 10), "H", "NH-ZJ", approve=False)
    clock.set(NOW)
    return s.ids
