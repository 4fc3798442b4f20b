"""What every connector hands the hub, and the protocol each channel module implements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CitizenDraft:
    """Who wrote, as far as the channel tells: any field may be missing."""

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    account_id: str | None = None  # WeChat openid, Weibo uid, website account, hotline caller id


@dataclass(frozen=True)
class CaseDraft:
    """One citizen message, parsed from its channel's wire format, ready for ingest."""

    channel: str  # a hub.enums.Channel value; kept as str so connectors stay independent of hub/
    external_id: str
    title: str
    content: str
    received_at: dt.datetime
    citizen: CitizenDraft = field(default_factory=CitizenDraft)
    kind: str | None = None  # a CaseKind value when the channel says it
    urgency: str | None = None  # NORMAL / URGENT when the channel says it
    address: str | None = None
    region: str | None = None
    category_hint: str | None = None
    reply_to: Mapping[str, str] = field(default_factory=dict)  # what a reply needs: ids on the channel
    raw: Mapping[str, Any] | str = field(default_factory=dict)  # the payload exactly as received


@dataclass(frozen=True)
class Page:
    """One pull from a channel: the drafts and the cursor to store once they are saved."""

    drafts: Sequence[CaseDraft]
    next_cursor: str | None
    has_more: bool = False


@dataclass(frozen=True)
class ReplyReceipt:
    """What the channel said when a reply was delivered."""

    delivered: bool
    channel_ref: str | None = None
    error: str | None = None
    retryable: bool = False


class Connector(Protocol):
    """A channel: pull a page from a cursor (or parse a pushed payload) and send replies."""

    channel: str

    async def pull(self, cursor: str | None) -> Page:
        """Fetch the next page of new or changed messages after the cursor."""
        ...

    async def send_reply(self, *, reply_to: Mapping[str, str], content: str, idempotency_key: str) -> ReplyReceipt:
        """Deliver a department's answer to the citizen on this channel."""
        ...
