"""`hub simulate`: a short run with faults ends with every message stored once and every answer delivered once."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from helpers import CONNECTOR, draft
from sqlalchemy import func, select

from hub.cases.intake import submit_case
from hub.cases.models import Case, Reply
from hub.demo.texts import make_message
from hub.enums import DeliveryStatus
from hub.simulate.channels import FakeSet, new_citizen, post
from hub.simulate.report import percentile
from hub.simulate.runner import SimulationOptions, run_simulation
from hub.simulate.traffic import Traffic


async def test_a_short_run_with_faults_loses_and_repeats_nothing(db: Any) -> None:
    lines: list[str] = []
    options = SimulationOptions(rate=10, duration=3, faults=True, seed=7, port=0, answer_share=0.6)
    report = await run_simulation(db.settings, options, say=lines.append)
    tallies = report.channels
    assert not report.interrupted, "\n".join(lines)
    assert all(t.sent == t.stored for t in tallies.values()), "\n".join(lines + report.lines())
    assert sum(t.sent for t in tallies.values()) >= 15
    answered = sum(t.answered for t in tallies.values())
    assert answered > 0 and all(t.delivered == t.answered and not t.duplicates for t in tallies.values())
    assert report.ok and sum(t.errors for t in tallies.values()) > 0  # faults were served, and ridden out
    assert len(report.reply_latency) == answered and min(report.reply_latency) >= 0
    assert sum(1 for line in lines if "sent" in line and "stored" in line) >= 2  # a line per second
    async with db.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Case))
        statuses = (await session.execute(select(Reply.delivery_status))).scalars().all()
    assert stored == sum(t.sent for t in tallies.values())
    assert statuses == [DeliveryStatus.DELIVERED] * answered


async def test_new_fakes_number_their_messages_after_what_is_stored(db: Any) -> None:
    async with db.ctx(CONNECTOR) as ctx:
        for channel, external_id in (("HOTLINE", "GD20261128000120"), ("WEBSITE", "19309999"),
                                     ("WEIBO", f"status:{(1 << 62) + 5}"), ("WECHAT", "24591738402399999")):
            await submit_case(ctx, draft=draft(channel=channel, external_id=external_id))
    fakes = FakeSet()  # not started: posting only builds and keeps the payloads
    await fakes.continue_ids(db.sessions)
    rng = random.Random(3)
    ids = {name: post(fakes, name, make_message(rng, name), new_citizen(rng), rng).external_id
           for name in ("hotline", "website", "weibo", "wechat")}
    assert ids["hotline"].endswith("000121") and int(ids["website"]) == 19310000
    assert int(ids["weibo"].split(":")[1]) > (1 << 62) + 5 and int(ids["wechat"]) == 24591738402400000


def test_traffic_repeats_issues_across_channels_and_citizens_write_again() -> None:
    traffic = Traffic(random.Random(11))
    now = dt.datetime.now(dt.UTC)
    out = [traffic.next(now) for _ in range(300)]
    whys = {o.why for o in out}
    assert whys == {"new", "repeat", "again"}
    repeats = [o for o in out if o.why == "repeat"]
    firsts = {id(o.message.issue): o for o in out if o.why == "new"}
    assert any(firsts[id(r.message.issue)].channel != r.channel for r in repeats if id(r.message.issue) in firsts)
    again = [o for o in out if o.why == "again"]
    assert all(any(o.citizen == a.citizen and o.why != "again" for o in out) for a in again)
    assert {o.message.topic.category for o in out} >= {"城乡建设", "环境保护", "交通运输", "卫生计生", "其他"}
    assert {o.channel for o in out} == {"hotline", "website", "weibo", "wechat"}
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0 and percentile([], 90) == 0.0
