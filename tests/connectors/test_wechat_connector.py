"""WeChat: message/event parsing, the callback over real HTTP in three modes, customer-service sends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.base import CaseDraft
from connectors.errors import ChannelError, RateLimited, Transient, WindowClosed
from connectors.fakes import FakeWeChat, FaultKind, RunningServer, random_openid, serve
from connectors.wechat import (
    ACK,
    Inbound,
    WeChatCallback,
    WeChatConnector,
    dedupe_key,
    parse_message,
    to_draft,
)

MESSAGES = ["in_text.xml", "in_image.xml", "in_voice.xml", "in_location.xml", "in_link.xml"]
EVENTS = ["in_event_subscribe.xml", "in_event_subscribe_qrscene.xml", "in_event_click.xml",
          "in_event_location.xml"]


@pytest.mark.parametrize("name", MESSAGES)
def test_message_fixtures_become_drafts(fx: Any, name: str) -> None:
    message = parse_message(fx.bytes(f"wechat/{name}"))
    draft = to_draft(message)
    assert draft is not None and draft.channel == "WECHAT"
    assert draft.external_id == message.msg_id == message.fields["MsgId"]
    assert draft.citizen.account_id == "oQx1a5Tz3KpL8vN2mR7sW0yB4cDe"
    assert draft.reply_to == {"openid": "oQx1a5Tz3KpL8vN2mR7sW0yB4cDe", "account": "gh_7c2a9e41b3d5"}
    assert draft.raw == fx.text(f"wechat/{name}") and draft.content


def test_message_details(fx: Any) -> None:
    text = to_draft(parse_message(fx.bytes("wechat/in_text.xml")))
    assert text is not None and text.content.endswith("地址：和平路88号")
    assert text.received_at == dt.datetime.fromtimestamp(1717380000, dt.UTC)
    location = to_draft(parse_message(fx.bytes("wechat/in_location.xml")))
    assert location is not None and location.address == "四川省成都市武侯区和平路88号"
    link = to_draft(parse_message(fx.bytes("wechat/in_link.xml")))
    assert link is not None and link.title == "关于小区噪音扰民的情况说明"


def test_events_are_deduplicated_but_not_cases(fx: Any) -> None:
    keys = set()
    for name in EVENTS:
        message = parse_message(fx.bytes(f"wechat/{name}"))
        assert message.is_event and to_draft(message) is None
        key = dedupe_key(message)
        assert key.startswith("event:") and "oQx1a5" not in key
        assert key == dedupe_key(parse_message(fx.bytes(f"wechat/{name}")))
        keys.add(key)
    assert len(keys) == len(EVENTS)


def test_fixture_requests_open(fx: Any) -> None:
    keys = fx.json("wechat/KEYS_FOR_FIXTURES.json")
    callback = WeChatCallback(keys["token"], keys["appid"], keys["encoding_aes_key"])
    lines = fx.text("wechat/in_text_safe_mode_request.txt").split("\n\n", 1)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(lines[0].splitlines()[0].split()[1]).query))
    inbound = callback.open(query, lines[1].encode())
    assert inbound.mode == "safe" and inbound.message.msg_id == "24591738402315786"
    compat = callback.open(query, fx.bytes("wechat/in_text_compat_mode_body.xml"))
    assert compat.mode == "compat" and compat.draft == inbound.draft
    get = keys["get_verify"]
    assert callback.handshake({**get}) == get["echostr"] == fx.text("wechat/get_verify_request.txt").split()[-1]


class HubStandIn:
    """What the hub's ``/channels/wechat`` does, reduced to a dict: store once, answer with a case number."""

    def __init__(self, callback: WeChatCallback) -> None:
        self.callback = callback
        self.stored: dict[str, CaseDraft] = {}
        app = Starlette(routes=[Route("/channels/wechat", self.endpoint, methods=["GET", "POST"])])
        self.server: RunningServer = serve(app)
        self.url = f"{self.server.base_url}/channels/wechat"

    async def on_message(self, inbound: Inbound) -> str | None:
        if inbound.draft is None:
            return None
        self.stored.setdefault(dedupe_key(inbound.message), inbound.draft)
        return f"您的诉求已受理，工单编号 NH{len(self.stored):012d}"

    async def endpoint(self, request: Request) -> Response:
        result = await self.callback.handle(request.method, dict(request.query_params), await request.body(),
                                            self.on_message)
        return Response(result.body, status_code=result.status, media_type=result.media_type)


@pytest.fixture
def platform(clock: Any) -> Iterator[FakeWeChat]:
    with FakeWeChat(clock=clock) as server:
        yield server


@pytest.fixture
def hub(platform: FakeWeChat) -> Iterator[HubStandIn]:
    stand_in = HubStandIn(WeChatCallback(platform.token, platform.appid, platform.encoding_aes_key))
    yield stand_in
    stand_in.server.stop()


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
async def test_callback_modes_store_once_and_reply(platform: FakeWeChat, hub: HubStandIn,
                                                  http: httpx.AsyncClient, mode: str) -> None:
    xml = platform.post_message("路灯坏了一个多月", openid=random_openid())
    first = await platform.deliver(http, hub.url, xml, mode=mode)
    again = await platform.deliver(http, hub.url, xml, mode=mode)  # WeChat's retry of the same message
    assert first.status_code == again.status_code == 200 and len(hub.stored) == 1
    if mode != "plain":
        assert "<Encrypt>" in first.text and "路灯" not in first.text
    reply = parse_message(platform.passive_replies[0])
    assert reply.fields["Content"].startswith("您的诉求已受理，工单编号 NH")
    assert reply.to_user == parse_message(xml).from_user


async def test_events_are_acknowledged(platform: FakeWeChat, hub: HubStandIn, http: httpx.AsyncClient) -> None:
    response = await platform.deliver(http, hub.url, platform.event_message(random_openid(), "subscribe"))
    assert response.text == ACK and hub.stored == {}


async def test_handshake(platform: FakeWeChat, hub: HubStandIn, http: httpx.AsyncClient) -> None:
    request = platform.handshake_request("5837166812471290443")
    assert (await http.get(request.url(hub.url))).text == "5837166812471290443"
    forged = dataclasses.replace(request, params={**request.params, "signature": "0" * 40})
    assert (await http.get(forged.url(hub.url))).status_code == 403


def _tampered(platform: FakeWeChat, xml: str, how: str) -> Any:
    request = platform.callback_request(xml, mode="safe")
    if how == "forged signature":
        return dataclasses.replace(request, params={**request.params, "signature": "1" * 40})
    if how == "bad msg_signature":
        return dataclasses.replace(request, params={**request.params, "msg_signature": "2" * 40})
    encrypt = platform.crypto.encrypt(xml)
    if how == "truncated AES":
        return platform.callback_request(xml, mode="safe", encrypt_override=encrypt[: len(encrypt) // 2])
    if how == "garbled AES":
        return platform.callback_request(xml, mode="safe", encrypt_override="A" * 64)
    other = FakeWeChat(appid="wx0000000000000000")
    return other.callback_request(xml, mode="safe")


@pytest.mark.parametrize(
    ("how", "status"),
    [("forged signature", 403), ("bad msg_signature", 403), ("truncated AES", 400), ("garbled AES", 400),
     ("wrong appid", 403)],
)
async def test_refused_callbacks_store_nothing(platform: FakeWeChat, hub: HubStandIn, http: httpx.AsyncClient,
                                               how: str, status: int) -> None:
    request = _tampered(platform, platform.post_message("诉求", openid=random_openid()), how)
    response = await http.post(request.url(hub.url), content=request.body, headers=dict(request.headers))
    assert response.status_code == status and hub.stored == {}


def connector(platform: FakeWeChat, http: httpx.AsyncClient, clock: Any) -> WeChatConnector:
    return WeChatConnector(platform.base_url, platform.appid, platform.appsecret, http, clock=clock)


async def test_customer_service_send_in_wechat_format(fx: Any, platform: FakeWeChat, http: httpx.AsyncClient,
                                                      clock: Any) -> None:
    expected = fx.json("wechat/kf_send_text_request.json")
    platform.post_message("路灯坏了", openid=expected["touser"])
    wechat = connector(platform, http, clock)
    receipt = await wechat.send_reply(reply_to={"openid": expected["touser"]}, content=expected["text"]["content"],
                                      idempotency_key="k1")
    assert receipt.delivered and platform.replies == [expected]
    assert (await wechat.pull("c")).next_cursor == "c"


@pytest.mark.parametrize("expire", ["tokens", "fault"])
async def test_expired_token_refresh_then_success(platform: FakeWeChat, http: httpx.AsyncClient, clock: Any,
                                                  expire: str) -> None:
    openid = random_openid()
    platform.post_message("问题", openid=openid)
    wechat = connector(platform, http, clock)
    await wechat.send_reply(reply_to={"openid": openid}, content="第一条", idempotency_key="a")
    if expire == "tokens":
        platform.expire_tokens()
    else:
        platform.inject(FaultKind.EXPIRED_TOKEN)
    await wechat.send_reply(reply_to={"openid": openid}, content="第二条", idempotency_key="b")
    assert [r["text"]["content"] for r in platform.replies] == ["第一条", "第二条"]
    assert [path for _, path in platform.requests].count("/cgi-bin/token") == 2


async def test_window_closed_after_48_hours(platform: FakeWeChat, http: httpx.AsyncClient, clock: Any) -> None:
    openid = random_openid()
    platform.post_message("问题", openid=openid, create_time=clock() - dt.timedelta(hours=49))
    with pytest.raises(WindowClosed) as caught:
        await connector(platform, http, clock).send_reply(reply_to={"openid": openid}, content="答复",
                                                          idempotency_key="k")
    assert caught.value.code == 45015 and openid not in str(caught.value) and platform.replies == []


@pytest.mark.parametrize(
    ("kind", "error", "maybe_delivered"),
    [(FaultKind.RATE_LIMIT_CODE, RateLimited, False), (FaultKind.SERVER_ERROR, Transient, True),
     (FaultKind.GARBAGE, Transient, True)],
)
async def test_send_faults(platform: FakeWeChat, http: httpx.AsyncClient, clock: Any, kind: FaultKind,
                           error: type[ChannelError], maybe_delivered: bool) -> None:
    openid = random_openid()
    platform.post_message("问题", openid=openid)
    wechat = connector(platform, http, clock)
    platform.inject(kind, path="/cgi-bin/message/custom/send")
    with pytest.raises(error) as caught:
        await wechat.send_reply(reply_to={"openid": openid}, content="答复", idempotency_key="k")
    assert caught.value.maybe_delivered is maybe_delivered
    await wechat.send_reply(reply_to={"openid": openid}, content="答复", idempotency_key="k")
    assert len(platform.replies) == 1
