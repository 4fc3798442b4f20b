"""A fake Weibo Open API: mentions and comments timelines with since_id/max_id, comments/reply and create,
error JSON, and an OAuth2 refresh endpoint (``02_sina_weibo.md``)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from connectors.fakes.base import Endpoint, FakeChannel, Fault, FaultKind, json_response
from connectors.weibo import MAX_COMMENT_CHARS

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CST = dt.timezone(dt.timedelta(hours=8))
_SOURCE = '<a href="http://app.weibo.com/t/feed/6vtZb0" rel="nofollow">微博 weibo.com</a>'


def format_created_at(moment: dt.datetime) -> str:
    """``Mon Jun 03 10:05:12 +0800 2024`` (locale-independent)."""
    local = moment.astimezone(_CST)
    return (f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
            f"{local:%H:%M:%S} +0800 {local.year}")


def _user(uid: str, screen_name: str, **extra: Any) -> dict[str, Any]:
    return {"id": int(uid), "idstr": uid, "class": 1, "screen_name": screen_name, "name": screen_name,
            "location": "四川 成都", "gender": "f", "verified": False, "verified_type": -1, **extra}


class FakeWeibo(FakeChannel):
    """The Weibo side for one account: mentions, comments to it, replies it posts, its access token."""

    name = "weibo"
    fault_exempt = ("/oauth2/",)

    def __init__(self, access_token: str = "2.00FAKE_TOKEN", *, app_key: str = "FAKE_APP_KEY",
                 app_secret: str = "FAKE_APP_SECRET", refresh_token: str = "FAKE_REFRESH_TOKEN",
                 account_uid: str = "2612345678", account_name: str = "示例市12345政务服务热线",
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.app_key, self.app_secret = app_key, app_secret
        self.access_token, self.refresh_token = access_token, refresh_token
        self.token_expired = False
        self.account = _user(account_uid, account_name, verified=True, verified_type=1)
        self.mentions: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.own_statuses: dict[int, dict[str, Any]] = {}
        self._own_comments: dict[int, dict[str, Any]] = {}
        self._last_id = 0
        self._users = itertools.count(7812345601)
        self.post_status("【提醒】12345热线24小时在线，市民可通过电话、微博、微信反映诉求。")

    def _next_id(self, moment: dt.datetime) -> int:
        # time in the bits above 22, like real mids, strictly increasing
        self._last_id = max(int(moment.timestamp()) << 22, self._last_id + 1)
        return self._last_id

    def _citizen(self, uid: str | None, screen_name: str | None) -> dict[str, Any]:
        uid = uid or str(next(self._users))
        return _user(uid, screen_name or f"市民{uid[-4:]}")

    # --- feeding messages --------------------------------------------------------------------------------

    def post_status(self, text: str) -> dict[str, Any]:
        """A status of the account itself (something citizens comment on)."""
        with self.lock:
            moment = self.clock()
            status_id = self._next_id(moment)
            status = {"created_at": format_created_at(moment), "id": status_id, "idstr": str(status_id),
                      "mid": str(status_id), "text": text, "source": _SOURCE, "user": self.account,
                      "pic_urls": [], "geo": None, "reposts_count": 0, "comments_count": 0}
            self.own_statuses[status_id] = status
            return dict(status)

    def post_message(self, content: str, *, uid: str | None = None, screen_name: str | None = None,
                     geo: tuple[float, float] | None = None, created_at: dt.datetime | None = None,
                     status_id: int | None = None) -> dict[str, Any]:
        """A citizen's status that @-mentions the account; ``status_id`` forces an id (a late commit)."""
        with self.lock:
            moment = created_at or self.clock()
            status_id = status_id if status_id is not None else self._next_id(moment)
            status = {
                "created_at": format_created_at(moment), "id": status_id, "idstr": str(status_id),
                "mid": str(status_id), "can_edit": False,
                "text": f"@{self.account['screen_name']} {content}", "source": _SOURCE,
                "favorited": False, "truncated": False, "in_reply_to_status_id": "",
                "in_reply_to_user_id": "", "in_reply_to_screen_name": "", "pic_urls": [],
                "geo": {"type": "Point", "coordinates": list(geo)} if geo else None,
                "user": self._citizen(uid, screen_name), "reposts_count": 0, "comments_count": 0,
                "attitudes_count": 0, "mlevel": 0, "visible": {"type": 0, "list_id": 0},
            }
            self.mentions.append(status)
            return dict(status)

    post_mention = post_message

    def post_comment(self, content: str, *, status_id: int | None = None, reply_to_cid: int | None = None,
                     uid: str | None = None, screen_name: str | None = None) -> dict[str, Any]:
        """A citizen's comment on one of the account's statuses (or a reply to one of its comments)."""
        with self.lock:
            moment = self.clock()
            status = self.own_statuses[status_id] if status_id else next(iter(self.own_statuses.values()))
            comment_id = self._next_id(moment)
            comment: dict[str, Any] = {
                "created_at": format_created_at(moment), "id": comment_id, "idstr": str(comment_id),
                "mid": str(comment_id), "rootid": comment_id, "text": content, "source": _SOURCE,
                "user": self._citizen(uid, screen_name), "status": status,
            }
            if reply_to_cid is not None:
                replied = self._own_comments[reply_to_cid]
                comment["reply_comment"] = {key: replied[key] for key in ("created_at", "id", "idstr", "mid",
                                                                           "text", "user")}
                comment["rootid"] = replied["rootid"]
            self.comments.append(comment)
            return dict(comment)

    def expire_token(self) -> None:
        """Make the current access token expired (21327) until the client refreshes it."""
        with self.lock:
            self.token_expired = True

    # --- server ------------------------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, Endpoint, list[str]]]:
        """Timelines, reply/create and the OAuth2 token endpoint."""
        return [("/2/statuses/mentions.json", self._timeline, ["GET"]),
                ("/2/comments/to_me.json", self._timeline, ["GET"]),
                ("/2/comments/mentions.json", self._timeline, ["GET"]),
                ("/2/comments/reply.json", self._write, ["POST"]),
                ("/2/comments/create.json", self._write, ["POST"]),
                ("/oauth2/access_token", self._refresh, ["POST"])]

    def _error(self, request: Request, code: int, message: str, status: int = 400) -> Response:
        return json_response({"error": message, "error_code": code, "request": request.url.path}, status=status)

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """Weibo bodies for the channel-specific faults (10023 comes with HTTP 403, as seen in the wild)."""
        if fault.kind is FaultKind.RATE_LIMIT_CODE:
            response = self._error(request, 10023, "User requests out of rate limit!", status=403)
            if fault.retry_after:
                response.headers["Retry-After"] = fault.retry_after
            return response
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            return self._error(request, 21327, "expired_token", status=401)
        return super().render_fault(fault, request)

    def _auth_error(self, request: Request, token: str | None) -> Response | None:
        if token != self.access_token:
            return self._error(request, 21332, "invalid_access_token", status=401)
        if self.token_expired:
            return self._error(request, 21327, "expired_token", status=401)
        return None

    async def _timeline(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("OAuth2 ") else request.query_params.get("access_token")
        with self.lock:
            denied = self._auth_error(request, token)
            if denied:
                return denied
            path = request.url.path
            if path.endswith("mentions.json") and "statuses" in path:
                pool, key, default = self.mentions, "statuses", 20
            elif path.endswith("to_me.json"):
                pool, key, default = self.comments, "comments", 50
            else:
                needle = f"@{self.account['screen_name']}"
                pool, key, default = [c for c in self.comments if needle in c["text"]], "comments", 50
            try:
                query = request.query_params
                since_id = int(query.get("since_id") or 0)
                max_id = int(query.get("max_id") or 0)
                count = min(max(int(query.get("count") or default), 1), 200)
                page = max(int(query.get("page") or 1), 1)
            except ValueError:
                return self._error(request, 10008, "param error, see doc for more info")
            window = sorted((item for item in pool if item["id"] > since_id and (not max_id or item["id"] <= max_id)),
                            key=lambda item: item["id"], reverse=True)
            chunk = [dict(item) for item in window[(page - 1) * count: page * count]]
        more = len(window) > page * count
        return json_response({key: chunk, "hasvisible": False, "previous_cursor": 0,
                              "next_cursor": chunk[-1]["id"] - 1 if chunk and more else 0,
                              "total_number": len(window)})

    async def _write(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        is_reply = request.url.path.endswith("reply.json")
        with self.lock:
            denied = self._auth_error(request, form.get("access_token"))
            if denied:
                return denied
            required = ("cid", "id", "comment", "rip") if is_reply else ("id", "comment", "rip")
            if any(not form.get(name) for name in required):
                return self._error(request, 10016, "miss required parameter, see doc for more info")
            if len(form["comment"]) > MAX_COMMENT_CHARS:
                return self._error(request, 20012, "Text too long, please input text less than 140 characters!")
            status = self.own_statuses.get(int(form["id"])) or next(
                (s for s in self.mentions if s["id"] == int(form["id"])), None)
            replied = next((c for c in self.comments if c["id"] == int(form.get("cid") or 0)), None)
            if status is None or (is_reply and replied is None):
                return self._error(request, 20101, "target weibo does not exist!")
            moment = self.clock()
            comment_id = self._next_id(moment)
            text = form["comment"]
            if replied is not None and form.get("without_mention", "0") == "0":
                text = f"回复@{replied['user']['screen_name']}:{text}"
            comment: dict[str, Any] = {
                "created_at": format_created_at(moment), "id": comment_id, "idstr": str(comment_id),
                "mid": str(comment_id), "rootid": replied["rootid"] if replied else comment_id, "text": text,
                "source": _SOURCE, "user": self.account, "status": status,
            }
            if replied is not None:
                comment["reply_comment"] = {key: replied[key] for key in ("created_at", "id", "idstr", "mid",
                                                                           "text", "user")}
            self._own_comments[comment_id] = comment
            self.record_reply({**{k: v for k, v in form.items() if k != "access_token"},
                               "endpoint": request.url.path, "idstr": str(comment_id)})
        return json_response(comment)

    async def _refresh(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        with self.lock:
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
                return self._error(request, 21325, "invalid_grant")
            if form.get("client_id") != self.app_key or form.get("client_secret") != self.app_secret:
                return self._error(request, 21323, "invalid_client")
            self.access_token = f"2.00FAKE_TOKEN_{self._next_id(self.clock()) % 100000:05d}"
            self.token_expired = False
            return json_response({"access_token": self.access_token, "expires_in": 157679999,
                                  "remind_in": "157679999", "uid": self.account["idstr"],
                                  "refresh_token": self.refresh_token})
