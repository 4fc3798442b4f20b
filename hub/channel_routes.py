"""The channels' push endpoints: ``GET|POST /channels/wechat`` (WeChat server callback) and
``POST /channels/hotline`` (a 12345 platform work-order push).

Both store the message before answering (idempotently, so a retried delivery gets the same case number; a WeChat
message is stored as pending intake with its reserved number, its case created right after) and refuse
forged or malformed requests without storing anything: bad signature → 403, bad payload → 400. WeChat gets a
passive reply with the case number inside its 5-second window; should storing take longer, the store goes on in
the background and WeChat gets a plain acknowledgement instead.

Storing goes through the process's :class:`~hub.ingest.batcher.PushBatcher` (group commit): concurrent pushes
share one transaction, and each request still waits for its own case before it answers. A batch whose
transaction fails answers 500 to every request in it (the channel retries; nothing was stored).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.errors import BadPayload, BadSignature
from connectors.hotline import parse_push
from connectors.registry import ConfigError, wechat_callback
from connectors.wechat import Inbound, WeChatCallback, dedupe_key
from hub.errors import SettingsError, ValidationFailed
from hub.events import EventBus
from hub.ingest.batcher import PushBatcher
from hub.ingest.config import connector_config
from hub.ingest.service import PushResult
from hub.logs import request_id_var
from hub.routing.suggester import default_suggester
from hub.settings import Settings

log = logging.getLogger("hub.channels")

ACCEPTED = "您的诉求已受理，编号{case_no}。我们会尽快办理，并在这里答复您。"
STILL_STORING = "您的诉求已收到，正在登记，办理结果会在这里答复您。"
REFUSED = "抱歉，这条消息未能受理（内容为空或过长），请调整后重新发送。"
WELCOME = "感谢关注！直接发送文字、图片、语音或位置即可反映诉求，我们会告诉您受理编号，并在这里答复办理结果。"


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status,
                    media_type="application/json; charset=utf-8")


def _request_id(request: Request) -> str:
    """The caller's X-Request-ID or a new one, set for this request's log lines."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
    request_id_var.set(request_id)  # each request runs in its own context: nothing to reset
    return request_id


def _wechat_verifier(settings: Settings) -> WeChatCallback | None:
    config = connector_config(settings, "wechat")
    if not (config.credentials.get("token") and config.credentials.get("appid")):
        return None
    try:
        return wechat_callback(config)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


def channel_router(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus | None = None,
    reply_within_seconds: float = 4.0,
    warm_up: bool = True,
    batcher: PushBatcher | None = None,
) -> APIRouter:
    """The push endpoints; a channel whose settings are missing answers 503 (SettingsError on invalid ones).

    ``warm_up`` loads the category model now (about a second, once per process) rather than inside the first
    citizen's 5-second WeChat window. ``batcher`` stores the pushes (the app starts and drains it with its
    lifespan); without one the router makes its own, started by the first push.
    """
    router = APIRouter(tags=["channels"])
    verifier = _wechat_verifier(settings)
    if warm_up:
        default_suggester().suggest("预热", "预热")
    hotline_secret = settings.hotline_secret
    pushes = batcher or PushBatcher(sessions, settings, bus=bus)

    def _log_late_failure(future: asyncio.Future[PushResult]) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            log.error("storing a WeChat message failed after the reply: %s", type(error).__name__)

    # Plain Starlette routes (no FastAPI dependency solving or validation: the body is bytes checked by the
    # connector); at hundreds of callbacks a second that per-request overhead is worth skipping.
    async def wechat(request: Request) -> Response:
        if verifier is None:
            return Response("wechat channel not configured", status_code=503, media_type="text/plain")
        request_id = _request_id(request)

        async def on_message(inbound: Inbound) -> str | None:
            if inbound.draft is None and (inbound.message.event or "").lower() != "subscribe":
                return None  # menu clicks, location reports …: acknowledged, nothing to store
            stored = pushes.enqueue("wechat", inbound.draft, dedupe_key(inbound.message), request_id=request_id)
            try:
                result = await asyncio.wait_for(asyncio.shield(stored), timeout=reply_within_seconds)
            except TimeoutError:
                stored.add_done_callback(_log_late_failure)
                log.warning("WeChat message still being stored at the reply deadline")
                return STILL_STORING
            except ValidationFailed:
                return REFUSED
            if result.number is None:
                return WELCOME
            return ACCEPTED.format(case_no=result.number)

        try:
            answer = await verifier.handle(request.method, dict(request.query_params), await request.body(),
                                           on_message)
        except Exception as exc:  # the database is away: 500 makes WeChat retry, which is what we want
            log.error("WeChat callback failed: %s", type(exc).__name__)
            return Response("error", status_code=500, media_type="text/plain")
        if answer.error:
            log.warning("WeChat callback refused (%d): %s", answer.status, answer.error)
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type,
                        headers=dict(answer.headers))

    async def hotline(request: Request) -> Response:
        if not hotline_secret:
            return _json({"code": "5030", "msg": "hotline channel not configured"}, 503)
        request_id = _request_id(request)
        try:
            draft = parse_push(hotline_secret, await request.body(), dict(request.headers))
        except BadSignature as exc:
            log.warning("hotline push refused: %s", exc.message)
            return _json({"code": "4030", "msg": "签名校验失败"}, 403)
        except BadPayload as exc:
            log.warning("hotline push unreadable: %s", exc.message)
            return _json({"code": "4000", "msg": exc.message}, 400)
        try:
            result = await pushes.submit("hotline", draft, None, request_id=request_id)
        except ValidationFailed as exc:
            return _json({"code": "4220", "msg": exc.message}, 400)
        assert result.number is not None
        return _json({"code": "0000", "msg": "成功", "data": {"caseNo": result.number,
                                                              "repeated": not result.created}})

    router.add_route("/channels/wechat", wechat, methods=["GET", "POST"], include_in_schema=False)
    router.add_route("/channels/hotline", hotline, methods=["POST"], include_in_schema=False)
    return router
