"""Weibo: fixtures, gap-free since_id/max_id polling, errors, token refresh and replies over real HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.base import CaseDraft
from connectors.errors import AuthExpired, BadSignature, RateLimited, Transient
from connectors.fakes import FakeWeibo, FaultKind
from connectors.weibo import (
    OVERLAP_IDS,
    WeiboConnector,
    parse_comment,
    parse_created_at,
    parse_push,
    parse_status,
    split_comment,
    verify_push_signature,
)

TOKEN = "2.00TEST_TOKEN"


def test_mentions_fixture(fx: Any) -> None:
    statuses = fx.json("weibo/statuses_mentions.json")["statuses"]
    drafts = [parse_status(s) for s in statuses]
    assert [d.external_id for d in drafts] == ["status:5041280011223344", "status:5041273956312345"]
    first = drafts[0]
    assert first.channel == "WEIBO" and first.citizen.account_id == "7812345601"
    assert first.citizen.name == "和平路老住户" and first.address == "和平路"
    assert first.title.startswith("这里的下水道井盖丢了") and first.content.startswith("@示例市")
    assert first.received_at == dt.datetime(2024, 6, 3, 10, 5, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert first.reply_to == {"id": "5041280011223344"}


def test_comments_fixture(fx: Any) -> None:
    drafts = [parse_comment(c) for c in fx.json("weibo/comments_to_me.json")["comments"]]
    assert drafts[0].external_id == "comment:5041309988776655"
    assert drafts[0].reply_to == {"cid": "5041309988776655", "id": "5041001234567890"}
    assert drafts[0].title == "还没人联系我，工单号是多少？"
    assert drafts[1].reply_to["cid"] == "5041305566778899"


def test_reply_response_fixture_is_a_comment(fx: Any) -> None:
    reply = fx.json("weibo/comments_reply_response.json")
    assert parse_comment(reply).reply_to == {"cid": "5041312233445566", "id": "5041001234567890"}
    assert parse_created_at(reply["created_at"]).utcoffset() == dt.timedelta(hours=8)


def test_push_fixtures(fx: Any) -> None:
    mention = parse_push(fx.json("weibo/push_mention_message.json"))
    assert mention is not None and mention.external_id == "status:5041273956312345"  # same key as polled
    assert parse_push(fx.json("weibo/push_event_follow.json")) is None
    secret, timestamp, nonce = "FAKE_APP_SECRET", "1717380001", "42"
    signature = hashlib.sha1("".join(sorted([secret, timestamp, nonce])).encode()).hexdigest()
    verify_push_signature(secret, timestamp, nonce, signature)
    with pytest.raises(BadSignature):
        verify_push_signature(secret, timestamp, nonce, "0" * 40)


def test_split_comment() -> None:
    assert split_comment("您好，已转水务部门处理") == ["您好，已转水务部门处理"]
    parts = split_comment("经核查，" + "该路段排水管网正在改造。" * 30)
    assert len(parts) > 1 and all(len(p) <= 140 for p in parts) and parts[0].startswith("(1/")


@pytest.fixture
def fake(clock: Any) -> Iterator[FakeWeibo]:
    with FakeWeibo(TOKEN, clock=clock) as server:
        yield server


def weibo(fake: FakeWeibo, http: httpx.AsyncClient, **options: Any) -> WeiboConnector:
    return WeiboConnector(fake.base_url, TOKEN, http, app_key=fake.app_key, app_secret=fake.app_secret,
                          refresh_token=fake.refresh_token, **options)


async def drain(connector: WeiboConnector, cursor: str | None) -> tuple[list[CaseDraft], str | None]:
    drafts: list[CaseDraft] = []
    while True:
        page = await connector.pull(cursor)
        drafts.extend(page.drafts)
        cursor = page.next_cursor
        if not page.has_more:
            return drafts, cursor


async def test_burst_larger_than_count_has_no_gap_and_no_duplicate(
        fake: FakeWeibo, http: httpx.AsyncClient, clock: Any) -> None:
    fake.post_message("第一条")
    connector = weibo(fake, http, count=20, max_pages=3)
    first, cursor = await drain(connector, None)
    assert len(first) == 1
    burst = []
    for i in range(137):
        burst.append(fake.post_message(f"路灯坏了 {i}"))
        if i % 10 == 0:
            fake.post_comment(f"评论 {i}")
        clock.advance(seconds=0.2)
    drafts, cursor = await drain(connector, cursor)
    ids = [d.external_id for d in drafts]
    assert len(ids) == len(set(ids))
    assert {i for i in ids if i.startswith("status:")} == {f"status:{s['idstr']}" for s in burst}
    assert len([i for i in ids if i.startswith("comment:")]) == 14
    assert (await drain(connector, cursor))[0] == []

    # an item committed late, just below the watermark, is caught by the overlap and nothing else repeats
    state = json.loads(cursor or "{}")
    late = fake.post_message("迟到的微博", status_id=state["mentions"]["w"] - OVERLAP_IDS // 2)
    assert [d.external_id for d in (await drain(connector, cursor))[0]] == [f"status:{late['idstr']}"]


async def test_polling_uses_since_and_max_id(fake: FakeWeibo, http: httpx.AsyncClient, clock: Any) -> None:
    fake.post_message("起点")
    connector = weibo(fake, http, count=5, streams=("mentions",))
    _, cursor = await drain(connector, None)
    for i in range(12):
        fake.post_message(f"诉求{i}")
    drafts, _ = await drain(connector, cursor)
    assert len(drafts) == 12


@pytest.mark.parametrize("retry_after", [None, 30])
async def test_rate_limit_code(fake: FakeWeibo, http: httpx.AsyncClient, clock: Any, retry_after: int | None) -> None:
    fake.inject(FaultKind.RATE_LIMIT_CODE, retry_after=retry_after)
    with pytest.raises(RateLimited) as caught:
        await weibo(fake, http, clock=clock).pull(None)
    assert caught.value.code == 10023 and caught.value.status == 403
    expected = 30.0 if retry_after else 3600 - (clock().minute * 60 + clock().second)
    assert caught.value.retry_after == expected


async def test_429_with_retry_after(fake: FakeWeibo, http: httpx.AsyncClient, clock: Any) -> None:
    when = (clock() + dt.timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    fake.inject(FaultKind.TOO_MANY_REQUESTS, retry_after="120")
    fake.inject(FaultKind.TOO_MANY_REQUESTS, retry_after=when)
    connector = weibo(fake, http)
    with pytest.raises(RateLimited) as caught:
        await connector.pull(None)
    assert caught.value.retry_after == 120.0
    with pytest.raises(RateLimited) as dated:
        await connector.pull(None)
    assert dated.value.retry_after is not None and 80 <= dated.value.retry_after <= 90
    fake.post_message("恢复后")
    assert len((await connector.pull(None)).drafts) == 1


async def test_server_error_and_garbage_are_transient(fake: FakeWeibo, http: httpx.AsyncClient) -> None:
    fake.inject(FaultKind.SERVER_ERROR)
    fake.inject(FaultKind.GARBAGE)
    connector = weibo(fake, http)
    for _ in range(2):
        with pytest.raises(Transient):
            await connector.pull(None)


async def test_expired_token_is_refreshed_once(fake: FakeWeibo, http: httpx.AsyncClient) -> None:
    fake.post_message("诉求")
    fake.expire_token()
    connector = weibo(fake, http)
    page = await connector.pull(None)
    assert len(page.drafts) == 1 and connector.access_token == fake.access_token != TOKEN
    fake.inject(FaultKind.EXPIRED_TOKEN)
    assert (await connector.pull(page.next_cursor)).drafts == []
    assert [path for _, path in fake.requests].count("/oauth2/access_token") == 2


async def test_expired_token_without_refresh_token(fake: FakeWeibo, http: httpx.AsyncClient) -> None:
    fake.expire_token()
    with pytest.raises(AuthExpired):
        await WeiboConnector(fake.base_url, TOKEN, http).pull(None)


async def test_reply_to_a_comment_in_weibo_format(fake: FakeWeibo, http: httpx.AsyncClient) -> None:
    comment = fake.post_comment("停水两天了，什么时候恢复？", screen_name="和平路老住户")
    connector = weibo(fake, http, rip="223.104.3.28")
    draft = (await connector.pull(None)).drafts[0]
    receipt = await connector.send_reply(reply_to=draft.reply_to, content="您好，已转水务部门处理",
                                         idempotency_key="k1")
    (reply,) = fake.replies
    assert reply == {"cid": comment["idstr"], "id": comment["status"]["idstr"], "comment": "您好，已转水务部门处理",
                     "without_mention": "0", "comment_ori": "0", "rip": "223.104.3.28",
                     "endpoint": "/2/comments/reply.json", "idstr": receipt.channel_ref}


async def test_reply_form_matches_fixture_request(fx: Any, fake: FakeWeibo, http: httpx.AsyncClient) -> None:
    request_text = fx.text("weibo/comments_reply_request.txt")
    fixture_form = dict(urllib.parse.parse_qsl(request_text.strip().splitlines()[-1]))
    fake.post_comment("x")
    connector = weibo(fake, http)
    draft = (await connector.pull(None)).drafts[0]
    await connector.send_reply(reply_to=draft.reply_to, content="x", idempotency_key="k")
    sent = set(fake.replies[0]) - {"endpoint", "idstr"}
    assert sent == set(fixture_form) - {"access_token"}


async def test_reply_to_a_mention_and_a_long_answer(fake: FakeWeibo, http: httpx.AsyncClient) -> None:
    fake.post_message("井盖丢了")
    connector = weibo(fake, http)
    draft = (await connector.pull(None)).drafts[0]
    long_answer = "您好，" + "已通知排水公司补装井盖并设置警示标志。" * 12
    receipt = await connector.send_reply(reply_to=draft.reply_to, content=long_answer, idempotency_key="k")
    assert len(fake.replies) > 1 and receipt.channel_ref and receipt.channel_ref.count(",") == len(fake.replies) - 1
    assert all(r["endpoint"] == "/2/comments/create.json" and len(r["comment"]) <= 140 for r in fake.replies)
