"""12345 hotline work orders: the platform's API item, its pull API, push signatures, replies, CSV exports.

No national 12345 wire format exists (``03_hotline_12345.md``). Items use the camelCase field names of a real
platform's work-order entity (``OrderSynWide``: ``orderNum``, ``callTime``, ``callerType``, ``pilotLight`` …),
times are ``yyyy-MM-dd HH:mm:ss`` GMT+8. The pull API is modelled on Jinan's 12345 integration API:

* ``GET {base}/api/workorders?startTime=&endTime=&pageNumber=&pageSize=`` → ``{"code":"0000","msg":…,
  "data":[item…],"total":N}``, filtered on the item's ``updateTime`` in ``[startTime, endTime)`` and sorted
  by it, so new *and changed* orders are seen.
* ``POST {base}/api/workorders/{orderNum}/reply`` with ``{"orderNum","replyContent","replyTime","requestId"}``
  → ``{"code":"0000","data":{"replyId":…}}``; ``requestId`` (also sent as ``Idempotency-Key``) makes a
  resend return the first reply instead of a second one.
* Every request, and every push the platform sends to ``POST /channels/hotline``, is signed:
  ``X-Hotline-Timestamp`` (Unix seconds) and ``X-Hotline-Signature`` = hex HMAC-SHA256 with the shared secret
  over ``timestamp + "\\n" + payload``; the payload is the body, or for a GET the raw query string.
  Timestamps older or newer than five minutes are refused.

Cursor: JSON ``{"until": ISO time, "seen": ["orderNum@updateTime", …]}``. A pull reads the closed window
``[until - overlap, min(until + max_window, now - settle))`` page by page (``pageNumber``), restarting the window
if ``total`` moves while paging (an order updated meanwhile leaves the window and would shift the offsets),
then sets ``until`` to the window's end. The overlap (2 min) absorbs clock skew between hub and platform;
``seen`` holds the versions already returned inside the overlap so they are not returned twice, while a newer
``updateTime`` of the same order is. ``has_more`` says the window stopped short of ``now - settle``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from connectors._common import (
    CST,
    as_mapping,
    dump_cursor,
    format_local_time,
    http_error,
    json_body,
    kind_from_label,
    load_cursor,
    make_title,
    parse_local_time,
    send,
    str_or_none,
    urgency_from_label,
    usable_phone,
)
from connectors.base import CaseDraft, CitizenDraft, Page, ReplyReceipt
from connectors.errors import AuthExpired, BadPayload, BadSignature, ChannelError, Permanent, RateLimited, Transient
from connectors.hotline_csv import CsvResult, parse_csv

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CsvResult",
    "HotlineConnector",
    "parse_csv",
    "parse_item",
    "parse_push",
    "sign",
    "signed_headers",
    "updated_at",
    "verify_push_signature",
]

CHANNEL = "HOTLINE"
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
MAX_SKEW_SECONDS = 300.0
OK = "0000"


# --- Items -------------------------------------------------------------------------------------------------


def _time_field(item: Mapping[str, Any], name: str) -> dt.datetime | None:
    value = str_or_none(item.get(name))
    return parse_local_time(value, name) if value else None


def updated_at(item: Mapping[str, Any]) -> dt.datetime:
    """When the order last changed: ``updateTime``, else the latest lifecycle time, else ``callTime``."""
    for name in ("updateTime", "completeTime", "dispatchTime", "callTime"):
        moment = _time_field(item, name)
        if moment is not None:
            return moment
    raise BadPayload("work order without callTime")


def parse_item(item: Mapping[str, Any]) -> CaseDraft:
    """An API (or pushed) work-order item → CaseDraft; external id is ``orderNum``."""
    if not isinstance(item, Mapping):
        raise BadPayload("work order is not a JSON object")
    order_num = str_or_none(item.get("orderNum")) or str_or_none(item.get("gdbh"))
    if order_num is None:
        raise BadPayload("work order without orderNum")
    received_at = _time_field(item, "callTime")
    if received_at is None:
        raise BadPayload("work order without callTime")
    title = str_or_none(item.get("title"))
    content = str_or_none(item.get("majorContent")) or title
    if content is None:
        raise BadPayload("work order without majorContent")
    reply_to = {"orderNum": order_num}
    if str_or_none(item.get("orderId")):
        reply_to["orderId"] = str(item["orderId"])
    return CaseDraft(
        channel=CHANNEL,
        external_id=order_num,
        title=title or make_title(content),
        content=content,
        received_at=received_at,
        citizen=CitizenDraft(
            name=str_or_none(item.get("callerName")),
            phone=usable_phone(item.get("callerPhone")) or usable_phone(item.get("callerContact")),
        ),
        kind=kind_from_label(str_or_none(item.get("callerType"))),
        urgency=urgency_from_label(str_or_none(item.get("pilotLight")) or str_or_none(item.get("jjcd"))),
        address=str_or_none(item.get("address")),
        region=str_or_none(item.get("areaName")) or str_or_none(item.get("region")),
        category_hint=str_or_none(item.get("questionName")),
        reply_to=reply_to,
        raw=dict(item),
    )


# --- Signatures --------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, payload: bytes) -> str:
    """Hex HMAC-SHA256 over ``timestamp + "\\n" + payload``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"\n" + payload, hashlib.sha256).hexdigest()


def signed_headers(secret: str, payload: bytes, *, now: float | None = None) -> dict[str, str]:
    """The two signature headers for a payload (body, or raw query string for a GET)."""
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, payload)}


def verify_push_signature(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float | None = None,
    max_skew: float = MAX_SKEW_SECONDS,
) -> None:
    """Check a signed request; raise BadSignature when forged, malformed or stale (> 5 min)."""
    try:
        sent = float(timestamp)
    except (TypeError, ValueError):
        raise BadSignature("hotline: malformed timestamp") from None
    current = now if now is not None else time.time()
    if abs(current - sent) > max_skew:
        raise BadSignature("hotline: stale timestamp")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, (signature or "").strip().lower()):
        raise BadSignature("hotline: signature mismatch")


def parse_push(secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None) -> CaseDraft:
    """Verify and parse a work order pushed to ``POST /channels/hotline`` (item, or ``{"data": item}``)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    verify_push_signature(secret, body, lowered.get(TIMESTAMP_HEADER.lower(), ""),
                          lowered.get(SIGNATURE_HEADER.lower(), ""), now=now)
    try:
        payload = json.loads(body)
    except ValueError:
        raise BadPayload("hotline push is not JSON") from None
    if isinstance(payload, Mapping) and isinstance(payload.get("data"), Mapping):
        payload = payload["data"]
    return parse_item(payload)


# --- Pull client -------------------------------------------------------------------------------------------


def _code_error(code: str, status: int) -> ChannelError:
    text = f"hotline: code {code}"
    if code in {"4010", "4011"}:
        return AuthExpired(text, code=code, status=status)
    if code == "4290":
        return RateLimited(text, code=code, status=status)
    if code.startswith("9"):
        return Transient(text, code=code, status=status)
    return Permanent(text, code=code, status=status)


API_PAGE_SIZE = 100  # work orders per API page the connector asks for (pageSize)


class HotlineConnector:
    """Pulls work orders from the 12345 platform by update-time window and posts answers back."""

    channel = CHANNEL

    def __init__(
        self,
        base_url: str,
        secret: str,
        http: httpx.AsyncClient,
        *,
        page_size: int = API_PAGE_SIZE,
        overlap: dt.timedelta = dt.timedelta(minutes=2),
        settle: dt.timedelta = dt.timedelta(seconds=5),
        max_window: dt.timedelta = dt.timedelta(days=1),
        initial_lookback: dt.timedelta = dt.timedelta(days=1),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._http = http
        self.page_size = page_size
        self.overlap = overlap
        self.settle = settle
        self.max_window = max_window
        self.initial_lookback = initial_lookback
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    async def _call(self, method: str, path: str, *, query: str = "", body: bytes = b"",
                    headers: Mapping[str, str] | None = None) -> Any:
        is_write = method != "GET"
        signed = signed_headers(self._secret, body if is_write else query.encode(),
                                now=self._clock().timestamp())
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        response = await send(self._http, method, url, channel="hotline", is_write=is_write,
                              content=body or None, headers={**signed, **(headers or {})})
        if response.status_code >= 300:
            raise http_error(response, "hotline", is_write=is_write)
        payload = json_body(response, "hotline", is_write=is_write)
        if not isinstance(payload, Mapping) or "code" not in payload:
            raise Transient("hotline: response without code", maybe_delivered=is_write)
        code = str(payload["code"])
        if code != OK:
            raise _code_error(code, response.status_code)
        return payload

    async def _fetch_window(self, start: dt.datetime, end: dt.datetime) -> list[Mapping[str, Any]] | None:
        """Every item of one window, or None when ``total`` moved while paging."""
        items: list[Mapping[str, Any]] = []
        total: int | None = None
        page_number = 1
        while True:
            query = urllib.parse.urlencode({
                "startTime": format_local_time(start), "endTime": format_local_time(end),
                "pageNumber": page_number, "pageSize": self.page_size,
            })
            payload = await self._call("GET", "/api/workorders", query=query)
            data = payload.get("data") or []
            if not isinstance(data, list):
                raise BadPayload("hotline: data is not a list")
            try:
                page_total = int(payload.get("total", len(data)))
            except (TypeError, ValueError):
                raise BadPayload("hotline: total is not a number") from None
            if total is None:
                total = page_total
            elif page_total != total:
                return None
            items.extend(data)
            if len(data) < self.page_size or len(items) >= total:
                return items
            page_number += 1

    async def pull(self, cursor: str | None) -> Page:
        """Read the next closed update-time window (see the module docstring for the cursor)."""
        state = load_cursor(cursor, "hotline")
        now = self._clock()
        horizon = now - self.settle
        try:
            until = dt.datetime.fromisoformat(state["until"]) if "until" in state else now - self.initial_lookback
        except (TypeError, ValueError):
            raise BadPayload("hotline: stored cursor has no valid time") from None
        seen = set(state.get("seen", []))
        start = until - self.overlap
        end = min(until + self.max_window, horizon)
        if end <= until:
            return Page(drafts=[], next_cursor=cursor, has_more=False)
        for _attempt in range(3):
            items = await self._fetch_window(start, end)
            if items is not None:
                break
        else:
            raise Transient("hotline: window kept changing while paging")
        drafts: list[CaseDraft] = []
        emitted: set[str] = set()
        new_seen: set[str] = set()
        for item in items:
            draft = parse_item(item)
            changed = updated_at(item)
            key = f"{draft.external_id}@{format_local_time(changed)}"
            if changed >= end - self.overlap:
                new_seen.add(key)
            if key in seen or key in emitted:
                continue
            emitted.add(key)
            drafts.append(draft)
        next_state = {"until": end.astimezone(CST).isoformat(), "seen": sorted(new_seen)}
        return Page(drafts=drafts, next_cursor=dump_cursor(next_state), has_more=end < horizon)

    async def send_reply(self, *, reply_to: Mapping[str, str], content: str, idempotency_key: str) -> ReplyReceipt:
        """Post the answer to the work order; a resend with the same key returns the first reply."""
        order_num = reply_to.get("orderNum")
        if not order_num:
            raise Permanent("hotline: reply_to has no orderNum")
        body = json.dumps({
            "orderNum": order_num, "replyContent": content,
            "replyTime": format_local_time(self._clock()), "requestId": idempotency_key,
        }, ensure_ascii=False).encode()
        payload = await self._call(
            "POST", f"/api/workorders/{urllib.parse.quote(order_num, safe='')}/reply", body=body,
            headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key},
        )
        data = as_mapping(payload.get("data"))
        return ReplyReceipt(delivered=True, channel_ref=str_or_none(data.get("replyId")))
