"""`hub demo`: the district, its last weeks replayed through the four channels' real wire formats, a live tail
through the running API, a summary and staff tokens, then (unless ``serve`` is off) the API on 127.0.0.1."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import Principal, Role
from hub.cases.models import Case, Reply
from hub.clock import utcnow
from hub.db import make_engine, make_sessionmaker
from hub.demo.district import STAFF
from hub.demo.live import LiveTail
from hub.demo.seed import CHANNEL_WEIGHTS, seed_demo
from hub.settings import Settings
from hub.simulate.channels import FakeSet
from hub.simulate.server import HubServer
from hub.simulate.traffic import Traffic

Say = Callable[[str], None]
STATUSES = ("RECEIVED", "DISPATCHED", "CLAIMED", "ANSWERED", "CLOSED", "MERGED")
DELIVERY = ("DELIVERED", "WINDOW_CLOSED", "FAILED", "PENDING")
CHANNEL_VALUES = ("HOTLINE", "WEBSITE", "WEIBO", "WECHAT")
TOKEN_STAFF = ("dispatcher", "handler-zj", "supervisor", "auditor", "admin")


@dataclass(frozen=True)
class DemoOptions:
    """What `hub demo` was asked for."""

    cases: int = 240
    days: int = 60
    seed: int = 20261128
    force: bool = False
    serve: bool = True
    port: int = 8000


def table(title: str, columns: Sequence[str], rows: Sequence[tuple[object, object, int]]) -> list[str]:
    """Counts by channel (rows) and a second key (columns), with totals."""
    cells: dict[str, dict[str, int]] = {}
    for channel, column, count in rows:
        cells.setdefault(str(channel), {})[str(column)] = count
    width = max(11, *(len(c) + 2 for c in columns))
    lines = [f"{title:<10}" + "".join(f"{c:>{width}}" for c in columns) + f"{'total':>8}"]
    for channel in CHANNEL_VALUES:
        counts = cells.get(channel, {})
        lines.append(f"{channel:<10}" + "".join(f"{counts.get(c, 0):>{width}}" for c in columns)
                     + f"{sum(counts.values()):>8}")
    return lines


async def summary_lines(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Cases per channel × status and replies per channel × delivery outcome."""
    async with sessions() as session:
        cases = (await session.execute(
            select(Case.channel, Case.status, func.count()).group_by(Case.channel, Case.status))).all()
        replies = (await session.execute(
            select(Reply.channel, Reply.delivery_status, func.count()).group_by(Reply.channel, Reply.delivery_status)
        )).all()
    return [*table("cases", STATUSES, cases), "", *table("replies", DELIVERY, replies)]


def token_lines(hub: HubServer) -> list[str]:
    """Bearer tokens for the demo staff, as `hub token` prints them."""
    lines = [f"staff tokens (embedded issuer, valid {hub.settings.token_ttl_seconds // 3600} h; "
             "send as `Authorization: Bearer …`):"]
    for member in (m for m in STAFF if m.subject in TOKEN_STAFF):
        command = f"hub token --role {member.role.value}"
        if member.role is Role.HANDLER:
            command += f" --department {member.department}"
        principal = Principal(member.subject, frozenset({member.role}), member.department)
        lines += [f"  {member.subject} ({member.name}; like `{command}`):", f"  {hub.token(principal)}"]
    return lines


def _progress(done: int, total: int) -> None:
    if done == total or done % max(1, total // 20) == 0:
        print(f"\r  {done}/{total} messages", end="\n" if done == total else "", flush=True, file=sys.stderr)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _serve(hub: HubServer, say: Say, fakes: FakeSet | None) -> None:
    say(f"serving the API on {hub.base_url}/graphql (GraphiQL in a browser), with the embedded worker and scheduler")
    if fakes is not None:
        say("the fake channels keep running and the hub is wired to them: "
            + ", ".join(f"{name} {url}" for name, url in fakes.urls().items()))
    say("Ctrl-C stops")
    await hub.wait_closed()


async def run_demo(settings: Settings, options: DemoOptions, *, say: Say = print) -> int:
    """Seed (unless the database has cases and ``force`` is off), run the live tail, print, serve."""
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    port = options.port if options.serve else 0
    try:
        async with sessions() as session:
            existing = int(await session.scalar(select(func.count()).select_from(Case)) or 0)
        if existing and not options.force:
            say(f"the database already holds {existing} cases; `hub demo --force` adds another batch")
            for line in await summary_lines(sessions):
                say(line)
            async with HubServer(settings, port=port, scheduler=options.serve) as hub:
                for line in token_lines(hub):
                    say(line)
                if options.serve:
                    await _serve(hub, say, None)
            return 0
        fakes = FakeSet(clock=utcnow).start()  # the fakes follow the hub's clock: frozen in the past, then live
        try:
            await fakes.continue_ids(sessions)
            wired = fakes.wire(settings)
            rng = random.Random(options.seed)
            _err(f"replaying {options.cases} messages over {options.days} days through the four channels' wire "
                 "formats and connector parsers, each case worked as far as time allows…")
            summary = await seed_demo(sessions, wired, fakes, traffic=Traffic(rng, weights=CHANNEL_WEIGHTS), rng=rng,
                                      cases=options.cases, days=options.days, progress=_progress)
            delivered = ", ".join(f"{count} {status.lower()}" for status, count in sorted(summary.deliveries.items()))
            _err(f"created {summary.cases} cases ({summary.merged} merged as repeats); answers sent back: {delivered}")
            live = LiveTail(sessions, wired, fakes, rng, _err, previous=dict(summary.last_posted))
            live.post_fresh()
            await live.sync()
            async with HubServer(wired, port=port, scheduler=options.serve) as hub:
                await live.through_the_api(hub)
                for line in ["", *await summary_lines(sessions), "", *token_lines(hub)]:
                    say(line)
                if options.serve:
                    await _serve(hub, say, fakes)
                else:
                    say("not serving (--no-serve); `hub serve` serves this database on 127.0.0.1:8000")
        finally:
            fakes.stop()
    finally:
        await engine.dispose()
    return 0
