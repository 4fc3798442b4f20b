"""Sina Weibo: poll ``statuses/mentions`` and ``comments/to_me`` gap-free, answer with ``comments/reply``.

Wire format per ``02_sina_weibo.md`` (``{base}/2/…json``, ``idstr``, ``created_at`` ``%a %b %d %H:%M:%S %z %Y``,
error JSON ``{"error","error_code","request"}`` with the code as number or string). Reads send
``Authorization: OAuth2 <token>`` (so the token never sits in a logged URL); writes send it in the form body,
as in ``comments_reply_request.txt``.

Polling per ``05_incremental_sync_and_rate_limits.md``: a window is read newest-first with ``since_id = W - δ``
(exclusive) and ``count``; each next page asks ``max_id = min id of the previous page - 1`` (inclusive), until
a page is empty or shorter than ``count``. Only then ``W := max id seen``. δ is five seconds of id space
(Weibo ids carry the time in their bits above 22, ≈ 2^22 per second): items committed late just below ``W``
are caught by the next window, and the ids already returned inside that overlap are kept in the cursor
(``seen``) so they are not returned twice. A window longer than ``max_pages`` pages continues in the next pull
(``walk`` in the cursor, ``has_more`` true) with ``W`` unchanged. The first run takes the newest page only.

Cursor: JSON ``{"mentions": {"w": id, "seen": [ids], "walk": {"top", "max_id"}?}, "comments_to_me": {…}}``.
An error in any stream raises and the hub keeps the previous cursor: the next pull repeats that window.

Replies: a comment is answered with ``comments/reply`` (``cid``, ``id``, ``comment``, ``without_mention=0``,
``comment_ori=0``, ``rip``); a mention status with ``comments/create``. Answers longer than 140 characters go
as numbered parts. Neither call is idempotent: a timeout or 5xx after sending sets ``maybe_delivered``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from connectors._common import (
    as_mapping,
    dump_cursor,
    http_error,
    load_cursor,
    make_title,
    send,
    str_or_none,
)
from connectors.base import CaseDraft, CitizenDraft, Page, ReplyReceipt
from connectors.errors import (
    AuthExpired,
    BadPayload,
    BadSignature,
    ChannelError,
    Permanent,
    Transient,
    classify_weibo,
    parse_retry_after,
)

CHANNEL = "WEIBO"
OVERLAP_IDS = 5 << 22  # ≈ 5 s of Weibo id space
MAX_COMMENT_CHARS = 140
MAX_COUNT = 200

# stream name → (path, list key, draft kind)
STREAMS: Mapping[str, tuple[str, str, str]] = {
    "mentions": ("/2/statuses/mentions.json", "statuses", "status"),
    "comments_to_me": ("/2/comments/to_me.json", "comments", "comment"),
    "comments_mentions": ("/2/comments/mentions.json", "comments", "comment"),
}

_MONTHS = {name: index for index, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_LEADING_MENTIONS = re.compile(r"^(?:回复)?(?:@[^\s:：]+[\s:：]*)+")
_WHERE = re.compile(r"我在[:：]\s*(\S+)\s*$")


def parse_created_at(value: str) -> dt.datetime:
    """``Mon Jun 03 10:05:12 +0800 2024`` → aware datetime (locale-independent)."""
    try:
        _weekday, month, day, clock, offset, year = value.split()
        hour, minute, second = (int(part) for part in clock.split(":"))
        sign = -1 if offset[0] == "-" else 1
        tz = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        return dt.datetime(int(year), _MONTHS[month], int(day), hour, minute, second, tzinfo=tz)
    except (ValueError, KeyError, IndexError, AttributeError):
        raise BadPayload("weibo: unparseable created_at") from None


def _id_of(item: Mapping[str, Any], what: str) -> str:
    value = str_or_none(item.get("idstr")) or str_or_none(item.get("id"))
    if value is None or not value.isdigit():
        raise BadPayload(f"weibo: {what} without idstr")
    return value


def _citizen(item: Mapping[str, Any]) -> CitizenDraft:
    user = as_mapping(item.get("user"))
    return CitizenDraft(name=str_or_none(user.get("screen_name")),
                        account_id=str_or_none(user.get("idstr")) or str_or_none(user.get("id")))


def _draft(external_id: str, item: Mapping[str, Any], reply_to: Mapping[str, str]) -> CaseDraft:
    text = str_or_none(item.get("text"))
    if text is None:
        raise BadPayload("weibo: item without text")
    where = _WHERE.search(text)
    return CaseDraft(
        channel=CHANNEL,
        external_id=external_id,
        title=make_title(_LEADING_MENTIONS.sub("", text) or text),
        content=text,
        received_at=parse_created_at(str(item.get("created_at", ""))),
        citizen=_citizen(item),
        address=where.group(1) if where else None,
        reply_to=reply_to,
        raw=dict(item),
    )


def parse_status(status: Mapping[str, Any]) -> CaseDraft:
    """A status that @-mentions the account → CaseDraft (external id ``status:<idstr>``)."""
    sid = _id_of(status, "status")
    return _draft(f"status:{sid}", status, {"id": sid})


def parse_comment(comment: Mapping[str, Any]) -> CaseDraft:
    """A comment to the account → CaseDraft (external id ``comment:<idstr>``, reply via cid + status id)."""
    cid = _id_of(comment, "comment")
    status = comment.get("status")
    if not isinstance(status, Mapping):
        raise BadPayload("weibo: comment without status")
    return _draft(f"comment:{cid}", comment, {"cid": cid, "id": _id_of(status, "status")})


def verify_push_signature(app_secret: str, timestamp: str, nonce: str, signature: str) -> None:
    """Check a 粉丝服务 push: sha1 of the sorted app secret, timestamp and nonce."""
    expected = hashlib.sha1("".join(sorted([app_secret, timestamp, nonce])).encode()).hexdigest()
    if not hmac.compare_digest(expected, (signature or "").lower()):
        raise BadSignature("weibo: push signature mismatch")


def parse_push(payload: Mapping[str, Any]) -> CaseDraft | None:
    """A pushed message → CaseDraft (mentions and private texts), None for events such as follow."""
    kind = payload.get("type")
    if kind == "event":
        return None
    data = as_mapping(payload.get("data"))
    sender = str_or_none(payload.get("sender_id"))
    created = str(payload.get("created_at", ""))
    if sender is None:
        raise BadPayload("weibo: push without sender_id")
    item = {**payload, "user": {"idstr": sender}}
    if kind == "mention" and str_or_none(data.get("key")):
        return _draft(f"status:{data['key']}", item, {"id": str(data["key"])})
    # dedupe key per the doc: sender_id + created_at, hashed so the uid is not in the id
    digest = hashlib.sha256(f"{sender}|{created}".encode()).hexdigest()[:32]
    return _draft(f"push:{digest}", item, {"uid": sender})


def split_comment(content: str, limit: int = MAX_COMMENT_CHARS) -> list[str]:
    """Cut an answer into comments of at most ``limit`` characters, numbered ``(i/n)`` when more than one."""
    text = content.strip()
    if len(text) <= limit:
        return [text]
    size = limit - 7  # room for "(10/12)"
    chunks: list[str] = []
    while text:
        if len(text) <= size:
            chunks.append(text)
            break
        cut = max(text.rfind(mark, 0, size) for mark in "。！？；\n，")
        cut = cut + 1 if cut >= size // 2 else size
        chunks.append(text[:cut].strip())
        text = text[cut:].strip()
    return [f"({index}/{len(chunks)}){chunk}" for index, chunk in enumerate(chunks, start=1)]


class WeiboConnector:
    """Polls mentions and comments with since_id/max_id windows and answers with comments/reply."""

    channel = CHANNEL

    def __init__(
        self,
        base_url: str,
        access_token: str,
        http: httpx.AsyncClient,
        *,
        app_key: str = "",
        app_secret: str = "",
        refresh_token: str | None = None,
        rip: str = "127.0.0.1",
        count: int = 50,
        max_pages: int = 10,
        streams: Sequence[str] = ("mentions", "comments_to_me"),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        unknown = [name for name in streams if name not in STREAMS]
        if unknown:
            raise ValueError(f"unknown weibo streams: {', '.join(unknown)}")
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self._http = http
        self._app_key = app_key
        self._app_secret = app_secret
        self._refresh_token = refresh_token
        self.rip = rip
        self.count = min(count, MAX_COUNT)
        self.max_pages = max_pages
        self.streams = tuple(streams)
        self._clock = clock

    async def _once(self, method: str, path: str, params: Mapping[str, Any]) -> Any:
        is_write = method == "POST"
        url = f"{self.base_url}{path}"
        if is_write:
            response = await send(self._http, "POST", url, channel="weibo", is_write=True,
                                  data={**params, "access_token": self.access_token})
        else:
            response = await send(self._http, "GET", url, channel="weibo", params=params,
                                  headers={"Authorization": f"OAuth2 {self.access_token}"})
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, Mapping) and "error_code" in payload:
            try:
                code = int(payload["error_code"])
            except (TypeError, ValueError):
                raise Permanent("weibo: malformed error_code", status=response.status_code) from None
            raise classify_weibo(code, str(payload.get("error", "")), status=response.status_code,
                                 retry_after=parse_retry_after(response.headers.get("retry-after")),
                                 now=self._clock)
        if response.status_code >= 300:
            raise http_error(response, "weibo", is_write=is_write)
        if payload is None:
            raise Transient("weibo: unparseable response body", status=response.status_code,
                            maybe_delivered=is_write)
        return payload

    async def _call(self, method: str, path: str, params: Mapping[str, Any]) -> Any:
        try:
            return await self._once(method, path, params)
        except AuthExpired:
            if not self._refresh_token:
                raise
            await self.refresh()
            return await self._once(method, path, params)  # an auth refusal delivered nothing: safe to repeat

    async def refresh(self) -> str:
        """Exchange the refresh token for a new access token (``POST /oauth2/access_token``)."""
        if not self._refresh_token:
            raise AuthExpired("weibo: token expired and no refresh token configured")
        response = await send(self._http, "POST", f"{self.base_url}/oauth2/access_token", channel="weibo", data={
            "client_id": self._app_key, "client_secret": self._app_secret,
            "grant_type": "refresh_token", "refresh_token": self._refresh_token,
        })
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, Mapping) or not payload.get("access_token"):
            code = payload.get("error_code") if isinstance(payload, Mapping) else None
            raise AuthExpired("weibo: token refresh failed", code=code, status=response.status_code)
        self.access_token = str(payload["access_token"])
        self._refresh_token = str(payload.get("refresh_token") or self._refresh_token)
        return self.access_token

    async def _walk(self, stream: str, state: Mapping[str, Any]) -> tuple[list[CaseDraft], dict[str, Any], bool]:
        path, list_key, kind = STREAMS[stream]
        parse = parse_status if kind == "status" else parse_comment
        watermark: int | None = state.get("w")
        seen = set(state.get("seen", []))
        walk: dict[str, Any] = dict(state.get("walk") or {"top": None, "max_id": None, "near_top": []})
        since = max(watermark - OVERLAP_IDS, 0) if watermark is not None else None
        drafts: list[CaseDraft] = []
        for _page in range(self.max_pages):
            params: dict[str, Any] = {"count": self.count}
            if since is not None:
                params["since_id"] = since
            if walk["max_id"] is not None:
                params["max_id"] = walk["max_id"]
            payload = await self._call("GET", path, params)
            items = payload.get(list_key) if isinstance(payload, Mapping) else None
            if not isinstance(items, list):
                raise BadPayload(f"weibo: response without {list_key}")
            ids = [int(_id_of(item, kind)) for item in items]
            if ids and walk["top"] is None:
                walk["top"] = max(ids)
            for item_id, item in zip(ids, items, strict=True):
                if walk["top"] is not None and item_id > walk["top"] - OVERLAP_IDS:
                    walk["near_top"].append(item_id)
                if item_id not in seen:
                    drafts.append(parse(item))
            if not items or len(items) < self.count or watermark is None:
                top = max(filter(None, (walk["top"], watermark)), default=None)
                near = sorted({i for i in walk["near_top"] if top is not None and i > top - OVERLAP_IDS})
                return drafts, {"w": top, "seen": near}, False
            walk["max_id"] = min(ids) - 1
        return drafts, {"w": watermark, "seen": sorted(seen), "walk": walk}, True

    async def pull(self, cursor: str | None) -> Page:
        """Read every configured stream's window (see the module docstring for the cursor)."""
        state = load_cursor(cursor, "weibo")
        drafts: list[CaseDraft] = []
        has_more = False
        for stream in self.streams:
            stream_drafts, state[stream], more = await self._walk(stream, state.get(stream) or {})
            drafts.extend(stream_drafts)
            has_more = has_more or more
        return Page(drafts=drafts, next_cursor=dump_cursor(state), has_more=has_more)

    async def send_reply(self, *, reply_to: Mapping[str, str], content: str, idempotency_key: str) -> ReplyReceipt:
        """Answer a comment (comments/reply) or a mention (comments/create); long answers go in parts."""
        status_id = reply_to.get("id")
        if not status_id:
            raise Permanent("weibo: reply_to has no status id (private-message replies are not supported)")
        cid = reply_to.get("cid")
        refs: list[str] = []
        parts = split_comment(content)
        for index, part in enumerate(parts):
            form = {"id": status_id, "comment": part, "comment_ori": "0", "rip": self.rip}
            if cid:
                form.update(cid=cid, without_mention="0")
            try:
                result = await self._call("POST", "/2/comments/reply.json" if cid else "/2/comments/create.json",
                                          form)
            except ChannelError as exc:
                if index:
                    exc.message = f"{exc.message} (after {index} of {len(parts)} parts were delivered)"
                    exc.args = (exc.message,)
                    exc.maybe_delivered = True
                raise
            refs.append(str(result.get("idstr") or result.get("id") or ""))
        return ReplyReceipt(delivered=True, channel_ref=",".join(refs))
