"""The district's website message board (领导留言板 / 政府信箱): list items, exports, cursor and answers.

The board API follows people.cn's leadership board (``04_gov_message_boards.md`` §B): JSON requests carry a
``param`` string, answers come as ``{"resultCode":"200","resultMsg":…,"resultData":…}``, items carry
``tid subject content nickName typeName domainName stateInfo createDateline dateline lastAnswerTime`` (epoch
seconds) and pages are keyset cursors (``lastItem`` = the previous page's last tid, ``rows`` per page). Instead
of appCode/signature, requests are authenticated by an ``X-Api-Key`` header. Endpoints:

* ``POST {base}/v1/threads/list``  param ``{"fid","lastItem","lastDateline","rows","orderType":2}``:
  ``orderType`` 2 lists by last activity, newest first, so edited and answered threads come back to the top.
  ``lastDateline`` pins the keyset position, so an item changing mid-walk does not move the position.
* ``POST {base}/v1/threads/content`` param ``{"tid"}`` → ``resultData.contentList`` (the thread and answers).
* ``POST {base}/v1/threads/answer``  param ``{"tid","content","organization","requestId"}`` →
  ``resultData {"answerId","tid","stateInfo"}``; a repeated ``requestId`` returns the first answer.

Cursor: JSON ``{"w": [dateline, tid], "seen": […], "walk": {…}|absent}``. A walk reads pages newest-first
from the top down to ``w`` (minus a small overlap, 2 min; on the first run down to ``now - initial_lookback``).
Its top becomes the new ``w`` only when the walk is complete; a long walk spans several pulls, each page's
drafts returned before the cursor records the page (``has_more`` stays true). ``seen`` lists the
``tid@dateline`` versions inside the overlap, so unchanged threads are not returned twice and changed ones are.

The 2020 智慧政务 layout (留言编号, 留言用户, 留言主题, 留言时间, 留言详情, 一级标签/一级分类 …) is read by
:func:`parse_board_csv`; SAMR's JSON board items by :func:`parse_samr_item`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from connectors._common import (
    CsvResult,
    RowParser,
    dump_cursor,
    from_epoch,
    http_error,
    json_body,
    kind_from_label,
    load_cursor,
    make_title,
    normalise_whitespace,
    parse_csv_export,
    parse_local_time,
    send,
    str_or_none,
)
from connectors.base import CaseDraft, CitizenDraft, Page, ReplyReceipt
from connectors.errors import AuthExpired, BadPayload, ChannelError, Permanent, RateLimited, Transient

CHANNEL = "WEBSITE"
API_KEY_HEADER = "X-Api-Key"
OK = "200"


def parse_board_time(value: Any, field: str = "留言时间") -> dt.datetime:
    """A board time: epoch seconds, ``2020/1/6 12:09:38``, ``2017-06-08 17:31:20`` or a date (GMT+8)."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return from_epoch(value, field)
    text = str_or_none(value)
    if text is None:
        raise BadPayload(f"empty {field}")
    return parse_local_time(text, field)


def parse_list_item(item: Mapping[str, Any]) -> CaseDraft:
    """A board list item (people.cn style) → CaseDraft; external id is the thread's ``tid``."""
    if not isinstance(item, Mapping):
        raise BadPayload("website: item is not a JSON object")
    tid = str_or_none(item.get("tid"))
    if tid is None:
        raise BadPayload("website: item without tid")
    subject = str_or_none(item.get("subject")) or ""
    content = normalise_whitespace(str(item.get("content") or "")) or subject
    if not content:
        raise BadPayload("website: item without subject or content")
    return CaseDraft(
        channel=CHANNEL,
        external_id=tid,
        title=subject or make_title(content),
        content=content,
        received_at=parse_board_time(item.get("createDateline") or item.get("dateline"), "createDateline"),
        citizen=CitizenDraft(account_id=str_or_none(item.get("nickName"))),
        kind=kind_from_label(str_or_none(item.get("typeName"))),
        category_hint=str_or_none(item.get("domainName")),
        region=str_or_none(item.get("areaName")),
        reply_to={"tid": tid},
        raw=dict(item),
    )


def parse_samr_item(item: Mapping[str, Any]) -> CaseDraft:
    """A SAMR 留言咨询 item (``zj lybt lysj lynr lyr …``) → CaseDraft."""
    zj = str_or_none(item.get("zj"))
    content = normalise_whitespace(str(item.get("lynr") or ""))
    if zj is None or not content:
        raise BadPayload("website: SAMR item without zj or lynr")
    return CaseDraft(
        channel=CHANNEL,
        external_id=zj,
        title=str_or_none(item.get("lybt")) or make_title(content),
        content=content,
        received_at=parse_board_time(item.get("lysj"), "lysj"),
        citizen=CitizenDraft(name=str_or_none(item.get("lyr"))),
        reply_to={"zj": zj},
        raw=dict(item),
    )


_BOARD_COLUMNS = {"id": "留言编号", "user": "留言用户", "title": "留言主题", "time": "留言时间", "body": "留言详情"}


def _board_row_parser(header: Sequence[str]) -> RowParser:
    missing = [name for name in _BOARD_COLUMNS.values() if name not in header]
    if missing:
        raise BadPayload(f"missing column {'、'.join(missing)}")
    label = next((name for name in ("一级标签", "一级分类") if name in header), None)

    def parse_row(row: Sequence[str]) -> CaseDraft:
        return parse_board_row(dict(zip(header, row, strict=True)), label_column=label)

    return parse_row


def parse_board_row(row: Mapping[str, str], *, label_column: str | None = "一级标签") -> CaseDraft:
    """One row of the 2020 board layout → CaseDraft (留言详情 whitespace normalised, both time formats)."""
    message_id = str_or_none(row.get("留言编号"))
    if message_id is None:
        raise BadPayload("empty 留言编号")
    content = normalise_whitespace(row.get("留言详情") or "")
    title = str_or_none(row.get("留言主题"))
    if not content and not title:
        raise BadPayload("empty 留言详情")
    return CaseDraft(
        channel=CHANNEL,
        external_id=message_id,
        title=title or make_title(content),
        content=content or title or "",
        received_at=parse_board_time(row.get("留言时间"), "留言时间"),
        citizen=CitizenDraft(account_id=str_or_none(row.get("留言用户"))),
        category_hint=str_or_none(row.get(label_column)) if label_column else None,
        reply_to={"tid": message_id},
        raw=dict(row),
    )


def parse_board_csv(data: bytes) -> CsvResult:
    """Parse a board export in the 2020 layout; bad rows are reported by line number and skipped."""
    return parse_csv_export(data, _board_row_parser, "留言编号")


def _position(item: Mapping[str, Any]) -> list[int]:
    try:
        return [int(item.get("dateline") or item["createDateline"]), int(item["tid"])]
    except (KeyError, TypeError, ValueError):
        raise BadPayload("website: item without tid or dateline") from None


def _result_error(code: str, status: int, is_write: bool) -> ChannelError:
    text = f"website: resultCode {code}"
    if code == "401":
        return AuthExpired(text, code=code, status=status)
    if code == "429":
        return RateLimited(text, code=code, status=status)
    if code.startswith("5"):
        return Transient(text, code=code, status=status, maybe_delivered=is_write)
    return Permanent(text, code=code, status=status)


class WebsiteConnector:
    """Walks the board newest-activity-first down to the last watermark and publishes answers."""

    channel = CHANNEL

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient,
        *,
        fid: str = "",
        rows: int = 50,
        max_pages: int = 10,
        overlap: dt.timedelta = dt.timedelta(minutes=2),
        initial_lookback: dt.timedelta = dt.timedelta(days=30),
        organization: str = "",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._http = http
        self.fid = fid
        self.rows = rows
        self.max_pages = max_pages
        self.overlap_seconds = int(overlap.total_seconds())
        self.initial_lookback = initial_lookback
        self.organization = organization
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    async def _call(self, path: str, param: Mapping[str, Any], *, idempotency_key: str | None = None) -> Any:
        is_write = idempotency_key is not None
        headers = {API_KEY_HEADER: self._api_key}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = {"param": json.dumps(param, ensure_ascii=False, separators=(",", ":"))}
        response = await send(self._http, "POST", f"{self.base_url}{path}", channel="website",
                              is_write=is_write, json=body, headers=headers)
        if response.status_code >= 300:
            raise http_error(response, "website", is_write=is_write)
        payload = json_body(response, "website", is_write=is_write)
        if not isinstance(payload, Mapping) or "resultCode" not in payload:
            raise Transient("website: response without resultCode", maybe_delivered=is_write)
        code = str(payload["resultCode"])
        if code != OK:
            raise _result_error(code, response.status_code, is_write)
        return payload.get("resultData")

    async def _page(self, after: list[int] | None) -> list[Mapping[str, Any]]:
        param: dict[str, Any] = {"fid": self.fid, "lastItem": "", "rows": self.rows, "orderType": 2}
        if after is not None:
            param["lastDateline"], param["lastItem"] = after[0], str(after[1])
        data = await self._call("/v1/threads/list", param)
        items = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(items, list):
            raise BadPayload("website: resultData.data is not a list")
        return items

    async def pull(self, cursor: str | None) -> Page:
        """Walk new and changed threads (see the module docstring for the cursor)."""
        state = load_cursor(cursor, "website")
        watermark: list[int] | None = state.get("w")
        seen = set(state.get("seen", []))
        walk: dict[str, Any] | None = state.get("walk")
        if watermark is not None:
            floor = watermark[0] - self.overlap_seconds
        else:
            floor = int((self._clock() - self.initial_lookback).timestamp())
        drafts: list[CaseDraft] = []
        for _page in range(self.max_pages):
            items = await self._page(walk["after"] if walk else None)
            if walk is None:
                if not items:
                    return Page(drafts=[], next_cursor=cursor, has_more=False)
                walk = {"top": _position(items[0]), "after": None, "seen": []}
            reached = False
            for item in items:
                dateline, tid = _position(item)
                if dateline < floor:
                    reached = True
                    break
                key = f"{tid}@{dateline}"
                if dateline >= walk["top"][0] - self.overlap_seconds:
                    walk["seen"].append(key)
                if key not in seen:
                    drafts.append(parse_list_item(item))
            if reached or len(items) < self.rows:
                top = max(walk["top"], watermark) if watermark else walk["top"]
                done = {"w": top, "seen": sorted(set(walk["seen"]))}
                return Page(drafts=drafts, next_cursor=dump_cursor(done), has_more=False)
            walk["after"] = _position(items[-1])
        ongoing = {"w": watermark, "seen": sorted(seen), "walk": walk}
        return Page(drafts=drafts, next_cursor=dump_cursor(ongoing), has_more=True)

    async def send_reply(self, *, reply_to: Mapping[str, str], content: str, idempotency_key: str) -> ReplyReceipt:
        """Publish the answer under the thread; a resend with the same key returns the first answer."""
        tid = reply_to.get("tid")
        if not tid:
            raise Permanent("website: reply_to has no tid")
        param = {"tid": tid, "content": content, "organization": self.organization, "requestId": idempotency_key}
        data = await self._call("/v1/threads/answer", param, idempotency_key=idempotency_key)
        answer_id = data.get("answerId") if isinstance(data, Mapping) else None
        return ReplyReceipt(delivered=True, channel_ref=str_or_none(answer_id))
