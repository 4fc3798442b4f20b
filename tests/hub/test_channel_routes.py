"""`/channels/wechat` and `/channels/hotline` over real HTTP: stored once, answered in time, forgeries refused."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from channel_kit import cases, count, minutes_ago, serve_here, wire
from fastapi import FastAPI
from helpers import draft
from sqlalchemy import text as sa_text

from connectors.fakes import FakeHotline, FakeWeChat, random_openid
from connectors.hotline import signed_headers
from connectors.wechat import ACK, parse_message
from hub.app import create_app
from hub.cases.models import Case
from hub.channel_routes import REFUSED, WELCOME, channel_router
from hub.citizens.models import CitizenIdentity
from hub.events import LocalBus
from hub.ingest import batcher as batcher_module
from hub.ingest.batcher import BatcherClosed, PushBatcher
from hub.ingest.records import InboundReceipt, PendingIntake


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    with FakeWeChat() as running:
        yield running


@pytest.fixture
def hotline() -> Iterator[FakeHotline]:
    with FakeHotline() as running:
        yield running


@pytest.fixture
async def pushes(db: Any, wechat: FakeWeChat, hotline: FakeHotline) -> AsyncIterator[PushBatcher]:
    """The batcher storing the endpoints' pushes (the app's lifespan would start and drain it)."""
    batcher = PushBatcher(db.sessions, wire(db.settings, wechat, hotline), bus=LocalBus(), linger_seconds=0.02)
    yield batcher
    await batcher.aclose()


@pytest.fixture
async def hub(db: Any, wechat: FakeWeChat, hotline: FakeHotline, pushes: PushBatcher) -> AsyncIterator[str]:
    """The hub's channel endpoints served on this loop; yields the base URL."""
    app = FastAPI()
    app.include_router(channel_router(settings=pushes.settings, sessions=db.sessions, bus=pushes.bus,
                                      batcher=pushes))
    async with serve_here(app) as base:
        yield base


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_handshake(hub: str, wechat: FakeWeChat, http: httpx.AsyncClient) -> None:
    request = wechat.handshake_request("5837166812471290443")
    assert (await http.get(request.url(f"{hub}/channels/wechat"))).text == "5837166812471290443"
    forged = dataclasses.replace(request, params={**request.params, "signature": "0" * 40})
    assert (await http.get(forged.url(f"{hub}/channels/wechat"))).status_code == 403


@pytest.mark.parametrize("mode", ["safe", "compat", "plain"])
async def test_a_message_becomes_one_case_and_the_reply_names_it(db: Any, hub: str, wechat: FakeWeChat,
                                                                  http: httpx.AsyncClient, pushes: PushBatcher,
                                                                  mode: str) -> None:
    openid = random_openid()
    xml = wechat.post_message("和平路88号门口井盖缺失，很危险，请尽快处理。", openid=openid)
    started = time.perf_counter()
    first = await wechat.deliver(http, f"{hub}/channels/wechat", xml, mode=mode)
    elapsed = time.perf_counter() - started
    retried = await wechat.deliver(http, f"{hub}/channels/wechat", xml, mode=mode)  # WeChat's retry
    assert first.status_code == retried.status_code == 200 and elapsed < 1.0
    await pushes.drainer.settled()  # the case is created after the reply, with the number the reply named
    (case,) = await cases(db)
    replies = [parse_message(reply).fields["Content"] for reply in wechat.passive_replies]
    assert replies == [f"您的诉求已受理，编号{case.case_no}。我们会尽快办理，并在这里答复您。"] * 2
    assert parse_message(wechat.passive_replies[0]).to_user == openid
    if mode != "plain":
        assert "<Encrypt>" in first.text and case.case_no not in first.text
    assert case.channel.value == "WECHAT" and case.raw_payload == xml and case.reply_to["openid"] == openid
    assert await count(db, CitizenIdentity, CitizenIdentity.kind == "WECHAT",
                       CitizenIdentity.value == openid) == 1


async def test_events_are_deduplicated_without_a_case(db: Any, hub: str, wechat: FakeWeChat,
                                                      http: httpx.AsyncClient) -> None:
    openid = random_openid()
    subscribe = wechat.event_message(openid, "subscribe")
    for _delivery in range(2):
        await wechat.deliver(http, f"{hub}/channels/wechat", subscribe)
    click = await wechat.deliver(http, f"{hub}/channels/wechat", wechat.event_message(openid, "CLICK", event_key="M1"))
    assert [parse_message(r).fields["Content"] for r in wechat.passive_replies[:2]] == [WELCOME, WELCOME]
    assert click.text == ACK and await count(db, Case) == 0 and await count(db, InboundReceipt) == 1


def _tampered(wechat: FakeWeChat, xml: str, how: str) -> Any:
    request = wechat.callback_request(xml, mode="safe")
    if how == "forged signature":
        return dataclasses.replace(request, params={**request.params, "signature": "1" * 40})
    if how == "bad msg_signature":
        return dataclasses.replace(request, params={**request.params, "msg_signature": "2" * 40})
    encrypt = wechat.crypto.encrypt(xml)
    if how == "truncated AES":
        return wechat.callback_request(xml, mode="safe", encrypt_override=encrypt[: len(encrypt) // 2])
    if how == "garbled AES":
        return wechat.callback_request(xml, mode="safe", encrypt_override="A" * 64)
    return FakeWeChat(appid="wx0000000000000000").callback_request(xml, mode="safe")


REFUSALS = {"forged signature": 403, "bad msg_signature": 403, "truncated AES": 400, "garbled AES": 400,
            "wrong appid": 403}


async def test_refused_callbacks_store_nothing(db: Any, hub: str, wechat: FakeWeChat, http: httpx.AsyncClient) -> None:
    statuses = {}
    for how in REFUSALS:
        request = _tampered(wechat, wechat.post_message("诉求内容", openid=random_openid()), how)
        response = await http.post(request.url(f"{hub}/channels/wechat"), content=request.body,
                                   headers=dict(request.headers))
        statuses[how] = response.status_code
    assert statuses == REFUSALS
    assert await count(db, Case) == 0 and await count(db, InboundReceipt) == 0
    assert await count(db, PendingIntake) == 0


async def test_a_hotline_push_is_stored_once(db: Any, hub: str, hotline: FakeHotline,
                                             http: httpx.AsyncClient) -> None:
    order = hotline.post_message("路灯不亮", caller_phone="13912345678", caller_type="求助", call_time=minutes_ago(1))
    first = await hotline.push(http, f"{hub}/channels/hotline", order["orderNum"])
    again = await hotline.push(http, f"{hub}/channels/hotline", order["orderNum"])
    (case,) = await cases(db)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"code": "0000", "msg": "成功", "data": {"caseNo": case.case_no, "repeated": False}}
    assert again.json()["data"] == {"caseNo": case.case_no, "repeated": True}
    assert case.external_id == order["orderNum"] and case.kind.value == "HELP"
    assert json.loads(case.raw_payload)["orderNum"] == order["orderNum"]


async def test_forged_or_garbled_hotline_pushes_are_refused(db: Any, hub: str, hotline: FakeHotline,
                                                            http: httpx.AsyncClient) -> None:
    order = hotline.post_message("路灯不亮", call_time=minutes_ago(1))
    body, headers = hotline.signed_push(order["orderNum"])
    forged = await http.post(f"{hub}/channels/hotline", content=body,
                             headers={**headers, "X-Hotline-Signature": "0" * 64})
    garbage = b"{not json"
    garbled = await http.post(f"{hub}/channels/hotline", content=garbage,
                              headers=signed_headers(hotline.secret, garbage))
    no_number = json.dumps({"callTime": "2026-11-25 09:00:00", "majorContent": "x"}).encode()
    incomplete = await http.post(f"{hub}/channels/hotline", content=no_number,
                                 headers=signed_headers(hotline.secret, no_number))
    assert (forged.status_code, garbled.status_code, incomplete.status_code) == (403, 400, 400)
    assert forged.json()["code"] == "4030" and "13" not in forged.text
    assert await count(db, Case) == 0


async def test_an_unconfigured_channel_answers_503(db: Any, http: httpx.AsyncClient) -> None:
    app = FastAPI()
    app.include_router(channel_router(settings=db.settings, sessions=db.sessions))
    async with serve_here(app) as base:
        assert (await http.post(f"{base}/channels/wechat", content=b"<xml/>")).status_code == 503
        assert (await http.post(f"{base}/channels/hotline", content=b"{}")).status_code == 503


def _content_by_openid(wechat: FakeWeChat) -> dict[str, str]:
    return {parse_message(r).to_user: parse_message(r).fields["Content"] for r in wechat.passive_replies}


async def test_fifty_messages_at_once_each_reply_names_its_own_case(db: Any, hub: str, wechat: FakeWeChat,
                                                                      pushes: PushBatcher) -> None:
    openids = [random_openid() for _ in range(50)]
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=50)) as http:
        responses = await asyncio.gather(*(
            wechat.deliver(http, f"{hub}/channels/wechat", wechat.post_message(f"第{i}号路灯不亮，请维修。", openid=o))
            for i, o in enumerate(openids)))
    assert all(r.status_code == 200 for r in responses)
    await pushes.drainer.settled()
    stored = {case.reply_to["openid"]: case.case_no for case in await cases(db)}
    replies = _content_by_openid(wechat)
    assert len(stored) == 50 and set(replies) == set(openids)
    for openid in openids:
        assert replies[openid] == f"您的诉求已受理，编号{stored[openid]}。我们会尽快办理，并在这里答复您。"
    assert pushes.batches < 50  # they shared transactions


async def test_three_concurrent_deliveries_of_one_message_are_one_case(db: Any, hub: str, wechat: FakeWeChat,
                                                                       http: httpx.AsyncClient,
                                                                       pushes: PushBatcher) -> None:
    xml = wechat.post_message("人民路积水严重，车辆无法通行。", openid=random_openid())
    responses = await asyncio.gather(*(wechat.deliver(http, f"{hub}/channels/wechat", xml) for _ in range(3)))
    await pushes.drainer.settled()
    (case,) = await cases(db)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [parse_message(r).fields["Content"] for r in wechat.passive_replies] == [
        f"您的诉求已受理，编号{case.case_no}。我们会尽快办理，并在这里答复您。"] * 3


async def test_one_invalid_message_in_a_batch_is_refused_alone(db: Any, hub: str, wechat: FakeWeChat,
                                                               http: httpx.AsyncClient, pushes: PushBatcher) -> None:
    pushes.linger_seconds = 0.3  # the five requests land in one batch
    too_long = random_openid()
    texts = {random_openid(): "公园厕所无人打扫。" for _ in range(4)} | {too_long: "长" * 20001}
    responses = await asyncio.gather(*(wechat.deliver(http, f"{hub}/channels/wechat", wechat.post_message(t, openid=o))
                                       for o, t in texts.items()))
    assert [r.status_code for r in responses] == [200] * 5 and pushes.batches == 1
    replies = _content_by_openid(wechat)
    assert replies.pop(too_long) == REFUSED
    await pushes.drainer.settled()
    stored = {case.reply_to["openid"]: case.case_no for case in await cases(db)}
    assert set(stored) == set(replies) and all(stored[o] in replies[o] for o in replies)


async def test_a_database_failure_answers_500_to_the_whole_batch_and_the_retry_stores_once(
    db: Any, hub: str, wechat: FakeWeChat, http: httpx.AsyncClient, pushes: PushBatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real, failures = batcher_module.accept_pushes, iter([True])

    async def failing_after_the_writes(ctx: Any, **kwargs: Any) -> Any:
        outcomes = await real(ctx, **kwargs)
        if next(failures, False):
            await ctx.session.execute(sa_text("SELECT * FROM no_such_table"))
        return outcomes

    monkeypatch.setattr(batcher_module, "accept_pushes", failing_after_the_writes)
    pushes.linger_seconds = 0.3
    requests = [wechat.callback_request(wechat.post_message("桥下垃圾堆积。", openid=random_openid()))
                for _ in range(4)]

    async def send(request: Any) -> httpx.Response:
        return await http.post(request.url(f"{hub}/channels/wechat"), content=request.body,
                               headers=dict(request.headers))

    first = await asyncio.gather(*(send(r) for r in requests))
    assert [r.status_code for r in first] == [500] * 4
    assert await count(db, Case) == 0 and await count(db, InboundReceipt) == 0
    retried = await asyncio.gather(*(send(r) for r in requests + requests[:1]))  # WeChat retries (one twice)
    assert [r.status_code for r in retried] == [200] * 5
    numbers = [parse_message(wechat.open_reply(r.text)).fields["Content"] for r in retried]
    assert numbers[0] == numbers[4] and len(set(numbers[:4])) == 4
    await pushes.drainer.settled()
    assert await count(db, Case) == 4 and await count(db, InboundReceipt) == 4


async def test_the_app_starts_the_batcher_with_its_lifespan_and_drains_it_on_shutdown(db: Any,
                                                                                      wechat: FakeWeChat) -> None:
    app = create_app(wire(db.settings, wechat), bus=LocalBus())
    pushes: PushBatcher = app.state.runtime.pushes
    async with app.router.lifespan_context(app):
        messages = [draft(channel="WECHAT", external_id=f"80{i:02d}", phone=None, account_id=random_openid())
                    for i in range(10)]
        waiting = [asyncio.ensure_future(pushes.submit("wechat", m, m.external_id)) for m in messages]
        await asyncio.sleep(0)  # queued; the shutdown below must still store and answer them
    assert all(w.done() for w in waiting)
    assert len({w.result().number for w in waiting if w.result().number}) == 10
    assert await count(db, Case) == 10
    with pytest.raises(BatcherClosed):
        await pushes.submit("wechat", messages[0], messages[0].external_id)
