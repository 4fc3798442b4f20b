"""connector_health: per channel the cursor, last success, lag, errors, dead letters and pending replies."""

from __future__ import annotations

from typing import Any

import pytest
from channel_kit import answer, cases, fast_jobs, post, wire
from helpers import AUDITOR, DISPATCHER, handler

from connectors.fakes import FakeWebsite, FaultKind
from hub.errors import NotAllowed
from hub.ingest.reads import connector_health
from hub.ingest.sync import sync_channel


async def test_health_shows_where_each_channel_stands(db: Any, clock: Any) -> None:
    with FakeWebsite() as website:
        settings = wire(db.settings, website)
        post(website, "学校门口早晚高峰拥堵，建议增设交通协管。")
        await sync_channel(sessions=db.sessions, settings=settings, channel="website", job_settings=fast_jobs())
        clock.advance(minutes=10)
        website.inject(FaultKind.TOO_MANY_REQUESTS, 1, retry_after=300)
        await sync_channel(sessions=db.sessions, settings=settings, channel="website", job_settings=fast_jobs())
    (case,) = await cases(db)
    await answer(db, case.id)
    db.settings = settings  # the health view reads which channels are configured
    async with db.ctx(AUDITOR) as ctx:
        rows = {row.name: row for row in await connector_health(ctx)}
    assert list(rows) == ["hotline", "website", "weibo", "wechat"]
    board = rows["website"]
    assert board.configured and board.pulls and board.cursor and board.ingested_count == 1
    assert board.lag_seconds == 600 and board.failing and board.error_count == 1
    assert board.last_error and "HTTP 429" in board.last_error and board.paused_until is not None
    assert board.pending_replies == 1 and board.oldest_pending_reply_at is not None
    assert board.dead_letter_count == 0 and board.dead_letters == []
    assert not rows["wechat"].pulls and not rows["hotline"].configured and rows["hotline"].lag_seconds is None


@pytest.mark.parametrize("actor", [DISPATCHER, AUDITOR])
async def test_the_centre_and_oversight_may_read_it(db: Any, actor: Any) -> None:
    async with db.ctx(actor) as ctx:
        assert len(await connector_health(ctx)) == 4


async def test_departments_may_not(db: Any) -> None:
    with pytest.raises(NotAllowed):
        async with db.ctx(handler("NH-ZJ")) as ctx:
            await connector_health(ctx)
