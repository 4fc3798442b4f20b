"""A sync pass over each pull channel, against its fake over real HTTP: new messages become cases once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from channel_kit import FAKE_TYPES, cases, count, fast_jobs, hub_command, post, wire
from sqlalchemy import select

from connectors.fakes import FakeChannel, FakeWebsite, FakeWeibo, FaultKind
from connectors.registry import create
from hub.cases.models import Case
from hub.citizens.models import CitizenIdentity
from hub.ingest.config import connector_config
from hub.ingest.models import ConnectorState
from hub.ingest.sync import sync_channel

PULL = ["hotline", "website", "weibo"]
# what each channel's citizen writes, and the case the hub should make of it
MESSAGES: dict[str, tuple[dict[str, Any], str | None, tuple[str, str]]] = {
    "hotline": ({"caller_name": "王女士", "caller_phone": "13800001234", "caller_type": "投诉"}, "COMPLAINT",
                ("PHONE", "13800001234")),
    "website": ({"nick_name": "网友7f3a", "type_name": "建议"}, "SUGGESTION", ("WEBSITE", "网友7f3a")),
    "weibo": ({"uid": "7812345699", "screen_name": "市民小李"}, None, ("WEIBO", "7812345699")),
}


@pytest.fixture(params=PULL)
def fake(request: pytest.FixtureRequest) -> Iterator[FakeChannel]:
    with FAKE_TYPES[request.param]() as running:
        yield running


async def _state(db: Any, channel: str) -> ConnectorState:
    async with db.sessions() as session:
        state = await session.get(ConnectorState, channel)
        assert state is not None
        return state


async def test_new_message_becomes_one_case(district: Any, fake: FakeChannel) -> None:
    settings = wire(district.settings, fake)
    extra, kind, identity = MESSAGES[fake.name]
    item = post(fake, "和平路88号小区门口路灯坏了一个多月，晚上出行很不方便，请尽快维修。", **extra)
    first = await sync_channel(sessions=district.sessions, settings=settings, channel=fake.name,
                               job_settings=fast_jobs())
    second = await sync_channel(sessions=district.sessions, settings=settings, channel=fake.name,
                                job_settings=fast_jobs())
    assert (first.created, first.ok) == (1, True) and second.created == 0
    (case,) = await cases(district)
    assert case.channel.value == fake.name.upper() and "路灯" in case.content
    if kind:
        assert case.kind.value == kind
    raw = json.loads(case.raw_payload)
    assert str(raw.get("orderNum") or raw.get("tid") or raw.get("idstr")) in case.external_id
    async with district.sessions() as session:
        bound = (await session.execute(select(CitizenIdentity).where(
            CitizenIdentity.kind == identity[0], CitizenIdentity.value == identity[1]))).scalar_one()
    assert bound.citizen_id == case.citizen_id
    state = await _state(district, fake.name.upper())
    assert state.cursor and state.last_success_at and state.ingested_count == 1 and state.error_count == 0
    assert item  # the fake's copy is untouched by the pull


async def test_faults_then_recovery_store_every_message_once(db: Any, fake: FakeChannel) -> None:
    settings = wire(db.settings, fake)
    jobs = fast_jobs(sync_retries=3)
    for number in range(3):
        post(fake, f"第{number}件：小区垃圾清运不及时，气味很大。")
    fake.inject(FaultKind.SERVER_ERROR, 2)
    fake.inject(FaultKind.GARBAGE, 1)
    first = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name, job_settings=jobs)
    assert first.ok and first.created == 3
    for number in range(3, 6):
        post(fake, f"第{number}件：夜间施工噪音扰民。")
    fake.inject(FaultKind.TOO_MANY_REQUESTS, 1, retry_after=120)
    limited = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name, job_settings=jobs)
    assert not limited.ok and limited.retry_after == 120 and limited.created == 0
    paused = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name, job_settings=jobs)
    assert paused.skipped == "rate limited" and paused.retry_after and 100 < paused.retry_after <= 120
    fake.inject(FaultKind.SERVER_ERROR, 4)  # more than the retries: the pass gives up, the cursor stays
    failed = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name, job_settings=jobs,
                                force=True)
    assert failed.error and "Transient" in failed.error
    recovered = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name,
                                   job_settings=jobs, force=True)
    again = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name, job_settings=jobs)
    assert recovered.ok and recovered.created == 3 and again.created == 0
    stored = await cases(db)
    assert len(stored) == 6 and len({case.external_id for case in stored}) == 6
    state = await _state(db, fake.name.upper())
    assert state.error_count == 2 and state.ingested_count == 6 and state.last_error
    assert state.last_success_at and state.last_error_at and state.last_success_at > state.last_error_at


async def test_expired_credentials_are_retried_once(db: Any, fake: FakeChannel) -> None:
    settings = wire(db.settings, fake)
    post(fake, "公交站台顶棚破损漏雨。")
    fake.inject(FaultKind.EXPIRED_TOKEN, 1)
    result = await sync_channel(sessions=db.sessions, settings=settings, channel=fake.name,
                                job_settings=fast_jobs())
    assert result.ok and result.created == 1


async def test_a_burst_spanning_pages_is_read_in_one_pass(db: Any) -> None:
    with FakeWeibo() as weibo:
        settings = wire(db.settings, weibo)
        post(weibo, "第一条@")
        async with httpx.AsyncClient(timeout=5) as http:
            connector = create("weibo", connector_config(settings, "weibo", {"count": 2, "max_pages": 2}), http)
            await sync_channel(sessions=db.sessions, settings=settings, channel="weibo", connector=connector,
                               job_settings=fast_jobs())
            for number in range(9):
                post(weibo, f"突发：第{number}条反映")
            result = await sync_channel(sessions=db.sessions, settings=settings, channel="weibo",
                                        connector=connector, job_settings=fast_jobs())
    assert result.created == 9 and result.pages >= 2
    assert await count(db, Case) == 10


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_hub_sync_prints_progress_and_a_summary(db: Any, tmp_path: Path) -> None:
    with FakeWebsite() as website:
        for number in range(3):
            post(website, f"第{number}条：公园厕所无人保洁。")
        env = {"HUB_DATABASE_URL": db.url, "HUB_WEBSITE_API_BASE": website.base_url,
               "HUB_WEBSITE_API_KEY": website.api_key, "HUB_SYNC_RETRY_BASE_SECONDS": "0.01"}
        done = await asyncio.to_thread(hub_command, ["sync", "website"], env, tmp_path)
        website.inject(FaultKind.SERVER_ERROR, 10)
        failed = await asyncio.to_thread(hub_command, ["sync", "website"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "page 1: 3 new, 0 repeated" in done.stderr
    assert done.stdout.strip() == "website: 1 page(s), 3 new, 0 repeated, 0 refused"
    assert failed.returncode == 1 and "stopped: Transient: website: HTTP 500" in failed.stdout
    unset = await asyncio.to_thread(hub_command, ["sync", "weibo"], {"HUB_DATABASE_URL": db.url}, tmp_path)
    assert unset.returncode == 2 and unset.stderr.strip().endswith("HUB_WEIBO_API_BASE is not set")


async def test_an_expired_weibo_token_is_refreshed_with_hub_weibo_refresh_token(db: Any) -> None:
    with FakeWeibo() as weibo:
        post(weibo, "小区门口路灯坏了一个月，晚上很黑。")
        weibo.expire_token()
        without = wire(db.settings, weibo)
        refused = await sync_channel(sessions=db.sessions, settings=without, channel="weibo", job_settings=fast_jobs())
        assert not refused.ok and await count(db, Case) == 0
        assert "refresh token" in ((await _state(db, "WEIBO")).last_error or "")
        settings = without.model_copy(update={"weibo_refresh_token": weibo.refresh_token})
        result = await sync_channel(sessions=db.sessions, settings=settings, channel="weibo", job_settings=fast_jobs())
    assert result.ok and result.created == 1 and not weibo.token_expired
