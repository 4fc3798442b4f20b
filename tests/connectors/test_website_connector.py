"""Website message board: fixtures, the 2020 layout, keyset walk and answers against the fake over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors._common import CST
from connectors.base import CaseDraft
from connectors.errors import AuthExpired, RateLimited, Transient
from connectors.fakes import FakeWebsite, FaultKind
from connectors.website import (
    WebsiteConnector,
    parse_board_csv,
    parse_board_time,
    parse_list_item,
    parse_samr_item,
)

KEY = "test-board-key"


def test_people_cn_list_item(fx: Any) -> None:
    (item,) = fx.json("message_boards/people_liuyan_list_df_response.json")["resultData"]["data"]
    draft = parse_list_item(item)
    assert draft.channel == "WEBSITE" and draft.external_id == "19302878"
    assert draft.title == "和平路88号小区门口路灯长期不亮" and draft.kind == "SUGGESTION"
    assert draft.category_hint == "城建" and draft.citizen.account_id == "网友1a2b3c"
    assert draft.received_at == dt.datetime.fromtimestamp(1717377164, CST)
    assert draft.reply_to == {"tid": "19302878"}


def test_samr_item(fx: Any) -> None:
    (item,) = fx.json("message_boards/samr_getMessageList_response.json")["data"]["data"]
    draft = parse_samr_item(item)
    assert draft.external_id == "8a8f2f7c8f0e4b6a9c1d2e3f4a5b6c7d" and draft.title.startswith("网购商品")
    assert draft.received_at == dt.datetime(2024, 5, 28, tzinfo=CST)


def test_board_time_formats() -> None:
    assert parse_board_time("2020/1/6 12:09:38") == dt.datetime(2020, 1, 6, 12, 9, 38, tzinfo=CST)
    assert parse_board_time("2017-06-08 17:31:20") == dt.datetime(2017, 6, 8, 17, 31, 20, tzinfo=CST)
    assert parse_board_time(1717377164) == dt.datetime.fromtimestamp(1717377164, CST)


def test_board_csv_layouts(fx: Any) -> None:
    labelled = parse_board_csv(fx.bytes("message_boards/tipdm2020_fujian2_style.csv"))
    assert labelled.errors == [] and len(labelled.drafts) == 3
    first = labelled.drafts[0]
    assert first.content.startswith("尊敬的领导") and first.content == first.content.strip()
    assert "\t" not in first.content and first.category_hint == "城乡建设"
    assert first.received_at == dt.datetime(2019, 6, 3, 9, 12, 44, tzinfo=CST)
    assert first.citizen.account_id == "A00012345"
    votes = parse_board_csv(fx.bytes("message_boards/tipdm2020_fujian3_style.csv"))
    assert [d.external_id for d in votes.drafts] == ["40001"] and votes.errors == []
    replies = parse_board_csv(fx.bytes("message_boards/tipdm2020_fujian4_style.csv"))
    assert isinstance(replies.drafts[0].raw, dict) and replies.drafts[0].raw["答复时间"] == "2019/5/10 14:56:53"


def test_board_csv_bad_row_by_line() -> None:
    text = ("留言编号,留言用户,留言主题,留言时间,留言详情,一级分类\n"
            '1,A001,路灯,2020/1/6 12:09:38,"\n\t\t\n\t\t路灯坏了\n\t\t",城乡建设\n'
            "2,A002,噪音,不知道,噪音扰民,环境保护\n"
            "3,A003,积水,2017-06-08 17:31:20,积水严重,城乡建设\n")
    result = parse_board_csv(text.encode("gb18030"))
    assert [d.external_id for d in result.drafts] == ["1", "3"]
    assert result.drafts[0].content == "路灯坏了" and result.drafts[0].category_hint == "城乡建设"
    assert result.errors == [(6, "unparseable 留言时间")]


@pytest.fixture
def fake(clock: Any) -> Iterator[FakeWebsite]:
    with FakeWebsite(KEY, clock=clock) as server:
        yield server


async def drain(board: WebsiteConnector, cursor: str | None) -> tuple[list[CaseDraft], str | None, int]:
    drafts: list[CaseDraft] = []
    pulls = 0
    while True:
        page = await board.pull(cursor)
        drafts.extend(page.drafts)
        cursor = page.next_cursor
        pulls += 1
        if not page.has_more:
            return drafts, cursor, pulls


async def test_walk_returns_new_and_changed_threads_once(
        fake: FakeWebsite, http: httpx.AsyncClient, clock: Any) -> None:
    posted = []
    for i in range(7):
        posted.append(fake.post_message(f"第{i}条留言", type_name="投诉"))
        clock.advance(seconds=1)
    board = WebsiteConnector(fake.base_url, KEY, http, rows=3, max_pages=1, clock=clock)
    drafts, cursor, pulls = await drain(board, None)
    assert sorted(int(d.external_id) for d in drafts) == [p["tid"] for p in posted]
    assert pulls == 3 and all(d.kind == "COMPLAINT" and "\t" not in d.content for d in drafts)

    assert (await drain(board, cursor))[0] == []

    clock.advance(minutes=5)
    fake.update_message(posted[2]["tid"], content="补充：已经一周了")
    new = fake.post_message("新的留言")
    drafts, cursor, _ = await drain(board, cursor)
    assert sorted(int(d.external_id) for d in drafts) == sorted([posted[2]["tid"], new["tid"]])
    assert (await drain(board, cursor))[0] == []


async def test_message_posted_mid_walk_is_not_lost(
        fake: FakeWebsite, http: httpx.AsyncClient, clock: Any) -> None:
    for i in range(5):
        fake.post_message(f"留言{i}")
        clock.advance(seconds=1)
    board = WebsiteConnector(fake.base_url, KEY, http, rows=2, max_pages=1, clock=clock)
    first = await board.pull(None)
    assert first.has_more
    late = fake.post_message("走查期间的新留言")
    drafts, cursor, _ = await drain(board, first.next_cursor)
    ids = [d.external_id for d in [*first.drafts, *drafts]]
    assert len(ids) == len(set(ids)) == 5
    assert [d.external_id for d in (await drain(board, cursor))[0]] == [str(late["tid"])]


async def test_answer_published_once(fake: FakeWebsite, http: httpx.AsyncClient, clock: Any) -> None:
    thread = fake.post_message("请问医保转入流程")
    board = WebsiteConnector(fake.base_url, KEY, http, organization="区医保局", clock=clock)
    receipt = await board.send_reply(reply_to={"tid": str(thread["tid"])}, content="您好，流程如下……",
                                     idempotency_key="k1")
    again = await board.send_reply(reply_to={"tid": str(thread["tid"])}, content="您好，流程如下……",
                                   idempotency_key="k1")
    assert receipt.delivered and receipt.channel_ref == again.channel_ref
    (answer,) = fake.replies
    assert answer["tid"] == thread["tid"] and answer["organization"] == "区医保局"
    assert fake.threads[thread["tid"]]["stateInfo"] == "已办理"


@pytest.mark.parametrize(
    ("kind", "error"),
    [(FaultKind.SERVER_ERROR, Transient), (FaultKind.GARBAGE, Transient), (FaultKind.EXPIRED_TOKEN, AuthExpired),
     (FaultKind.TOO_MANY_REQUESTS, RateLimited)],
)
async def test_faults(fake: FakeWebsite, http: httpx.AsyncClient, clock: Any, kind: FaultKind, error: type) -> None:
    fake.post_message("留言")
    board = WebsiteConnector(fake.base_url, KEY, http, clock=clock)
    fake.inject(kind, retry_after=3)
    with pytest.raises(error):
        await board.pull(None)
    assert len((await board.pull(None)).drafts) == 1


async def test_wrong_api_key(fake: FakeWebsite, http: httpx.AsyncClient) -> None:
    with pytest.raises(AuthExpired):
        await WebsiteConnector(fake.base_url, "wrong", http).pull(None)
