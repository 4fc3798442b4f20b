"""12345 hotline: API item, CSV exports, push signatures, pull and reply against the fake over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors._common import CST, kind_from_label, parse_local_time, urgency_from_label
from connectors.errors import AuthExpired, BadPayload, BadSignature, RateLimited, Transient
from connectors.fakes import FakeHotline, FaultKind
from connectors.hotline import (
    HotlineConnector,
    parse_csv,
    parse_item,
    parse_push,
    sign,
    verify_push_signature,
)

SECRET = "test-hotline-secret"


def test_api_item_fixture(fx: Any) -> None:
    draft = parse_item(fx.json("hotline12345/workorder_api_item.json"))
    assert draft.channel == "HOTLINE" and draft.external_id == "GD20240603000123"
    assert draft.kind == "HELP" and draft.urgency == "NORMAL"
    assert draft.received_at == dt.datetime(2024, 6, 3, 9, 12, 44, tzinfo=CST)
    assert draft.citizen.name == "王女士" and draft.citizen.phone == "13800005678"
    assert draft.title == "和平路88号小区门口路灯不亮" and draft.content.startswith("来电人反映")
    assert draft.address == "和平路88号" and draft.category_hint == "路灯"
    assert draft.reply_to == {"orderNum": "GD20240603000123", "orderId": "1798210003881234567"}
    assert isinstance(draft.raw, dict) and draft.raw["callId"] == "CALL-20240603-091244-0087"


def test_api_item_without_order_number_is_bad_payload() -> None:
    with pytest.raises(BadPayload) as caught:
        parse_item({"callTime": "2024-06-03 09:12:44", "callerPhone": "13800005678", "majorContent": "x"})
    assert "13800005678" not in str(caught.value)


@pytest.mark.parametrize(
    ("label", "kind"),
    [("咨询", "CONSULTATION"), ("求助", "HELP"), ("投诉", "COMPLAINT"), ("举报", "REPORT"), ("建议", "SUGGESTION"),
     ("表扬", "PRAISE"), ("感谢", "PRAISE"), ("投诉举报", "COMPLAINT"), ("其它", "OTHER"), ("无效诉求", "OTHER"),
     ("", None)],
)
def test_kind_labels(label: str, kind: str | None) -> None:
    assert kind_from_label(label) == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-06 12:09:38", dt.datetime(2020, 1, 6, 12, 9, 38)),
        ("2020/1/6 12:09:38", dt.datetime(2020, 1, 6, 12, 9, 38)),
        ("2020-1-6 12:09:38", dt.datetime(2020, 1, 6, 12, 9, 38)),
        ("2020-01-06T12:09:38", dt.datetime(2020, 1, 6, 12, 9, 38)),
        ("2020-01-06 12:09", dt.datetime(2020, 1, 6, 12, 9)),
        (" 2020-01-06 ", dt.datetime(2020, 1, 6)),
        ("2020/01/06", dt.datetime(2020, 1, 6)),
    ],
)
def test_local_times_in_every_shape_the_platforms_send(text: str, expected: dt.datetime) -> None:
    assert parse_local_time(text) == expected.replace(tzinfo=CST)


@pytest.mark.parametrize("text", ["2020-13-06 12:09:38", "2020-02-30", "2020-01-06 25:00", "yesterday", ""])
def test_a_time_that_is_no_time_is_bad_payload(text: str) -> None:
    with pytest.raises(BadPayload, match="unparseable callTime"):
        parse_local_time(text, "callTime")


def test_urgency_labels() -> None:
    assert [urgency_from_label(v) for v in ("紧急", "特急", "一般", "较急", "")] == [
        "URGENT", "URGENT", "NORMAL", "NORMAL", None]


def test_csv_fixture_utf8_bom(fx: Any) -> None:
    data = fx.bytes("hotline12345/workorders_export.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    result = parse_csv(data)
    assert result.errors == []
    assert [d.external_id for d in result.drafts] == ["GD20240603000123", "GD20240603000457", "GD20240603000901"]
    first, second, third = result.drafts
    assert (first.kind, second.kind, third.kind) == ("HELP", "COMPLAINT", "CONSULTATION")
    assert first.citizen.phone is None  # masked 138****5678 cannot link a citizen
    assert first.region == "武侯区" and first.category_hint == "城乡建设/市政设施/路灯"
    assert second.received_at == dt.datetime(2024, 6, 3, 10, 20, 5, tzinfo=CST)
    assert isinstance(first.raw, dict) and first.raw["工单编号"] == "GD20240603000123"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_csv_other_encodings(fx: Any, encoding: str) -> None:
    text = fx.text("hotline12345/workorders_export.csv").lstrip("\ufeff")
    result = parse_csv(text.encode(encoding))
    assert result.errors == []
    assert [d.title for d in result.drafts] == [d.title for d in parse_csv(fx.bytes(
        "hotline12345/workorders_export.csv")).drafts]


def test_csv_bad_rows_reported_by_line_and_skipped(fx: Any) -> None:
    header, *rows = fx.text("hotline12345/workorders_export.csv").splitlines()
    good = rows[0]
    multiline = good.replace("GD20240603000123", "GD20240603000777").replace(
        "来电人反映：", '"来电人反映：\n第二行', 1).replace("请求尽快维修。,", '请求尽快维修。",', 1)
    lines = [
        header,                                                                      # 1
        good,                                                                        # 2
        good.replace("GD20240603000123", "GD1").replace("2024-06-03 09:12:44", "昨天上午"),  # 3 bad time
        multiline,                                                                   # 4-5 quoted newline
        good.replace("GD20240603000123", ""),                                        # 6 no id
        "GD9,电话,2024-06-03 09:00:00",                                               # 7 short row
        "",                                                                          # 8 blank: ignored
        good,                                                                        # 9 duplicate
        rows[1],                                                                     # 10
    ]
    result = parse_csv("\n".join(lines).encode("gb18030"))
    assert [d.external_id for d in result.drafts] == ["GD20240603000123", "GD20240603000777", "GD20240603000457"]
    assert "第二行" in result.drafts[1].content
    assert [line for line, _ in result.errors] == [3, 6, 7, 9]
    reasons = " ".join(reason for _, reason in result.errors)
    assert "来电时间" in reasons and "duplicate" in reasons and "138" not in reasons


def test_csv_header_aliases_and_missing_columns() -> None:
    aliased = "编号,提交时间,投诉内容,联系电话,紧急程度\nA1,2024/6/3 9:05:00,噪音扰民,13900000021,特急\n"
    draft = parse_csv(aliased.encode()).drafts[0]
    assert draft.external_id == "A1" and draft.urgency == "URGENT" and draft.citizen.phone == "13900000021"
    assert draft.title == "噪音扰民"
    missing = parse_csv("工单编号,标题\nA1,x\n".encode())
    assert missing.drafts == [] and missing.errors[0][0] == 1 and "来电时间" in missing.errors[0][1]


def test_push_signature() -> None:
    body = json.dumps({"orderNum": "GD1"}).encode()
    now = time.time()
    timestamp = str(int(now))
    good = sign(SECRET, timestamp, body)
    verify_push_signature(SECRET, body, timestamp, good, now=now)
    with pytest.raises(BadSignature):
        verify_push_signature(SECRET, body + b" ", timestamp, good, now=now)
    with pytest.raises(BadSignature):
        verify_push_signature("other-secret", body, timestamp, sign("other", timestamp, body), now=now)
    with pytest.raises(BadSignature, match="stale"):
        verify_push_signature(SECRET, body, timestamp, good, now=now + 301)
    with pytest.raises(BadSignature):
        verify_push_signature(SECRET, body, "yesterday", good, now=now)


def test_fake_push_verifies_and_parses(clock: Any) -> None:
    fake = FakeHotline(SECRET, clock=clock)
    order = fake.post_message("小区门口路灯不亮", caller_phone="13800005678", caller_type="求助", urgency="紧急")
    body, headers = fake.signed_push(order["orderNum"])
    draft = parse_push(SECRET, body, headers, now=clock().timestamp())
    assert draft.external_id == order["orderNum"] and draft.urgency == "URGENT" and draft.kind == "HELP"
    with pytest.raises(BadSignature):
        parse_push("wrong", body, headers, now=clock().timestamp())


@pytest.fixture
def fake(clock: Any) -> Iterator[FakeHotline]:
    with FakeHotline(SECRET, clock=clock) as server:
        yield server


def connector(fake: FakeHotline, http: httpx.AsyncClient, clock: Any, **options: Any) -> HotlineConnector:
    return HotlineConnector(fake.base_url, SECRET, http, clock=clock, **options)


async def test_pull_pages_a_window_and_never_returns_a_version_twice(
        fake: FakeHotline, http: httpx.AsyncClient, clock: Any) -> None:
    start = clock() - dt.timedelta(minutes=30)
    orders = [fake.post_message(f"诉求{i}", call_time=start + dt.timedelta(minutes=i)) for i in range(5)]
    hotline = connector(fake, http, clock, page_size=2)
    page = await hotline.pull(None)
    assert sorted(d.external_id for d in page.drafts) == sorted(o["orderNum"] for o in orders)
    assert not page.has_more and len([r for r in fake.requests if r[1] == "/api/workorders"]) == 3

    clock.advance(seconds=30)
    assert (await hotline.pull(page.next_cursor)).drafts == []

    fake.update_order(orders[1]["orderNum"], update_time=clock() - dt.timedelta(seconds=20), orderState="办理中")
    recent = fake.post_message("新诉求", call_time=clock() - dt.timedelta(seconds=10))
    clock.advance(seconds=30)
    page2 = await hotline.pull(page.next_cursor)
    assert sorted(d.external_id for d in page2.drafts) == sorted([orders[1]["orderNum"], recent["orderNum"]])
    clock.advance(seconds=30)  # both still inside the overlap: not returned again
    assert (await hotline.pull(page2.next_cursor)).drafts == []


async def test_catch_up_in_bounded_windows(fake: FakeHotline, http: httpx.AsyncClient, clock: Any) -> None:
    fake.post_message("旧诉求", call_time=clock() - dt.timedelta(days=2, hours=12))
    hotline = connector(fake, http, clock, initial_lookback=dt.timedelta(days=3),
                        max_window=dt.timedelta(days=1))
    pages = [await hotline.pull(None)]
    while pages[-1].has_more:
        pages.append(await hotline.pull(pages[-1].next_cursor))
    assert len(pages) == 3 and sum(len(p.drafts) for p in pages) == 1


@pytest.mark.parametrize(
    ("kind", "error"),
    [(FaultKind.SERVER_ERROR, Transient), (FaultKind.GARBAGE, Transient),
     (FaultKind.RATE_LIMIT_CODE, RateLimited), (FaultKind.EXPIRED_TOKEN, AuthExpired)],
)
async def test_pull_faults_are_classified_then_recover(
        fake: FakeHotline, http: httpx.AsyncClient, clock: Any, kind: FaultKind, error: type) -> None:
    fake.post_message("诉求", call_time=clock() - dt.timedelta(minutes=5))
    hotline = connector(fake, http, clock)
    fake.inject(kind, 1)
    with pytest.raises(error):
        await hotline.pull(None)
    assert len((await hotline.pull(None)).drafts) == 1


async def test_429_retry_after(fake: FakeHotline, http: httpx.AsyncClient, clock: Any) -> None:
    fake.inject(FaultKind.TOO_MANY_REQUESTS, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        await connector(fake, http, clock).pull(None)
    assert caught.value.retry_after == 7.0


async def test_wrong_secret_is_refused(fake: FakeHotline, http: httpx.AsyncClient, clock: Any) -> None:
    with pytest.raises(AuthExpired):
        await HotlineConnector(fake.base_url, "wrong", http, clock=clock).pull(None)


async def test_reply_reaches_the_platform_once(fake: FakeHotline, http: httpx.AsyncClient, clock: Any) -> None:
    order = fake.post_message("路灯不亮")
    hotline = connector(fake, http, clock)
    reply_to = {"orderNum": order["orderNum"]}
    receipt = await hotline.send_reply(reply_to=reply_to, content="已安排维修。", idempotency_key="answer-1")
    again = await hotline.send_reply(reply_to=reply_to, content="已安排维修。", idempotency_key="answer-1")
    assert receipt.delivered and receipt.channel_ref == again.channel_ref
    (reply,) = fake.replies
    assert reply["orderNum"] == order["orderNum"] and reply["replyContent"] == "已安排维修。"
    assert reply["requestId"] == "answer-1" and fake.orders[order["orderNum"]]["orderState"] == "已答复"
