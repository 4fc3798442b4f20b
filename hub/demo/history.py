"""The demo's past through the real connector path: each message in its channel's wire format, parsed by that
channel's connector into the CaseDraft the hub stores, and each answer sent back by the outbox to the channel."""

from __future__ import annotations

import datetime as dt
from types import TracebackType

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import CaseDraft
from connectors.hotline import parse_item, parse_push
from connectors.website import parse_board_row, parse_list_item
from connectors.wechat import dedupe_key, parse_message, to_draft
from connectors.weibo import parse_comment, parse_status
from hub.cases.models import Case
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.db import transaction
from hub.ingest.config import ConnectorPool
from hub.ingest.service import connector_principal, ingest_drafts, receive_push
from hub.jobs.context import JobContext
from hub.jobs.outbox import DeliveryOutcome, deliver_reply
from hub.jobs.settings import load_job_settings
from hub.settings import Settings
from hub.simulate.channels import CHANNELS, FakeSet, Posted

CST = dt.timezone(dt.timedelta(hours=8))
EXPORT_AGE = dt.timedelta(days=30)  # older board messages came in with the board's CSV export


def board_row(posted: Posted) -> dict[str, str]:
    """A board message as a row of the board's export (the 2020 智慧政务 layout)."""
    assert isinstance(posted.payload, dict)
    item = posted.payload
    moment = dt.datetime.fromtimestamp(int(item["createDateline"]), CST)
    return {"留言编号": str(item["tid"]), "留言用户": posted.citizen.nick, "留言主题": str(item["subject"]),
            "留言时间": f"{moment.year}/{moment.month}/{moment.day} {moment:%H:%M:%S}",
            "留言详情": str(item["content"]), "一级标签": posted.message.topic.category}


def parse_posted(posted: Posted, fakes: FakeSet, *, pushed: bool = False, exported: bool = False
                 ) -> tuple[CaseDraft, str | None]:
    """The CaseDraft the channel's connector makes of a posted message, and WeChat's dedupe key."""
    # pushed: a hotline order comes as the platform's signed push; exported: a board message as an export row
    payload = posted.payload
    if posted.channel == "wechat":
        assert isinstance(payload, str)
        message = parse_message(payload)
        draft = to_draft(message)
        assert draft is not None
        return draft, dedupe_key(message)
    assert isinstance(payload, dict)
    if posted.channel == "hotline":
        if pushed:
            body, headers = fakes.hotline.signed_push(posted.external_id)
            return parse_push(fakes.hotline.secret, body, headers, now=utcnow().timestamp()), None
        return parse_item(payload), None
    if posted.channel == "website":
        return (parse_board_row(board_row(posted)) if exported else parse_list_item(payload)), None
    return (parse_comment(payload) if posted.external_id.startswith("comment:") else parse_status(payload)), None


async def store(sessions: async_sessionmaker[AsyncSession], settings: Settings, posted: Posted,
                draft: CaseDraft, key: str | None) -> Case:
    """Store a draft as the channel's connector does: pulled pages through ingest, WeChat as a push."""
    async with transaction(sessions) as session:
        ctx = ServiceContext(session, connector_principal(posted.channel), settings)
        if posted.channel == "wechat":
            pushed = await receive_push(ctx, channel="wechat", draft=draft, dedupe_key=key)
            assert pushed.case is not None
            return pushed.case
        result = await ingest_drafts(ctx, channel=posted.channel, drafts=[draft])
        if result.rejected:
            raise ValueError(f"the demo wrote a message the hub refuses: {result.rejected[0][1]}")
        return result.cases[0]


class HistoricalOutbox:
    """The outbox's own delivery step, run inline at the (frozen) moment of each answer: the connectors sign and
    time-stamp with the hub's clock, and the fakes follow it, so each answer reaches its channel back then."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._http = httpx.AsyncClient(timeout=10.0)
        options = {name: {"clock": utcnow} for name in CHANNELS}
        self.context = JobContext(sessions, settings, load_job_settings(),
                                  ConnectorPool(settings, self._http, options))

    async def deliver(self, reply_id: int) -> DeliveryOutcome:
        """Send one PENDING reply through its channel now; one quick retry if the channel hiccups."""
        outcome = await deliver_reply(self.context, reply_id=reply_id)
        if outcome.status in ("RETRY", "BUSY"):
            outcome = await deliver_reply(self.context, reply_id=reply_id)
        return outcome

    async def __aenter__(self) -> HistoricalOutbox:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._http.aclose()
