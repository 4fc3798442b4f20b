"""Pending intake: a pushed message is stored and numbered before the reply, its case created once, afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from channel_kit import cases, count, wire
from helpers import draft
from sqlalchemy import select, text

import hub.ingest.pending as pending_module
from auth.principal import SYSTEM
from connectors.fakes import FakeWeChat
from hub.app import create_app
from hub.cases.models import Case
from hub.context import ServiceContext
from hub.enums import CaseAction
from hub.errors import ValidationFailed
from hub.events import LocalBus
from hub.ingest.pending import accept_pushes, create_pending_cases, draft_from_json, drain_pending, drain_stale
from hub.ingest.push import PushItem
from hub.ingest.records import InboundReceipt, PendingIntake
from hub.ingest.service import PushResult
from hub.jobs.models import DeadLetter
from hub.trail.models import CaseEvent


def _wechat(msg_id: str, **kwargs: Any) -> PushItem:
    return PushItem(draft(channel="WECHAT", external_id=msg_id, phone=None, account_id=f"o{msg_id}", **kwargs),
                    dedupe_key=msg_id)


async def _accept(db: Any, *items: PushItem) -> list[PushResult | ValidationFailed]:
    async with db.ctx() as ctx:
        return await accept_pushes(ctx, channel="wechat", items=list(items))


async def test_a_message_is_numbered_at_once_and_becomes_exactly_that_case_later(db: Any) -> None:
    first, retry, refused, event = await _accept(
        db, _wechat("1001"), _wechat("1001"), _wechat("1002", title="", content=""),
        PushItem(None, dedupe_key="event:subscribe-1"),
    )
    assert isinstance(first, PushResult) and isinstance(retry, PushResult) and isinstance(event, PushResult)
    assert isinstance(refused, ValidationFailed) and "title or content" in refused.message
    assert first.created and first.number is not None and first.case is None
    assert not retry.created and retry.number == first.number and event.number is None
    assert await count(db, Case) == 0 and await count(db, PendingIntake) == 1
    (later,) = await _accept(db, _wechat("1001"))  # WeChat retries before the case exists
    assert isinstance(later, PushResult) and not later.created and later.number == first.number

    assert await create_pending_cases(db.sessions, db.settings) == 1
    (case,) = await cases(db)
    assert case.case_no == first.number and case.external_id == "1001" and case.reply_to == {}
    assert await count(db, PendingIntake) == 0
    assert await count(db, CaseEvent, CaseEvent.case_id == case.id, CaseEvent.action == CaseAction.SUBMITTED) == 1
    (after,) = await _accept(db, _wechat("1001"))  # and after it exists
    assert isinstance(after, PushResult) and after.number == case.case_no and not after.created
    assert await create_pending_cases(db.sessions, db.settings) == 0 and await count(db, Case) == 1
    assert await count(db, InboundReceipt) == 2  # the message and the event, once each


async def test_numbers_follow_the_days_counter_without_gaps_or_repeats(db: Any) -> None:
    outcomes = await _accept(db, *(_wechat(f"20{i:02d}") for i in range(5)))
    more = await _accept(db, *(_wechat(f"21{i:02d}") for i in range(3)))
    numbers = [o.number for o in outcomes + more if isinstance(o, PushResult)]
    assert len(set(numbers)) == 8 and all(n is not None for n in numbers)
    assert [int(str(n)[-6:]) for n in numbers] == list(range(int(str(numbers[0])[-6:]),
                                                            int(str(numbers[0])[-6:]) + 8))
    result = await drain_pending(db.sessions, db.settings, limit=3)
    assert result.taken == 8 and result.batches == 3
    assert sorted(c.case_no for c in await cases(db)) == sorted(str(n) for n in numbers)


async def test_a_failed_drain_stores_nothing_half_and_each_message_becomes_its_case_once(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = await _accept(db, *(_wechat(f"30{i:02d}") for i in range(4)))
    real, failures = pending_module.submit_drafts, iter([True])

    async def failing_after_the_writes(ctx: Any, **kwargs: Any) -> Any:
        result = await real(ctx, **kwargs)  # the cases are written in the drain's transaction …
        if next(failures, False):
            await ctx.session.execute(text("SELECT * FROM no_such_table"))  # … then the database refuses
        return result

    monkeypatch.setattr(pending_module, "submit_drafts", failing_after_the_writes)
    assert await create_pending_cases(db.sessions, db.settings) == 4  # the batch rolled back; one at a time
    assert sorted(c.case_no for c in await cases(db)) == sorted(o.number or "" for o in outcomes
                                                                if isinstance(o, PushResult))
    assert await count(db, PendingIntake) == 0 and await count(db, CaseEvent) >= 4


async def test_a_message_that_cannot_become_a_case_blocks_only_itself(db: Any) -> None:
    await _accept(db, *(_wechat(f"31{i:02d}") for i in range(3)))
    async with db.sessions() as session, session.begin():  # e.g. a value the database refuses
        await session.execute(text("UPDATE pending_intake SET draft = '{broken' WHERE external_id = '3101'"))
    assert (await drain_pending(db.sessions, db.settings)).taken == 2
    assert sorted(c.external_id for c in await cases(db)) == ["3100", "3102"]
    for _attempt in range(pending_module.MAX_ATTEMPTS - 1):
        await drain_pending(db.sessions, db.settings)
    async with db.sessions() as session:
        (row,) = (await session.execute(select(PendingIntake))).scalars()
        letters = (await session.execute(select(DeadLetter).where(DeadLetter.job == "intake"))).scalars().all()
    assert row.attempts == pending_module.MAX_ATTEMPTS and [d.ref for d in letters] == [row.case_no]
    assert "broken" not in letters[0].error  # the class only, never the citizen's text
    assert (await drain_stale(db.sessions, db.settings, older_than=dt.timedelta(0))).taken == 0  # given up
    assert await count(db, Case) == 2 and await count(db, PendingIntake) == 1  # kept for an operator


async def test_what_a_stopped_process_left_pending_is_created_when_the_app_starts(db: Any) -> None:
    with FakeWeChat() as wechat:
        (accepted,) = await _accept(db, _wechat("4001"))
        app = create_app(wire(db.settings, wechat), bus=LocalBus())
        async with app.router.lifespan_context(app):
            await app.state.runtime.pushes.drainer.settled()
        assert isinstance(accepted, PushResult)
        assert [c.case_no for c in await cases(db)] == [accepted.number]


async def test_the_scheduler_drain_takes_only_messages_left_waiting(db: Any) -> None:
    await _accept(db, _wechat("5001"))
    assert (await drain_stale(db.sessions, db.settings, older_than=dt.timedelta(minutes=5))).taken == 0
    assert await count(db, PendingIntake) == 1
    assert (await drain_stale(db.sessions, db.settings, older_than=dt.timedelta(0))).taken == 1
    assert await count(db, Case) == 1 and await count(db, PendingIntake) == 0


async def test_the_stored_draft_is_the_parsed_message(db: Any) -> None:
    item = _wechat("6001", region="桂澜街道")
    await _accept(db, item)
    async with db.sessions() as session:
        (row,) = (await session.execute(text("SELECT draft FROM pending_intake"))).all()
    assert draft_from_json(row[0]) == item.draft


async def test_two_processes_storing_one_message_at_once_answer_the_same_number(db: Any) -> None:
    if db.backend != "postgresql":
        pytest.skip("needs two concurrent writers (SQLite has one)")
    async with db.sessions() as first, db.sessions() as second:
        await first.begin()
        (mine,) = await accept_pushes(ServiceContext(first, SYSTEM, db.settings), channel="wechat",
                                      items=[_wechat("7001")])
        theirs = asyncio.ensure_future(accept_pushes(ServiceContext(second, SYSTEM, db.settings), channel="wechat",
                                                     items=[_wechat("7001")]))
        await asyncio.sleep(0.3)  # the second waits on the first's pending row
        await first.commit()
        (other,) = await theirs
        await second.commit()
    assert isinstance(mine, PushResult) and isinstance(other, PushResult)
    assert mine.created and not other.created and other.number == mine.number
    assert await count(db, PendingIntake) == 1
    await drain_pending(db.sessions, db.settings)
    assert [c.case_no for c in await cases(db)] == [mine.number]
