"""A fake district message board in people.cn's style (see :mod:`connectors.website` for the endpoints)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from connectors.fakes.base import Endpoint, FakeChannel, Fault, FaultKind, json_response
from connectors.website import API_KEY_HEADER

BOARD_INDENT = "\n\t\t\t\t\t\n\t\t\t\t\t"  # what the board's pages wrap 留言详情 in
BOARD_TAIL = "\n\t\t\t\t\t\n\t\t\t\t"


def _ok(data: Any) -> Response:
    return json_response({"resultCode": "200", "resultMsg": "success", "resultData": data})


def _fail(code: str, message: str, status: int = 200) -> Response:
    return json_response({"resultCode": code, "resultMsg": message, "resultData": None}, status=status)


class FakeWebsite(FakeChannel):
    """The board side: threads, a keyset list newest-activity-first, thread content, answers."""

    name = "website"

    def __init__(self, api_key: str = "website-demo-key", *, fid: str = "585",
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.api_key = api_key
        self.fid = fid
        self.threads: dict[int, dict[str, Any]] = {}
        self._answers: dict[str, dict[str, Any]] = {}
        self._next_tid = 19302878

    def _now(self) -> int:
        return int(self.clock().timestamp())

    # --- feeding messages --------------------------------------------------------------------------------

    def post_message(self, content: str, *, title: str | None = None, nick_name: str = "网友1a2b3c",
                     type_name: str = "咨询", domain_name: str | None = None,
                     created_at: dt.datetime | None = None, board_whitespace: bool = True) -> dict[str, Any]:
        """Post a citizen's message on the board; returns the list item."""
        moment = int(created_at.timestamp()) if created_at else self._now()
        with self.lock:
            self._next_tid += 1
            tid = self._next_tid
            self.threads[tid] = {
                "tid": tid, "fid": int(self.fid) if self.fid.isdigit() else self.fid,
                "subject": title or content[:20],
                "content": f"{BOARD_INDENT}{content}{BOARD_TAIL}" if board_whitespace else content,
                "nickName": nick_name, "typeName": type_name, "domainName": domain_name,
                "stateInfo": "待回复", "createDateline": moment, "dateline": moment,
                "threadsCheckTime": moment, "lastAnswerTime": None, "answers": [],
            }
            return self._item(tid)

    def update_message(self, tid: int, *, at: dt.datetime | None = None, **changes: Any) -> dict[str, Any]:
        """Change a thread (state, content …) and move its ``dateline`` to now."""
        with self.lock:
            self.threads[tid].update(changes)
            self.threads[tid]["dateline"] = int(at.timestamp()) if at else self._now()
            return self._item(tid)

    def _item(self, tid: int) -> dict[str, Any]:
        return {key: value for key, value in self.threads[tid].items() if key != "answers"}

    # --- server ------------------------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, Endpoint, list[str]]]:
        """List, content and answer endpoints."""
        return [("/v1/threads/list", self._list, ["POST"]),
                ("/v1/threads/content", self._content, ["POST"]),
                ("/v1/threads/answer", self._answer, ["POST"])]

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """Board codes for the channel-specific faults."""
        if fault.kind is FaultKind.RATE_LIMIT_CODE:
            return _fail("429", "访问过于频繁", status=429)
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            return _fail("401", "invalid api key", status=401)
        return super().render_fault(fault, request)

    async def _param(self, request: Request) -> dict[str, Any] | Response:
        if request.headers.get(API_KEY_HEADER) != self.api_key:
            return _fail("401", "invalid api key", status=401)
        try:
            param = json.loads((await request.json())["param"])
        except (ValueError, KeyError, TypeError):
            return _fail("400", "param 格式错误")
        return param if isinstance(param, dict) else _fail("400", "param 格式错误")

    async def _list(self, request: Request) -> Response:
        param = await self._param(request)
        if isinstance(param, Response):
            return param
        rows = min(max(int(param.get("rows") or 10), 1), 100)
        by_activity = int(param.get("orderType") or 1) == 2
        last = str(param.get("lastItem") or "")
        with self.lock:
            def key(thread: dict[str, Any]) -> tuple[int, int]:
                return (thread["dateline"], thread["tid"]) if by_activity else (thread["tid"], 0)

            ordered = sorted(self.threads.values(), key=key, reverse=True)
            if last:
                if by_activity and param.get("lastDateline") is not None:
                    position = (int(param["lastDateline"]), int(last))
                elif int(last) in self.threads:
                    position = key(self.threads[int(last)])
                else:
                    return _fail("404", "lastItem 不存在")
                ordered = [thread for thread in ordered if key(thread) < position]
            page = [self._item(thread["tid"]) for thread in ordered[:rows]]
        return _ok({"data": page})

    async def _content(self, request: Request) -> Response:
        param = await self._param(request)
        if isinstance(param, Response):
            return param
        with self.lock:
            thread = self.threads.get(int(param.get("tid") or 0))
            if thread is None:
                return _fail("404", "留言不存在")
            first = {"content": thread["content"], "dateline": thread["createDateline"],
                     "nickName": thread["nickName"], "stateInfo": thread["stateInfo"],
                     "subject": thread["subject"], "tags": thread["domainName"]}
            return _ok({"contentList": [first, *thread["answers"]]})

    async def _answer(self, request: Request) -> Response:
        param = await self._param(request)
        if isinstance(param, Response):
            return param
        request_id = str(param.get("requestId") or "")
        content = str(param.get("content") or "")
        try:
            tid = int(param.get("tid") or 0)
        except ValueError:
            tid = 0
        if not request_id or not content:
            return _fail("400", "缺少 requestId 或 content")
        with self.lock:
            if tid not in self.threads:
                return _fail("404", "留言不存在")
            if request_id not in self._answers:
                now = self._now()
                answer = {"answerId": f"A{len(self._answers) + 1:08d}", "tid": tid, "content": content,
                          "organization": param.get("organization") or "", "dateline": now}
                self._answers[request_id] = answer
                self.threads[tid]["answers"].append(answer)
                self.threads[tid].update(stateInfo="已办理", lastAnswerTime=now, dateline=now)
                self.record_reply({**answer, "requestId": request_id})
            answer = self._answers[request_id]
        return _ok({"answerId": answer["answerId"], "tid": tid, "stateInfo": "已办理"})
