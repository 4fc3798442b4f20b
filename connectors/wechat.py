"""WeChat Official Account: the server callback (handshake, plain/compatible/safe), drafts, passive replies,
and the customer-service send API with its access token (``01_wechat_official_account.md``).

Callback flow (``GET|POST /channels/wechat``, built by the hub on :meth:`WeChatCallback.handle`): verify
``signature``; for ``encrypt_type=aes`` verify ``msg_signature`` and decrypt ``<Encrypt>`` (compatible mode's
plaintext copy is ignored: only the encrypted copy is authenticated); parse the XML; the hub stores the message
idempotently on :func:`dedupe_key` and answers within WeChat's 5 s with a passive reply (encrypted when the
request was) or ``success``. The answer comes later through ``/cgi-bin/message/custom/send``, inside the 48 h
window: errcode 45015 raises :class:`WindowClosed`; 40001/40014/42001 refresh the token and retry once.
WeChat has no idempotency key: a timeout or 5xx after sending sets ``maybe_delivered``.

WeChat is push-only: :meth:`WeChatConnector.pull` returns an empty page and keeps the cursor.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors._common import CST, as_mapping, http_error, make_title, send, str_or_none
from connectors.base import CaseDraft, CitizenDraft, Page, ReplyReceipt
from connectors.errors import (
    AuthExpired,
    BadPayload,
    BadSignature,
    ChannelError,
    Permanent,
    Transient,
    classify_wechat,
)
from connectors.wechat_crypto import WeChatCrypto, cdata, check_signature, parse_xml

CHANNEL = "WECHAT"
ACK = "success"  # WeChat's "received, no passive reply": no retry, nothing shown to the user


@dataclass(frozen=True)
class WeChatMessage:
    """One inbound message or event, with every XML element kept in ``fields``."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: str | None
    event: str | None
    event_key: str | None
    fields: Mapping[str, str]
    xml: str

    @property
    def is_event(self) -> bool:
        """True for ``MsgType=event`` (subscribe, CLICK, LOCATION …)."""
        return self.msg_type == "event"


def parse_message(xml: str | bytes) -> WeChatMessage:
    """Parse a plaintext callback XML (any element order) into a WeChatMessage."""
    text = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
    fields = parse_xml(text)
    try:
        create_time = int(fields.get("CreateTime", ""))
    except ValueError:
        raise BadPayload("wechat: CreateTime is not an integer") from None
    msg_type = fields.get("MsgType", "").lower()
    if not fields.get("FromUserName") or not fields.get("ToUserName") or not msg_type:
        raise BadPayload("wechat: message without FromUserName, ToUserName or MsgType")
    return WeChatMessage(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=create_time,
        msg_type=msg_type,
        msg_id=str_or_none(fields.get("MsgId")),
        event=str_or_none(fields.get("Event")),
        event_key=fields.get("EventKey"),
        fields=fields,
        xml=text,
    )


def dedupe_key(message: WeChatMessage) -> str:
    """MsgId for messages; for events a hash of FromUserName, CreateTime, Event and EventKey."""
    if message.msg_id and not message.is_event:
        return message.msg_id
    basis = "|".join((message.from_user, str(message.create_time), (message.event or "").lower(),
                      message.event_key or ""))
    return "event:" + hashlib.sha256(basis.encode()).hexdigest()[:32]


def _content(message: WeChatMessage) -> tuple[str, str | None, str | None]:
    """(content, title, address) of a message that can become a case."""
    f = message.fields
    kind = message.msg_type
    if kind == "text":
        return f.get("Content", ""), None, None
    if kind == "image":
        return f"[图片] {f.get('PicUrl', '')}".strip(), None, None
    if kind == "voice":
        return f.get("Recognition") or "[语音消息]", None, None
    if kind in {"video", "shortvideo"}:
        return "[视频消息]", None, None
    if kind == "location":
        label = f.get("Label") or f"{f.get('Location_X', '')},{f.get('Location_Y', '')}"
        return f"[位置] {label}", None, label
    if kind == "link":
        parts = [f.get("Title", ""), f.get("Description", ""), f.get("Url", "")]
        return "\n".join(part for part in parts if part), str_or_none(f.get("Title")), None
    return f"[{kind}]", None, None


def to_draft(message: WeChatMessage) -> CaseDraft | None:
    """A user message → CaseDraft keyed on :func:`dedupe_key`; events (subscribe, menu clicks …) → None."""
    if message.is_event:
        return None
    content, title, address = _content(message)
    if not content.strip():
        raise BadPayload("wechat: message without content")
    return CaseDraft(
        channel=CHANNEL,
        external_id=dedupe_key(message),
        title=title or make_title(content),
        content=content,
        received_at=dt.datetime.fromtimestamp(message.create_time, CST),
        citizen=CitizenDraft(account_id=message.from_user),
        address=address,
        reply_to={"openid": message.from_user, "account": message.to_user},
        raw=message.xml,
    )


def build_text_reply(message: WeChatMessage, content: str, *, create_time: int | None = None) -> str:
    """The plaintext passive reply to a message (To = the user's openid, From = the account)."""
    return (
        "<xml>\n"
        f"<ToUserName>{cdata(message.from_user)}</ToUserName>\n"
        f"<FromUserName>{cdata(message.to_user)}</FromUserName>\n"
        f"<CreateTime>{create_time if create_time is not None else int(time.time())}</CreateTime>\n"
        "<MsgType><![CDATA[text]]></MsgType>\n"
        f"<Content>{cdata(content)}</Content>\n"
        "</xml>"
    )


@dataclass(frozen=True)
class Inbound:
    """A verified callback: the message, its draft (None for events), and whether it came encrypted."""

    message: WeChatMessage
    draft: CaseDraft | None
    encrypted: bool
    mode: str  # "plain" | "compat" | "safe"


@dataclass(frozen=True)
class CallbackResponse:
    """What the hub's endpoint answers WeChat."""

    status: int
    body: str
    media_type: str = "text/plain"
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class WeChatCallback:
    """Verifies and opens callbacks for one account and renders its passive replies."""

    def __init__(self, token: str, appid: str, encoding_aes_key: str | None = None, *,
                 require_encryption: bool = False, max_age: float | None = None) -> None:
        self.token = token
        self.appid = appid
        self.crypto = WeChatCrypto(token, encoding_aes_key, appid) if encoding_aes_key else None
        self.require_encryption = require_encryption
        self.max_age = max_age  # optional replay window on ``timestamp``; WeChat itself sets none

    def _verify(self, query: Mapping[str, str]) -> None:
        timestamp = query.get("timestamp", "")
        check_signature(self.token, timestamp, query.get("nonce", ""), query.get("signature", ""))
        if self.max_age is not None:
            try:
                stale = abs(time.time() - float(timestamp)) > self.max_age
            except ValueError:
                stale = True
            if stale:
                raise BadSignature("wechat: stale timestamp")

    def handshake(self, query: Mapping[str, str]) -> str:
        """The URL-verification GET: the ``echostr`` to return verbatim, if the signature matches."""
        self._verify(query)
        return query.get("echostr", "")

    def open(self, query: Mapping[str, str], body: bytes) -> Inbound:
        """Verify a POST (signature, and msg_signature in aes mode), decrypt if needed, parse."""
        self._verify(query)
        if query.get("encrypt_type", "raw").lower() != "aes":
            if self.require_encryption:
                raise BadSignature("wechat: plaintext callback refused (safe mode required)")
            message = parse_message(body)
            return Inbound(message, to_draft(message), encrypted=False, mode="plain")
        if self.crypto is None:
            raise Permanent("wechat: encrypted callback but no EncodingAESKey configured")
        envelope = parse_xml(body)  # once: the Encrypt value, and whether a plaintext copy rides along (compat)
        xml = self.crypto.decrypt_envelope(envelope, query.get("msg_signature", ""), query.get("timestamp", ""),
                                           query.get("nonce", ""))
        message = parse_message(xml)
        mode = "compat" if "MsgType" in envelope else "safe"
        return Inbound(message, to_draft(message), encrypted=True, mode=mode)

    def render_reply(self, inbound: Inbound, content: str, *, timestamp: str | None = None,
                     nonce: str | None = None) -> str:
        """The passive text reply, encrypted when the request came encrypted."""
        created = int(timestamp) if timestamp else int(time.time())
        reply = build_text_reply(inbound.message, content, create_time=created)
        if not inbound.encrypted or self.crypto is None:
            return reply
        return self.crypto.encrypt_message(reply, timestamp=str(created), nonce=nonce)

    async def handle(self, method: str, query: Mapping[str, str], body: bytes,
                     on_message: Callable[[Inbound], Awaitable[str | None]]) -> CallbackResponse:
        """The whole endpoint: 403 on signature errors, 400 on bad payloads, else the reply or ``success``.

        ``on_message`` stores the message idempotently and returns the passive reply text (or None).
        """
        try:
            if method.upper() == "GET":
                return CallbackResponse(200, self.handshake(query))
            inbound = self.open(query, body)
        except BadSignature as exc:
            return CallbackResponse(403, "forbidden", error=exc.message)
        except BadPayload as exc:
            return CallbackResponse(400, "bad request", error=exc.message)
        except ChannelError as exc:
            return CallbackResponse(500, "error", error=exc.message)
        text = await on_message(inbound)
        if not text:
            return CallbackResponse(200, ACK)
        return CallbackResponse(200, self.render_reply(inbound, text), media_type="application/xml")


class WeChatConnector:
    """Sends answers with the customer-service API; fetches and refreshes the access token."""

    channel = CHANNEL

    def __init__(self, base_url: str, appid: str, appsecret: str, http: httpx.AsyncClient, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self._appsecret = appsecret
        self._http = http
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._token: str | None = None
        self._token_expires: dt.datetime | None = None
        self._lock = asyncio.Lock()

    async def _fetch_token(self) -> str:
        response = await send(self._http, "GET", f"{self.base_url}/cgi-bin/token", channel="wechat", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self._appsecret})
        payload = _json_or_raise(response, is_write=False)
        token = payload.get("access_token")
        if not token:
            raise Transient("wechat: token response without access_token")
        expires_in = int(payload.get("expires_in") or 7200)
        # refresh five minutes early so a token never expires between fetch and use
        self._token_expires = self._clock() + dt.timedelta(seconds=max(expires_in - 300, 60))
        self._token = str(token)
        return self._token

    async def access_token(self, *, force: bool = False, stale: str | None = None) -> str:
        """A valid access token; ``force`` refetches unless another caller already replaced ``stale``."""
        async with self._lock:
            current = self._token
            fresh = self._token_expires is not None and self._clock() < self._token_expires
            replace = force and (stale is None or current == stale)
            if current and fresh and not replace:
                return current
            return await self._fetch_token()

    async def pull(self, cursor: str | None) -> Page:
        """WeChat pushes: there is nothing to pull."""
        return Page(drafts=[], next_cursor=cursor, has_more=False)

    async def _send_once(self, token: str, body: bytes) -> Mapping[str, Any]:
        response = await send(self._http, "POST", f"{self.base_url}/cgi-bin/message/custom/send",
                              channel="wechat", is_write=True, params={"access_token": token}, content=body,
                              headers={"Content-Type": "application/json; charset=utf-8"})
        return _json_or_raise(response, is_write=True)

    async def send_reply(self, *, reply_to: Mapping[str, str], content: str, idempotency_key: str) -> ReplyReceipt:
        """Send a text customer-service message; 45015 → WindowClosed, expired token → refresh and retry once."""
        openid = reply_to.get("openid")
        if not openid:
            raise Permanent("wechat: reply_to has no openid")
        body = json.dumps({"touser": openid, "msgtype": "text", "text": {"content": content}},
                          ensure_ascii=False).encode()
        token = await self.access_token()
        try:
            await self._send_once(token, body)
        except AuthExpired:
            token = await self.access_token(force=True, stale=token)
            await self._send_once(token, body)  # an auth refusal delivered nothing: safe to repeat once
        return ReplyReceipt(delivered=True)


def _json_or_raise(response: httpx.Response, *, is_write: bool) -> Mapping[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    body = as_mapping(payload)
    if body.get("errcode") not in (None, 0, "0"):
        try:
            code = int(body["errcode"])
        except (TypeError, ValueError):
            raise Permanent("wechat: malformed errcode", status=response.status_code) from None
        error = classify_wechat(code, str(body.get("errmsg", "")), status=response.status_code)
        error.maybe_delivered = is_write and isinstance(error, Transient)
        raise error
    if response.status_code >= 300:
        raise http_error(response, "wechat", is_write=is_write)
    if not isinstance(payload, Mapping):
        raise Transient("wechat: unparseable response body", status=response.status_code,
                        maybe_delivered=is_write)
    return payload
