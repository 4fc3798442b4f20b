"""PushBatcher: concurrent pushes share a transaction, each gets its own case; failures fail the whole batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channel_kit import cases, count
from helpers import draft
from sqlalchemy import text

import hub.ingest.batcher as batcher_module
from hub.cases.models import Case
from hub.errors import ValidationFailed
from hub.events import LocalBus
from hub.ingest.batcher import BatcherClosed, BatchFailed, PushBatcher
from hub.ingest.records import InboundReceipt, PendingIntake


def _message(msg_id: str, **kwargs: Any) -> Any:
    return draft(channel="WECHAT", external_id=msg_id, phone=None, account_id=f"o{msg_id}", **kwargs)


async def test_concurrent_pushes_are_stored_in_few_batches_each_with_its_case(db: Any) -> None:
    bus = LocalBus()
    pushes = PushBatcher(db.sessions, db.settings, bus=bus)
    listener = bus.subscribe()
    first_notice = asyncio.ensure_future(anext(listener))
    try:
        results = await asyncio.gather(*(pushes.submit("wechat", _message(f"30{i:02d}"), f"30{i:02d}")
                                         for i in range(50)))
    finally:
        await pushes.aclose()
    assert len({r.number for r in results if r.number}) == 50 and all(r.created for r in results)
    assert pushes.batches < 50 and pushes.stored == 50  # grouped: the first batch alone, then the rest
    # closing drained the pending intake: each message is a case with the number its submitter was told
    stored = {case.external_id: case.case_no for case in await cases(db)}
    assert stored == {f"30{i:02d}": r.number for i, r in enumerate(results)}
    assert await count(db, Case) == 50 and await count(db, InboundReceipt) == 50
    assert await count(db, PendingIntake) == 0
    notice = await asyncio.wait_for(first_notice, 5)  # live subscribers hear of the new cases after the commit
    assert notice.case_no in {r.number for r in results}
    await listener.aclose()


async def test_the_same_message_three_times_at_once_is_one_case(db: Any) -> None:
    pushes = PushBatcher(db.sessions, db.settings)
    try:
        results = await asyncio.gather(*(pushes.submit("wechat", _message("4001"), "4001") for _ in range(3)))
        later = await pushes.submit("wechat", _message("4001"), "4001")
    finally:
        await pushes.aclose()
    assert len({r.number for r in results}) == 1 and later.number == results[0].number is not None
    assert [r.created for r in results] == [True, False, False] and not later.created
    assert await count(db, Case) == 1


async def test_one_invalid_draft_is_refused_alone(db: Any) -> None:
    pushes = PushBatcher(db.sessions, db.settings, linger_seconds=0.05)  # the four land in one batch
    try:
        outcomes = await asyncio.gather(
            pushes.submit("wechat", _message("5001"), "5001"),
            pushes.submit("wechat", _message("5002", title="", content=""), "5002"),
            pushes.submit("wechat", _message("5003"), "5003"),
            pushes.submit("wechat", _message("5004", content="长" * 20001), "5004"),
            return_exceptions=True,
        )
    finally:
        await pushes.aclose()
    assert pushes.batches == 1
    assert [type(o).__name__ for o in outcomes] == ["PushResult", "ValidationFailed", "PushResult",
                                                    "ValidationFailed"]
    assert isinstance(outcomes[3], ValidationFailed) and "longer than" in outcomes[3].message
    assert await count(db, Case) == 2


async def test_a_database_failure_fails_the_whole_batch_and_a_redelivery_stores_once(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = batcher_module.accept_pushes
    failures = iter([True])

    async def failing_after_the_writes(ctx: Any, **kwargs: Any) -> Any:
        outcomes = await real(ctx, **kwargs)  # the cases are written (flushed) in the transaction …
        if next(failures, False):
            await ctx.session.execute(text("SELECT * FROM no_such_table"))  # … and then the database refuses
        return outcomes

    monkeypatch.setattr(batcher_module, "accept_pushes", failing_after_the_writes)
    pushes = PushBatcher(db.sessions, db.settings, linger_seconds=0.05)
    try:
        failed = await asyncio.gather(*(pushes.submit("wechat", _message(f"60{i:02d}"), f"60{i:02d}")
                                        for i in range(5)), return_exceptions=True)
        assert all(isinstance(f, BatchFailed) for f in failed) and pushes.batches == 0
        assert await count(db, InboundReceipt) == 0 and await count(db, PendingIntake) == 0
        again = await asyncio.gather(*(pushes.submit("wechat", _message(f"60{i:02d}"), f"60{i:02d}")
                                       for i in range(5)))  # WeChat's retries
        twice = await pushes.submit("wechat", _message("6000"), "6000")
    finally:
        await pushes.aclose()
    assert all(r.created for r in again) and not twice.created
    assert await count(db, Case) == 5 and await count(db, InboundReceipt) == 5


async def test_closing_drains_what_is_waiting_then_refuses_more(db: Any) -> None:
    pushes = PushBatcher(db.sessions, db.settings, max_batch=7)
    waiting = [asyncio.ensure_future(pushes.submit("wechat", _message(f"70{i:02d}"), f"70{i:02d}"))
               for i in range(20)]
    await asyncio.sleep(0)  # queued, none stored yet
    await pushes.aclose()
    assert all(w.done() for w in waiting)
    results = [w.result() for w in waiting]
    assert len({r.number for r in results if r.number}) == 20 and pushes.batches >= 3
    assert await count(db, Case) == 20
    with pytest.raises(BatcherClosed):
        await pushes.submit("wechat", _message("7099"), "7099")
