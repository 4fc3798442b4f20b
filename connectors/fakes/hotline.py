"""A fake 12345 platform: the work-order pull API, the reply API, and signed pushes to the hub.

Speaks the format documented in :mod:`connectors.hotline` (camelCase ``OrderSynWide`` items, Jinan-style
``{"code":"0000","data":[…],"total":N}``, HMAC-signed requests).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from connectors._common import CST, format_local_time, parse_local_time
from connectors.errors import BadPayload, BadSignature
from connectors.fakes.base import Endpoint, FakeChannel, Fault, FaultKind, json_response
from connectors.hotline import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers, updated_at, verify_push_signature


class FakeHotline(FakeChannel):
    """The 12345 platform side: holds work orders, serves them by update time, records replies."""

    name = "hotline"

    def __init__(self, secret: str = "hotline-demo-secret", *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.secret = secret
        self.orders: dict[str, dict[str, Any]] = {}
        self._sequence = itertools.count(1)
        self._reply_ids: dict[str, str] = {}

    # --- feeding messages --------------------------------------------------------------------------------

    def post_message(self, content: str, *, title: str | None = None, caller_name: str | None = None,
                     caller_phone: str | None = None, caller_type: str = "咨询", urgency: str = "一般",
                     address: str | None = None, question_name: str | None = None,
                     call_time: dt.datetime | None = None, **extra: Any) -> dict[str, Any]:
        """Register a new work order (as the call centre would) and return its item."""
        moment = call_time or self.clock()
        with self.lock:
            number = next(self._sequence)
            order_num = f"GD{moment.astimezone(CST):%Y%m%d}{number:06d}"
            item: dict[str, Any] = {
                "orderId": str(1798210003881200000 + number),
                "orderNum": order_num,
                "callTime": format_local_time(moment),
                "updateTime": format_local_time(moment),
                "callerName": caller_name,
                "callerPhone": caller_phone,
                "sourceType": "电话",
                "callerType": caller_type,
                "pilotLight": urgency,
                "questionName": question_name,
                "address": address,
                "title": title or content[:20],
                "majorContent": content,
                "orderState": "待办理",
                **extra,
            }
            self.orders[order_num] = item
            return dict(item)

    post_workorder = post_message

    def update_order(self, order_num: str, *, update_time: dt.datetime | None = None, **changes: Any) -> dict[str, Any]:
        """Change a work order (state, content …) and move its ``updateTime``."""
        with self.lock:
            item = self.orders[order_num]
            item.update(changes)
            item["updateTime"] = format_local_time(update_time or self.clock())
            return dict(item)

    def signed_push(self, order_num: str) -> tuple[bytes, dict[str, str]]:
        """Body and headers of the push the platform sends to the hub's ``POST /channels/hotline``."""
        with self.lock:
            body = json.dumps(self.orders[order_num], ensure_ascii=False).encode()
        headers = signed_headers(self.secret, body, now=self.clock().timestamp())
        return body, {**headers, "Content-Type": "application/json; charset=utf-8"}

    async def push(self, http: httpx.AsyncClient, url: str, order_num: str) -> httpx.Response:
        """Push a work order to the hub, signed."""
        body, headers = self.signed_push(order_num)
        return await http.post(url, content=body, headers=headers)

    # --- server ------------------------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, Endpoint, list[str]]]:
        """The pull and reply endpoints."""
        return [("/api/workorders", self._list, ["GET"]),
                ("/api/workorders/{order_num}/reply", self._reply, ["POST"])]

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """Hotline codes for the channel-specific faults."""
        if fault.kind is FaultKind.RATE_LIMIT_CODE:
            return json_response({"code": "4290", "msg": "请求过于频繁"})
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            return json_response({"code": "4010", "msg": "签名已过期"}, status=401)
        return super().render_fault(fault, request)

    def _verified(self, request: Request, payload: bytes) -> bool:
        try:
            verify_push_signature(self.secret, payload, request.headers.get(TIMESTAMP_HEADER, ""),
                                  request.headers.get(SIGNATURE_HEADER, ""), now=self.clock().timestamp())
        except BadSignature:
            return False
        return True

    async def _list(self, request: Request) -> Response:
        if not self._verified(request, request.scope["query_string"]):
            return json_response({"code": "4010", "msg": "签名错误"}, status=401)
        query = dict(urllib.parse.parse_qsl(request.scope["query_string"].decode()))
        try:
            start = parse_local_time(query["startTime"])
            end = parse_local_time(query["endTime"])
            page_number = max(int(query.get("pageNumber", "1")), 1)
            page_size = min(max(int(query.get("pageSize", "20")), 1), 500)
        except (KeyError, ValueError, BadPayload):
            return json_response({"code": "1001", "msg": "参数错误"})
        with self.lock:
            matching = sorted((item for item in self.orders.values() if start <= updated_at(item) < end),
                              key=lambda item: (updated_at(item), item["orderNum"]))
            page = [dict(item) for item in matching[(page_number - 1) * page_size: page_number * page_size]]
        return json_response({"code": "0000", "msg": "成功", "data": page, "total": len(matching)})

    async def _reply(self, request: Request) -> Response:
        body = await request.body()
        if not self._verified(request, body):
            return json_response({"code": "4010", "msg": "签名错误"}, status=401)
        try:
            reply = json.loads(body)
            request_id = str(reply["requestId"])
            content = str(reply["replyContent"])
        except (ValueError, KeyError, TypeError):
            return json_response({"code": "1001", "msg": "参数错误"})
        order_num = request.path_params["order_num"]
        with self.lock:
            if order_num not in self.orders:
                return json_response({"code": "1004", "msg": "工单不存在"})
            if request_id not in self._reply_ids:
                reply_id = f"R{len(self._reply_ids) + 1:08d}"
                self._reply_ids[request_id] = reply_id
                self.record_reply({**reply, "orderNum": order_num, "replyId": reply_id})
                self.update_order(order_num, orderState="已答复", replyContent=content)
            reply_id = self._reply_ids[request_id]
        return json_response({"code": "0000", "msg": "成功", "data": {"replyId": reply_id}})
