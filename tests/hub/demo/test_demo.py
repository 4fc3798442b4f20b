"""`hub demo` as a user runs it, and its history on both databases: every case came through a channel's wire
format and connector parser, every trail verifies, answers went back to the channels."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

from channel_kit import hub_command
from sqlalchemy import func, select

from hub.cases.models import Case, Reply
from hub.clock import utcnow
from hub.demo.seed import CHANNEL_WEIGHTS, seed_demo
from hub.enums import DeliveryStatus
from hub.simulate.channels import FakeSet
from hub.simulate.traffic import Traffic
from hub.trail.service import verify_chains


def _wire_format(channel: str, raw: str) -> bool:
    """Whether a stored raw payload is in its channel's own format."""
    if channel == "WECHAT":
        return raw.startswith("<xml>") and "<MsgId>" in raw
    payload = json.loads(raw)
    return {"HOTLINE": "orderNum" in payload, "WEIBO": "idstr" in payload and "user" in payload,
            "WEBSITE": "tid" in payload or "留言编号" in payload}[channel]


async def test_hub_demo_without_serving(tmp_path: Path) -> None:
    done = await asyncio.to_thread(hub_command, ["demo", "--no-serve", "--cases", "40"], {}, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "safe-mode callbacks to /channels/wechat" in done.stderr and "sync hotline" in done.stderr
    assert "replies" in done.stdout and "like `hub token --role handler --department NH-ZJ`" in done.stdout
    verified = await asyncio.to_thread(hub_command, ["audit", "verify"], {}, tmp_path)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr

    with sqlite3.connect(tmp_path / "hub.sqlite3") as conn:
        rows = conn.execute("SELECT channel, raw_payload FROM hub_case").fetchall()
        delivered = dict(conn.execute("SELECT channel, count(*) FROM reply WHERE delivery_status = 'DELIVERED' "
                                      "GROUP BY channel").fetchall())
        pending = conn.execute("SELECT count(*) FROM reply WHERE delivery_status = 'PENDING'").fetchone()[0]
    assert len(rows) >= 40 + 12  # the history and the live tail
    assert {channel for channel, _raw in rows} == {"HOTLINE", "WEBSITE", "WEIBO", "WECHAT"}
    assert all(_wire_format(channel, raw) for channel, raw in rows)
    assert set(delivered) == {"HOTLINE", "WEBSITE", "WEIBO", "WECHAT"} and pending == 0


async def test_the_history_goes_through_the_connectors_both_ways(db: Any) -> None:
    fakes = FakeSet(clock=utcnow).start()
    try:
        await fakes.continue_ids(db.sessions)
        rng = random.Random(5)
        summary = await seed_demo(db.sessions, fakes.wire(db.settings), fakes, rng=rng, cases=24, days=20,
                                  traffic=Traffic(rng, weights=CHANNEL_WEIGHTS, repeat_share=0.3))
    finally:
        fakes.stop()
    assert summary.cases == 24 and abs((utcnow() - dt.datetime.now(dt.UTC)).total_seconds()) < 5  # wall clock again
    async with db.sessions() as session:
        report = await verify_chains(session)
        cases = (await session.execute(select(Case))).scalars().all()
        replies = (await session.execute(select(Reply))).scalars().all()
        latest = await session.scalar(select(func.max(Case.received_at)))
    assert report.intact and report.cases_checked == 24
    assert all(_wire_format(case.channel.value, case.raw_payload) for case in cases)
    assert latest is not None and latest < utcnow()
    delivered = [r for r in replies if r.delivery_status is DeliveryStatus.DELIVERED]
    received = sum(len(fake.replies) for _name, fake in fakes)
    assert delivered and received == len(delivered)  # each delivered answer reached its channel once
    assert all(r.delivered_at and r.delivered_at >= r.created_at for r in delivered)
    assert not [r for r in replies if r.delivery_status is DeliveryStatus.PENDING]
