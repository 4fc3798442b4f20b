"""receive_pushes: a batch of pushed messages in one unit of work, each stored once, each with its own outcome."""

from __future__ import annotations

from typing import Any

from channel_kit import count
from helpers import draft

from hub.cases.models import Case
from hub.errors import ValidationFailed
from hub.ingest.models import ConnectorState
from hub.ingest.push import PushItem, receive_pushes
from hub.ingest.records import InboundReceipt
from hub.ingest.service import PushResult, receive_push


def _wechat(msg_id: str, **kwargs: Any) -> PushItem:
    return PushItem(draft(channel="WECHAT", external_id=msg_id, phone=None, account_id=f"o{msg_id}", **kwargs),
                    dedupe_key=msg_id)


async def test_a_batch_stores_each_message_once_and_refuses_only_the_bad_one(db: Any) -> None:
    items = [
        _wechat("1001"),
        _wechat("1002"),
        _wechat("1001"),  # WeChat's retry, in the same batch as the first delivery
        _wechat("1003", title="", content=""),  # the hub refuses it
        PushItem(None, dedupe_key="event:subscribe-1"),
        _wechat("1004"),
    ]
    async with db.ctx() as ctx:
        outcomes = await receive_pushes(ctx, channel="wechat", items=items)
    first, second, retry, refused, event, fourth = outcomes
    assert isinstance(refused, ValidationFailed) and "title or content" in refused.message
    for outcome in (first, second, retry, event, fourth):
        assert isinstance(outcome, PushResult)
    assert isinstance(first, PushResult) and isinstance(retry, PushResult) and isinstance(event, PushResult)
    assert first.created and not retry.created and first.case is not None and retry.case is not None
    assert retry.case.case_no == first.case.case_no and event.case is None
    numbers = {o.case.case_no for o in (first, second, fourth) if isinstance(o, PushResult) and o.case}
    assert len(numbers) == 3
    assert await count(db, Case) == 3
    assert await count(db, InboundReceipt) == 4  # three messages and the event; none for the refused one
    async with db.sessions() as session:
        state = await session.get(ConnectorState, "WECHAT")
    assert state is not None and state.ingested_count == 3 and state.last_success_at is not None


async def test_a_later_batch_finds_the_first_cases(db: Any) -> None:
    async with db.ctx() as ctx:
        (first,) = await receive_pushes(ctx, channel="wechat", items=[_wechat("2001")])
    async with db.ctx() as ctx:  # one stored by the single-message path before batching existed
        single = await receive_push(ctx, channel="wechat", draft=_wechat("2002").draft, dedupe_key="2002")
    async with db.ctx() as ctx:
        again = await receive_pushes(ctx, channel="wechat", items=[_wechat("2002"), _wechat("2001"),
                                                                   _wechat("2003")])
    assert isinstance(first, PushResult) and first.case is not None and single.case is not None
    repeat_single, repeat_first, new = again
    assert isinstance(repeat_first, PushResult) and isinstance(repeat_single, PushResult)
    assert isinstance(new, PushResult) and new.created
    assert repeat_first.case is not None and repeat_first.case.case_no == first.case.case_no
    assert repeat_single.case is not None and repeat_single.case.case_no == single.case.case_no
    assert not repeat_first.created and not repeat_single.created
    assert await count(db, Case) == 3
    async with db.sessions() as session:
        state = await session.get(ConnectorState, "WECHAT")
    assert state is not None and state.ingested_count == 3


async def test_a_case_without_a_receipt_is_found_by_its_external_id(db: Any) -> None:
    """Receipts are pruned after days; the case's (channel, external id) still makes the message a repeat."""
    async with db.ctx() as ctx:
        (first,) = await receive_pushes(ctx, channel="hotline", items=[PushItem(draft(external_id="GD-77"))])
    async with db.ctx() as ctx:
        (again,) = await receive_pushes(ctx, channel="hotline", items=[PushItem(draft(external_id="GD-77"))])
    assert isinstance(first, PushResult) and isinstance(again, PushResult)
    assert first.created and not again.created
    assert first.case is not None and again.case is not None and again.case.case_no == first.case.case_no
    assert await count(db, Case) == 1 and await count(db, InboundReceipt) == 0
