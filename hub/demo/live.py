"""The demo's live tail, on the wall clock: fresh messages posted into the running fakes, one real sync pass per
pull channel over HTTP, WeChat messages delivered as signed safe-mode callbacks to ``/channels/wechat``, a hotline
push to ``/channels/hotline``, and a few answers given over GraphQL that the outbox carries back to the fakes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.wechat import parse_message
from hub.cases.models import Case
from hub.demo.texts import DemoMessage, answer_text, compose, compose_again, new_issue
from hub.enums import CaseStatus
from hub.ingest.repository import oldest_pending
from hub.ingest.sync import sync_channel
from hub.settings import Settings
from hub.simulate.channels import CASE_NO, CHANNELS, PULL_CHANNELS, FakeSet, Posted, new_citizen, post, reply_text
from hub.simulate.department import Answered, DeskError, StaffDesk
from hub.simulate.probe import CommitProbe
from hub.simulate.report import percentile
from hub.simulate.server import HubServer

Say = Callable[[str], None]


@dataclass
class LiveTail:
    """Posts, syncs, callbacks and answers of the demo's last minute."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    fakes: FakeSet
    rng: random.Random
    say: Say
    probe: CommitProbe = field(default_factory=CommitProbe)
    previous: dict[str, Posted] = field(default_factory=dict)  # a message per channel whose author writes again
    posted: list[Posted] = field(default_factory=list)

    def post_fresh(self, per_channel: int = 2) -> None:
        """New issues on every channel, one issue reported on hotline, Weibo and WeChat, and citizens writing again."""
        shared = new_issue(self.rng)
        for channel in CHANNELS:
            for _ in range(per_channel):
                message = compose(self.rng, new_issue(self.rng), channel)
                self.posted.append(post(self.fakes, channel, message, new_citizen(self.rng), self.rng))
            if channel != "website":
                message = compose(self.rng, shared, channel, repeat=channel != "hotline")
                self.posted.append(post(self.fakes, channel, message, new_citizen(self.rng), self.rng))
            first = self.previous.get(channel)
            if first is not None:
                again = compose_again(self.rng, first.message, first.at, channel)
                self.posted.append(post(self.fakes, channel, again, first.citizen, self.rng))
        counts = ", ".join(f"{sum(p.channel == c for p in self.posted)} {c}" for c in CHANNELS)
        self.say(f"live: citizens wrote {counts} messages on the fake channels "
                 f"(one issue on hotline, weibo and wechat; one citizen per channel writing again)")

    async def sync(self) -> None:
        """One real sync pass per pull channel, over HTTP to its fake."""
        for channel in PULL_CHANNELS:
            started = time.perf_counter()
            result = await sync_channel(sessions=self.sessions, settings=self.settings, channel=channel)
            self.say(f"  sync {result.summary()} in {time.perf_counter() - started:.2f} s")

    async def through_the_api(self, hub: HubServer, answers_per_channel: int = 2) -> None:
        """WeChat callbacks and a hotline push into the app, then answers given over GraphQL and delivered."""
        async with httpx.AsyncClient(timeout=10.0) as http:
            acknowledged = []
            for item in (p for p in self.posted if p.channel == "wechat"):
                assert isinstance(item.payload, str)
                response = await self.fakes.wechat.deliver(http, f"{hub.base_url}/channels/wechat", item.payload)
                response.raise_for_status()
                acknowledged.append(parse_message(self.fakes.wechat.passive_replies[-1]).fields.get("Content", ""))
            self.say(f"  wechat: {len(acknowledged)} safe-mode callbacks to /channels/wechat, each acknowledged "
                     f"in WeChat's 5 s, e.g. “{acknowledged[0] if acknowledged else '-'}”")
            order = next(p for p in self.posted if p.channel == "hotline")
            pushed = (await self.fakes.hotline.push(http, f"{hub.base_url}/channels/hotline", order.external_id)).json()
            self.say(f"  hotline: the platform also pushed {order.external_id} to /channels/hotline → "
                     f"{pushed['data']['caseNo']} (repeated: {str(pushed['data']['repeated']).lower()})")
            await self._pending_created()
            await self._answer(hub, http, answers_per_channel)

    async def _pending_created(self, within: float = 15.0) -> None:
        """Wait until the app created the cases of the WeChat messages it answered with reserved numbers."""
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            async with self.sessions() as session:
                if await oldest_pending(session) is None:
                    return
            await asyncio.sleep(0.05)

    async def _answer(self, hub: HubServer, http: httpx.AsyncClient, per_channel: int) -> None:
        desk = StaffDesk(http, hub.base_url, hub.headers)
        cases = await self._stored()
        done: list[Answered] = []
        with self.probe:
            await self._answer_each(desk, cases, done, per_channel)
        with_commits = {a.case_no: self.probe.committed.get(a.case_id, a.committed_at) for a in done}
        latencies = await self._delivered(with_commits)
        per = ", ".join(f"{c} {sum(a.channel.lower() == c for a in done)}" for c in CHANNELS)
        timing = f"; answer commit → channel p50 {percentile(latencies, 50) * 1000:.0f} ms" if latencies else ""
        self.say(f"  answered {len(done)} cases over GraphQL ({per}); the outbox delivered {len(latencies)} "
                 f"back to the fakes{timing}")

    async def _answer_each(self, desk: StaffDesk, cases: list[tuple[Posted, Case]], done: list[Answered],
                           per_channel: int) -> None:
        for channel in CHANNELS:
            mine = [(p, c) for p, c in cases if p.channel == channel and c.status is not CaseStatus.MERGED]
            for item, case in mine[:per_channel]:
                try:
                    answered = await desk.answer(case.id, self._content(item.message))
                except DeskError as exc:
                    self.say(f"  could not answer {case.case_no}: {exc}")
                    continue
                if answered is not None:
                    done.append(answered)

    def _content(self, message: DemoMessage) -> Callable[[str], str]:
        return lambda case_no: answer_text(self.rng, message, case_no)

    async def _stored(self) -> list[tuple[Posted, Case]]:
        async with self.sessions() as session:
            found = []
            for item in self.posted:
                case = (await session.execute(select(Case).where(Case.channel == item.channel.upper(),
                                                                 Case.external_id == item.external_id))).scalar()
                if case is not None:
                    found.append((item, case))
        return found

    async def _delivered(self, committed: dict[str, float], within: float = 15.0) -> list[float]:
        """Seconds from each answer's commit until its channel had it (waiting up to ``within``)."""
        deadline = time.perf_counter() + within
        while True:
            arrived: dict[str, float] = {}
            for name, fake in self.fakes:
                for moment, reply in list(fake.arrivals):
                    found = CASE_NO.search(reply_text(name, reply))
                    if found and found.group(1) in committed:
                        arrived.setdefault(found.group(1), moment)
            if len(arrived) == len(committed) or time.perf_counter() > deadline:
                return [arrived[no] - committed[no] for no in arrived]
            await asyncio.sleep(0.05)
