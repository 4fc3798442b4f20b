"""The demo district's last weeks, replayed in time order under a frozen clock: citizens write on the four
channels (each message in its channel's wire format, parsed by its connector), the centre and the departments
work the cases step by step, and each answer goes back through the outbox to the channel it came from."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import Principal, Role
from hub.cases import followup
from hub.cases import service as workflow
from hub.cases.outbox import take_new_replies
from hub.clock import FrozenClock, set_clock, utcnow
from hub.context import ServiceContext
from hub.db import transaction
from hub.demo.district import lead_for, seed_district
from hub.demo.history import EXPORT_AGE, HistoricalOutbox, parse_posted, store
from hub.demo.texts import DemoMessage, answer_text
from hub.departments import repository as departments
from hub.enums import CaseStatus, Satisfaction
from hub.settings import Settings
from hub.simulate.channels import FakeSet, Posted, post
from hub.simulate.department import DISPATCHER, handler_of
from hub.simulate.traffic import Traffic

CHANNEL_WEIGHTS = {"hotline": 45, "website": 20, "weibo": 15, "wechat": 20}
SUPERVISOR = Principal("supervisor", frozenset({Role.SUPERVISOR}))
ORDER = (CaseStatus.RECEIVED, CaseStatus.DISPATCHED, CaseStatus.CLAIMED, CaseStatus.ANSWERED, CaseStatus.CLOSED)
OPEN = (CaseStatus.RECEIVED, CaseStatus.DISPATCHED, CaseStatus.CLAIMED)


@dataclass
class DemoSummary:
    """What the demo made."""

    cases: int = 0
    merged: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[str] = field(default_factory=Counter)
    last_posted: dict[str, Posted] = field(default_factory=dict)


@dataclass
class _Case:
    case_id: int
    channel: str
    status: CaseStatus
    target: CaseStatus
    message: DemoMessage
    lead: str | None


def _target(rng: random.Random) -> CaseStatus:
    """How far a case gets given time: most close, a few stall (the overdue ones a centre chases)."""
    roll = rng.random()
    if roll < 0.03:
        return CaseStatus.DISPATCHED
    if roll < 0.09:
        return CaseStatus.CLAIMED
    return CaseStatus.ANSWERED if roll < 0.16 else CaseStatus.CLOSED


def _delay(rng: random.Random, case: _Case) -> dt.timedelta:
    """Plausible working time until the case's next step (WeChat's are hurried: its reply window is 48 hours)."""
    quick = case.message.topic.kind in ("CONSULTATION", "HELP") or case.message.issue.urgent \
        or case.channel == "wechat"
    low, high = {
        CaseStatus.RECEIVED: (0.2, 3.0),
        CaseStatus.DISPATCHED: (0.5, 10.0),
        CaseStatus.CLAIMED: (3.0, 36.0) if quick else (10.0, 150.0),
        CaseStatus.ANSWERED: (12.0, 72.0),
    }[case.status]
    return dt.timedelta(hours=rng.uniform(low, high))


class _History:
    """Events in time order: messages arriving, workflow steps, reply deliveries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, fakes: FakeSet,
                 traffic: Traffic, rng: random.Random, clock: FrozenClock, end: dt.datetime,
                 outbox: HistoricalOutbox) -> None:
        self.sessions, self.settings, self.fakes = sessions, settings, fakes
        self.traffic, self.rng, self.clock, self.end, self.outbox = traffic, rng, clock, end, outbox
        self.summary = DemoSummary()
        self._queue: list[tuple[dt.datetime, int, str, object]] = []
        self._order = itertools.count()
        self._first_case: dict[int, _Case] = {}  # issue → the case its first report became

    def at(self, moment: dt.datetime, kind: str, item: object) -> None:
        """Schedule an event (dropped if it would happen after now)."""
        if moment < self.end:
            heapq.heappush(self._queue, (moment, next(self._order), kind, item))

    async def run(self, progress: Callable[[int, int], None] | None, total: int) -> DemoSummary:
        """Play every event in time order."""
        while self._queue:
            moment, _order, kind, item = heapq.heappop(self._queue)
            self.clock.set(moment)
            if kind == "message":
                await self._receive(moment)
                if progress:
                    progress(self.summary.cases, total)
            elif kind == "step":
                assert isinstance(item, _Case)
                await self._step(item)
            else:
                assert isinstance(item, list)
                for reply_id in item:
                    self.summary.deliveries[(await self.outbox.deliver(reply_id)).status] += 1
        return self.summary

    def _ctx(self, session: AsyncSession, actor: Principal) -> ServiceContext:
        return ServiceContext(session, actor, self.settings)

    async def _receive(self, moment: dt.datetime) -> None:
        out = self.traffic.next(moment)
        posted = post(self.fakes, out.channel, out.message, out.citizen, self.rng, at=moment)
        draft, key = parse_posted(posted, self.fakes, pushed=self.rng.random() < 0.3,
                                  exported=self.end - moment > EXPORT_AGE)
        stored = await store(self.sessions, self.settings, posted, draft, key)
        self.summary.cases += 1
        self.summary.by_channel[out.channel.upper()] += 1
        self.summary.last_posted[out.channel] = posted
        case = _Case(stored.id, out.channel, stored.status, _target(self.rng), out.message, None)
        issue = id(out.message.issue)
        primary = self._first_case.get(issue)
        if out.why == "repeat" and primary is not None and primary.status in OPEN and self.rng.random() < 0.7:
            async with transaction(self.sessions) as session:
                await workflow.merge_cases(self._ctx(session, DISPATCHER), primary_id=primary.case_id,
                                           duplicate_ids=[case.case_id], note="同一事项多渠道反映，并案处理")
            self.summary.merged += 1
            return
        if out.why == "new":
            self._first_case[issue] = case
        if stored.status is CaseStatus.DISPATCHED:
            case.lead = await self._lead_code(stored.lead_department_id)
        self.at(moment + _delay(self.rng, case), "step", case)

    async def _lead_code(self, department_id: int | None) -> str | None:
        async with self.sessions() as session:
            found = await departments.by_ids(session, ids=[department_id or 0])
        return found[department_id].code if department_id in found else None

    async def _step(self, case: _Case) -> None:
        rng, message = self.rng, case.message
        replies: list[int] = []
        async with transaction(self.sessions) as session:
            if case.status is CaseStatus.RECEIVED:
                if message.topic.kind == "CONSULTATION" and rng.random() < 0.4:
                    await workflow.answer_case(self._ctx(session, DISPATCHER), case_id=case.case_id,
                                               content=answer_text(rng, message))
                    case.status = CaseStatus.ANSWERED
                else:
                    case.lead = lead_for(message.topic.category, message.region)
                    await workflow.dispatch_case(self._ctx(session, DISPATCHER), case_id=case.case_id,
                                                 lead_department=case.lead)
                    case.status = CaseStatus.DISPATCHED
            elif case.status is CaseStatus.DISPATCHED:
                await workflow.claim_case(self._ctx(session, handler_of(case.lead or "NH-GC")), case_id=case.case_id)
                case.status = CaseStatus.CLAIMED
            elif case.status is CaseStatus.CLAIMED:
                await self._answer(session, case)
            elif case.status is CaseStatus.ANSWERED:
                satisfaction = rng.choices((Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED), (75, 25))[0]
                await followup.record_callback(self._ctx(session, DISPATCHER), case_id=case.case_id,
                                               satisfaction=satisfaction, solved=rng.random() < 0.9)
                case.status = CaseStatus.CLOSED
            replies = take_new_replies(session)
        if replies:  # the outbox picks an answer up seconds after its commit
            self.at(self.clock.current + dt.timedelta(seconds=rng.uniform(2, 20)), "deliver", replies)
        if ORDER.index(case.status) < ORDER.index(case.target):
            self.at(self.clock.current + _delay(rng, case), "step", case)

    async def _answer(self, session: AsyncSession, case: _Case) -> None:
        staff = handler_of(case.lead or "NH-GC")
        if self.rng.random() < 0.08:
            request = await followup.request_extension(self._ctx(session, staff), case_id=case.case_id,
                                                       working_days=5, reason="需协调多个部门现场核查")
            await followup.decide_extension(self._ctx(session, DISPATCHER), extension_id=request.id, approve=True,
                                            note="同意延期")
        if self.rng.random() < 0.05:
            await followup.supervise_case(self._ctx(session, SUPERVISOR), case_id=case.case_id,
                                          note="群众反映强烈，请加快办理")
        await workflow.answer_case(self._ctx(session, staff), case_id=case.case_id,
                                   content=answer_text(self.rng, case.message))
        case.status = CaseStatus.ANSWERED


async def seed_demo(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    fakes: FakeSet,
    *,
    traffic: Traffic,
    rng: random.Random,
    cases: int = 240,
    days: int = 60,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """The district plus ``cases`` messages received over the last ``days`` days, each worked as far as time allows."""
    # settings are wired to the running fakes, which follow the hub's clock (FakeSet(clock=utcnow)) back in time
    end = utcnow()
    async with transaction(sessions) as session:
        await seed_district(ServiceContext(session, DISPATCHER, settings))
    moments = sorted(end - dt.timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(cases))
    clock = FrozenClock(moments[0] - dt.timedelta(days=1) if moments else end)
    set_clock(clock)
    quiet = logging.getLogger("hub.outbox")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # answers past WeChat's window are counted in the summary, not logged one by one
    try:
        fakes.weibo.post_status("【南海发布】有诉求请@我们或在本条评论区留言，12345热线将及时转办答复。")
        async with HistoricalOutbox(sessions, settings) as outbox:
            history = _History(sessions, settings, fakes, traffic, rng, clock, end, outbox)
            for moment in moments:
                history.at(moment, "message", None)
            return await history.run(progress, cases)
    finally:
        set_clock(None)
        quiet.setLevel(level)
