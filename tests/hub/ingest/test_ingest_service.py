"""ingest_page stores a page then moves the cursor in the same transaction; pushes are stored once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from channel_kit import count
from helpers import draft

from connectors.base import Page
from hub.cases.drafts import CheckedDraft
from hub.cases.models import Case
from hub.ingest.models import ConnectorState
from hub.ingest.records import InboundReceipt
from hub.ingest.service import CursorMoved, ingest_drafts, ingest_page, prepare_drafts, receive_push
from hub.jobs.models import DeadLetter
from hub.routing.suggester import Suggestion, default_suggester


async def _cursor(db: Any) -> str | None:
    async with db.sessions() as session:
        state = await session.get(ConnectorState, "HOTLINE")
        return state.cursor if state else None


async def test_page_then_cursor_in_one_transaction(db: Any) -> None:
    page = Page(drafts=[draft(external_id="GD1"), draft(external_id="GD2")], next_cursor='{"until":"a"}')
    async with db.ctx() as ctx:
        result = await ingest_page(ctx, channel="hotline", page=page, expected_cursor=None)
    assert (result.created, result.repeated) == (2, 0) and await _cursor(db) == '{"until":"a"}'
    overlap = Page(drafts=[draft(external_id="GD2"), draft(external_id="GD3")], next_cursor='{"until":"b"}')
    async with db.ctx() as ctx:
        again = await ingest_page(ctx, channel="hotline", page=overlap, expected_cursor='{"until":"a"}')
    assert (again.created, again.repeated) == (1, 1) and await count(db, Case) == 3


async def test_a_pass_behind_another_rolls_back(db: Any) -> None:
    async with db.ctx() as ctx:
        await ingest_page(ctx, channel="hotline", page=Page([draft(external_id="GD1")], "c1"), expected_cursor=None)
    with pytest.raises(CursorMoved):
        async with db.ctx() as ctx:  # a concurrent pass that started from the old cursor
            await ingest_page(ctx, channel="hotline", page=Page([draft(external_id="GD9")], "c2"),
                              expected_cursor=None)
    assert await _cursor(db) == "c1" and await count(db, Case) == 1


async def test_a_refused_draft_is_dead_lettered_and_does_not_block(db: Any) -> None:
    bad = draft(external_id="GD-EMPTY", title="", content="")
    async with db.ctx() as ctx:
        result = await ingest_page(ctx, channel="hotline", page=Page([bad, draft(external_id="GD2")], "c1"),
                                   expected_cursor=None)
    assert result.created == 1 and result.rejected == [("GD-EMPTY", "a case needs a title or content")]
    assert await _cursor(db) == "c1"
    assert await count(db, DeadLetter, DeadLetter.ref == "GD-EMPTY", DeadLetter.channel == "HOTLINE") == 1


async def test_a_push_is_stored_once_by_its_dedupe_key(db: Any) -> None:
    message = draft(channel="WECHAT", external_id="24591738402315786", phone=None, account_id="oAbcdefghij")
    for _delivery in range(3):
        async with db.ctx() as ctx:
            result = await receive_push(ctx, channel="wechat", draft=message, dedupe_key="24591738402315786")
            assert result.case is not None
    async with db.ctx() as ctx:
        event = await receive_push(ctx, channel="wechat", draft=None, dedupe_key="event:abc")
        repeat = await receive_push(ctx, channel="wechat", draft=None, dedupe_key="event:abc")
    assert event.case is None and not repeat.created
    assert await count(db, Case) == 1 and await count(db, InboundReceipt) == 2
    async with db.sessions() as session:
        state = await session.get(ConnectorState, "WECHAT")
        assert state is not None and state.ingested_count == 1 and state.last_success_at


class _Fixed:
    """A scorer that suggests one category for everything, so a test sees whose suggestion was stored."""

    def __init__(self, category: str) -> None:
        self.category, self.calls = category, 0

    async def suggest_many(self, texts: Sequence[tuple[str, str]]) -> list[Suggestion]:
        self.calls += 1
        return [Suggestion(self.category, 0.5, ((self.category, 0.5),)) for _ in texts]


async def test_a_page_scored_ahead_is_routed_on_those_scores(db: Any) -> None:
    drafts = [draft(external_id="GD1"), draft(external_id="GD-EMPTY", title="", content=""),
              draft(channel="WEIBO", external_id="WB1"), draft(external_id="GD2")]
    scorer = _Fixed("交通运输")  # not what the model says of a restaurant's fumes
    checked = await prepare_drafts(channel="hotline", drafts=drafts, scorer=scorer)
    assert scorer.calls == 1
    assert [c.suggestion.category if isinstance(c, CheckedDraft) and c.suggestion else str(c) for c in checked] == [
        "交通运输", "a case needs a title or content", "a WEIBO message in the HOTLINE stream", "交通运输"]
    async with db.ctx() as ctx:
        result = await ingest_page(ctx, channel="hotline", page=Page(drafts, "c1"), expected_cursor=None,
                                   checked=checked)
    assert result.created == 2 and [ref for ref, _ in result.rejected] == ["GD-EMPTY", "WB1"]
    assert {(c.external_id, c.suggested_category, c.suggestion_confidence) for c in result.cases} == {
        ("GD1", "交通运输", 0.5), ("GD2", "交通运输", 0.5)}
    async with db.ctx() as ctx:  # scored in place, the same draft gets the model's own category
        [own] = (await ingest_drafts(ctx, channel="hotline", drafts=[draft(external_id="GD3")])).cases
    assert own.suggested_category == default_suggester().suggest(own.title, own.content).category != "交通运输"
    with pytest.raises(ValueError):
        async with db.ctx() as ctx:
            await ingest_drafts(ctx, channel="hotline", drafts=drafts, checked=checked[:2])
