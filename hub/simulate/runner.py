"""`hub simulate`: the four fake channels and the hub's API (embedded worker) on 127.0.0.1, citizens writing at a
given rate, periodic sync passes, the department side answering over GraphQL, optional faults, a line per second
and a final summary that checks nothing was dropped or duplicated and every answer reached its channel once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import SYSTEM
from hub.cases.models import Case
from hub.context import ServiceContext
from hub.db import make_engine, make_sessionmaker, transaction
from hub.demo.district import seed_district
from hub.demo.texts import answer_text
from hub.ingest.config import ConnectorPool
from hub.ingest.sync import sync_channel
from hub.jobs.settings import JobSettings, load_job_settings
from hub.settings import Settings
from hub.simulate import faults
from hub.simulate.channels import CASE_NO, CHANNELS, PULL_CHANNELS, FakeSet, Posted, post, reply_text
from hub.simulate.department import Answered, DeskError, StaffDesk
from hub.simulate.probe import CommitProbe
from hub.simulate.report import SimulationReport, SyncTally
from hub.simulate.server import HubServer
from hub.simulate.traffic import Traffic

Say = Callable[[str], None]


@dataclass(frozen=True)
class SimulationOptions:
    """How much traffic, for how long, with or without faults."""

    rate: float = 10.0  # messages per second, all channels together
    duration: float = 30.0  # seconds of traffic
    faults: bool = False  # faults from 20 % to 60 % of the run (at least a few sync passes), then recovery
    seed: int = 1
    port: int = 8000  # 0: any free port
    sync_every: float = 1.0  # seconds between sync passes of each pull channel
    answer_share: float = 0.4  # share of stored cases the departments answer during the run
    drain: float = 30.0  # at most this long after the traffic for everything to land


def simulation_jobs() -> JobSettings:
    """Job settings with retries in fractions of a second, so a simulated outage recovers within the run."""
    return load_job_settings(sync_retry_base_seconds=0.05, sync_default_pause_seconds=1.0,
                             reply_retry_base_seconds=0.2, reply_retry_cap_seconds=1.0, reply_max_attempts=15)


class Simulation:
    """One run: its tasks share the fakes, the API and the tallies."""

    def __init__(self, options: SimulationOptions, sessions: async_sessionmaker[AsyncSession], settings: Settings,
                 fakes: FakeSet, hub: HubServer, http: httpx.AsyncClient, probe: CommitProbe, say: Say) -> None:
        self.o, self.sessions, self.settings, self.fakes, self.hub, self.http = \
            options, sessions, settings, fakes, hub, http
        self.probe, self.say = probe, say
        self.rng = random.Random(options.seed)
        self.traffic = Traffic(self.rng)
        self.jobs = simulation_jobs()
        self.pool = ConnectorPool(settings, http)
        self.desk = StaffDesk(http, hub.base_url, hub.headers)
        self.report = SimulationReport(options.duration, options.rate, options.seed, options.faults)
        self.posted: dict[tuple[str, str], Posted] = {}
        self.outstanding: dict[str, set[str]] = {c: set() for c in CHANNELS}
        self.to_answer: list[tuple[float, int, Posted]] = []
        self.answered: dict[str, Answered] = {}
        self.inflight: set[asyncio.Task[None]] = set()
        self.calls = asyncio.Semaphore(16)
        self.traffic_over = asyncio.Event()
        self.answers_over = asyncio.Event()
        self.landed = asyncio.Event()
        self.started = 0.0

    # --- citizens ---------------------------------------------------------------------------------------------

    async def citizens(self) -> None:
        """Messages at ``rate`` (Poisson arrivals) for ``duration`` seconds."""
        due = time.perf_counter()
        end = self.started + self.o.duration
        try:
            while True:
                due += self.rng.expovariate(self.o.rate)
                if due >= end:
                    break
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                out = self.traffic.next(dt.datetime.now(dt.UTC))
                item = post(self.fakes, out.channel, out.message, out.citizen, self.rng)
                self.posted[(item.channel, item.external_id)] = item
                self.outstanding[item.channel].add(item.external_id)
                self.report.channels[item.channel].sent += 1
                if item.channel == "wechat":
                    self._spawn(self._wechat(item))
                elif item.channel == "hotline" and self.rng.random() < 0.1:
                    self._spawn(self._push(item))
        finally:
            self.traffic_over.set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._counted(work))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    async def _counted(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except httpx.HTTPError:  # the channel gave up on the hub: the summary shows the message as not stored
            self.report.push_failures += 1

    async def _wechat(self, item: Posted) -> None:
        assert isinstance(item.payload, str)
        async with self.calls:
            started = time.perf_counter()
            await self.fakes.wechat.deliver(self.http, f"{self.hub.base_url}/channels/wechat", item.payload)
            self.report.callback_latency.append(time.perf_counter() - started)
            if self._faulty() and self.rng.random() < 0.3:  # WeChat sends a callback again when unsure it arrived
                await self.fakes.wechat.deliver(self.http, f"{self.hub.base_url}/channels/wechat", item.payload)
                self.report.wechat_retries += 1

    async def _push(self, item: Posted) -> None:
        async with self.calls:
            await self.fakes.hotline.push(self.http, f"{self.hub.base_url}/channels/hotline", item.external_id)
            self.report.hotline_pushes += 1

    # --- the hub's side ---------------------------------------------------------------------------------------

    async def sync_once(self) -> None:
        """One pass per pull channel."""
        for channel in PULL_CHANNELS:
            began = time.perf_counter()
            result = await sync_channel(sessions=self.sessions, settings=self.settings, channel=channel,
                                        connector=self.pool.get(channel), job_settings=self.jobs)
            tally = self.report.sync
            if result.skipped:
                tally.paused += 1
                continue
            tally.passes += 1
            tally.created += result.created
            tally.busy_seconds += time.perf_counter() - began
            tally.stopped += int(not result.ok)

    async def syncer(self, stop: asyncio.Event) -> None:
        """A pass per pull channel every ``sync_every`` seconds."""
        while not stop.is_set():
            await self.sync_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.o.sync_every)

    async def watch_stored(self) -> int:
        """Note the cases stored since the last look; some become work for the departments."""
        found = 0
        async with self.sessions() as session:
            for channel, ids in self.outstanding.items():
                batch = list(ids)[:500]
                if not batch:
                    continue
                rows = (await session.execute(select(Case.external_id, Case.id, Case.created_at).where(
                    Case.channel == channel.upper(), Case.external_id.in_(batch)))).all()
                for external_id, case_id, created_at in rows:
                    ids.discard(external_id)
                    item = self.posted[(channel, external_id)]
                    self.report.channels[channel].stored += 1
                    if channel != "wechat":
                        self.report.ingest_latency.append(max(0.0, created_at.timestamp() - item.sent_wall))
                    if not self.traffic_over.is_set() and self.rng.random() < self.o.answer_share:
                        self.to_answer.append((time.perf_counter() + self.rng.uniform(0.2, 1.0), case_id, item))
                    found += 1
        return found

    async def departments(self, desks: int = 3) -> None:
        """Answer what is due (a few staff at once) until the traffic ends; answers under way are finished."""
        busy = asyncio.Semaphore(desks)
        running: set[asyncio.Task[None]] = set()
        while not self.traffic_over.is_set():
            now = time.perf_counter()
            due = [entry for entry in self.to_answer if entry[0] <= now]
            self.to_answer = [entry for entry in self.to_answer if entry[0] > now]
            for _due, case_id, item in due:
                await busy.acquire()
                if self.traffic_over.is_set():
                    busy.release()
                    break
                task = asyncio.create_task(self._answer(case_id, item, busy))
                running.add(task)
                task.add_done_callback(running.discard)
            await asyncio.sleep(0.1)
        await asyncio.gather(*running, return_exceptions=True)
        self.answers_over.set()

    async def _answer(self, case_id: int, item: Posted, busy: asyncio.Semaphore) -> None:
        try:
            done = await self.desk.answer(case_id, lambda no: answer_text(self.rng, item.message, no),
                                          direct=self.rng.random() < 0.5)
        except (DeskError, httpx.HTTPError):
            self.report.desk_errors += 1
            return
        finally:
            busy.release()
        if done is not None:
            self.answered[done.case_no] = done
            self.report.channels[item.channel].answered += 1

    def tally_replies(self) -> int:
        """Count answers that reached their channel (and any that arrived twice); the reply latencies."""
        seen: Counter[str] = Counter()
        latency: list[float] = []
        for name, fake in self.fakes:
            tally = self.report.channels[name]
            tally.errors = fake.faults_served
            tally.delivered = tally.duplicates = 0
            for moment, reply in list(fake.arrivals):
                found = CASE_NO.search(reply_text(name, reply))
                if not found or found.group(1) not in self.answered:
                    continue
                seen[found.group(1)] += 1
                if seen[found.group(1)] == 1:
                    tally.delivered += 1
                    answered = self.answered[found.group(1)]
                    latency.append(moment - self.probe.committed.get(answered.case_id, answered.committed_at))
                else:
                    tally.duplicates += 1
        self.report.reply_latency = latency
        for name, tally in self.report.channels.items():
            tally.undelivered = [no for no, done in self.answered.items() if done.channel.lower() == name
                                 and no not in seen]
        return len(seen)

    # --- the run ----------------------------------------------------------------------------------------------

    def fault_window(self) -> tuple[float, float]:
        """Seconds into the run when faults start and stop: 20 % to 60 %, but at least a few sync passes long."""
        start = 0.2 * self.o.duration
        return start, min(max(0.6 * self.o.duration, start + 2.5 * self.o.sync_every), 0.9 * self.o.duration)

    def _faulty(self) -> bool:
        elapsed = time.perf_counter() - self.started
        start, end = self.fault_window()
        return self.o.faults and start <= elapsed < end

    async def run(self) -> SimulationReport:
        """Prime the cursors, play the traffic, drain, and tally."""
        await self.sync_once()  # a first pass sets each cursor, so nothing posted from now on is before it
        start, end = self.fault_window()
        self.say(f"playing {self.o.rate:g} msg/s for {self.o.duration:g} s (seed {self.o.seed}"
                 + (f"; faults from {start:.1f} s to {end:.1f} s, then recovery)" if self.o.faults else ")"))
        self.report.sync = SyncTally()
        self.started = time.perf_counter()
        stop = asyncio.Event()
        citizens, desk = asyncio.create_task(self.citizens()), asyncio.create_task(self.departments())
        helpers = [asyncio.create_task(work(stop))
                   for work in (self.syncer, self.watcher, self.reporter, self.fault_player)]
        loop, me = asyncio.get_running_loop(), asyncio.current_task()
        if me is not None:
            with contextlib.suppress(RuntimeError, NotImplementedError):  # SIGTERM ends the run as Ctrl-C does
                loop.add_signal_handler(signal.SIGTERM, me.cancel)
        try:
            await asyncio.wait([citizens, desk])
            with contextlib.suppress(TimeoutError):  # the watcher says when everything landed, or the drain ends it
                await asyncio.wait_for(self.landed.wait(), self.o.drain + 5)
        except asyncio.CancelledError:
            self.report.interrupted = True
        finally:
            with contextlib.suppress(RuntimeError, NotImplementedError):
                loop.remove_signal_handler(signal.SIGTERM)
            stop.set()
            tasks = (*helpers, desk, citizens, *self.inflight)
            if self.report.interrupted:
                for task in tasks:
                    task.cancel()
            await asyncio.wait(tasks, timeout=15)  # the last sync pass finishes rather than being cut off
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            faults.recover(self.fakes)
        await self.watch_stored()
        self.tally_replies()
        return self.report

    async def watcher(self, stop: asyncio.Event) -> None:
        """Look for newly stored cases four times a second; once the traffic is over, for the end of the run."""
        while not stop.is_set():
            await self.watch_stored()
            if self.answers_over.is_set() and not self.inflight and self._settled():
                self.landed.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)

    async def reporter(self, stop: asyncio.Event) -> None:
        """A line per second (from what is known: a case stored behind a held database lock shows up later)."""
        second = 1
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, self.started + second - time.perf_counter()))
            if not stop.is_set():
                self._line(second)
                second = max(second + 1, int(time.perf_counter() - self.started) + 1)

    async def fault_player(self, stop: asyncio.Event) -> None:
        """Inject a round of faults every half second inside the fault window, then let the channels recover."""
        injected = False
        while not stop.is_set():
            if self._faulty():
                faults.inject_some(self.fakes, self.rng)
                injected = True
            elif injected:
                faults.recover(self.fakes)
                injected = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    def _settled(self) -> bool:
        """Everything sent is stored and every answer has reached its channel, or the drain time is up."""
        landed = not any(self.outstanding.values()) and self.tally_replies() == len(self.answered)
        return landed or time.perf_counter() - self.started > self.o.duration + self.o.drain

    def _line(self, second: int) -> None:
        t = self.report.channels.values()
        delivered = self.tally_replies()
        flag = "  (faults)" if self._faulty() else ""
        self.say(f"{second:5d}s  sent {sum(x.sent for x in t):5d}  stored {sum(x.stored for x in t):5d}  "
                 f"answered {len(self.answered):4d}  delivered {delivered:4d}  "
                 f"errors {self.fakes.faults_served():4d}{flag}")


async def run_simulation(settings: Settings, options: SimulationOptions, *, say: Say = print) -> SimulationReport:
    """Start the fakes and the API on 127.0.0.1, run the simulation, stop everything; the report."""
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    fakes = FakeSet()
    try:
        async with transaction(sessions) as session:
            await seed_district(ServiceContext(session, SYSTEM, settings))
        fakes.start()
        await fakes.continue_ids(sessions)
        wired = fakes.wire(settings)
        async with HubServer(wired, port=options.port, jobs=simulation_jobs()) as hub, \
                httpx.AsyncClient(timeout=15.0) as http:
            say(f"hub API on {hub.base_url} (GraphiQL at /graphql); fake channels: "
                + ", ".join(f"{name} {url}" for name, url in fakes.urls().items()))
            with CommitProbe() as probe:
                return await Simulation(options, sessions, wired, fakes, hub, http, probe, say).run()
    finally:
        fakes.stop()
        await engine.dispose()
