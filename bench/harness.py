"""The whole run: build the history (ingest measured along the way), then query, serve, callback and memory."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

from bench import ingest, queries, wechat
from bench.district import prepare, target_for
from bench.generate import generate, print_progress
from bench.inbox import OPEN, InboxLoad, handler_token, load_api, load_baseline, same_cases, statements_per_request
from bench.procs import Proc, start_api, start_baseline, start_worker
from bench.report import Report, ms, rate, ratio
from hub.migrate import upgrade_to_head


@dataclass(frozen=True)
class Mode:
    """Sizes and bounds of a run."""

    name: str
    cases: int
    checkpoints: tuple[int, ...]
    drafts: int
    inbox: InboxLoad
    wechat_rates: tuple[int, ...]
    wechat_seconds: float


WECHAT_RATES = (10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 600, 800, 1000)
QUICK = Mode(
    "quick", 20_000, (0, 20_000), 300, InboxLoad(8, 600, 12.0), WECHAT_RATES, 4.0
)
FULL = Mode(
    "full",
    1_000_000,
    tuple(range(0, 1_000_001, 100_000)),
    1000,
    InboxLoad(8, 3000, 30.0),
    WECHAT_RATES,
    8.0,
)


def _section(title: str) -> None:
    print(f"\n== {title}", flush=True)


INGEST_ROUNDS = 5  # ingest and COPY alternate; each figure is the median round (a 1,000-case COPY moves 2× run to run)
SMALL_PAGE = 50  # the page of earlier sessions' figures, measured beside for comparison


async def _ingest_at(report: Report, url: str, existing: int, mode: Mode, seed: int) -> dict[str, Any]:
    tag = f"{seed}x{existing}"
    worker = ingest.IngestWorker(target_for(url).settings)
    rounds: list[dict[str, dict[str, Any]]] = []
    try:
        # warm, as a running worker is: its connections, compiled statements, the suggester's helper process
        await ingest.ingest_rate(worker, tag=tag + "w", count=200, seed=seed)
        for n in range(INGEST_ROUNDS):
            real = await ingest.ingest_rate(worker, tag=f"{tag}r{n}", count=mode.drafts, seed=seed + n)
            small = await ingest.ingest_rate(worker, tag=f"{tag}s{n}", count=mode.drafts, seed=seed + n,
                                             page=SMALL_PAGE)
            copy = await asyncio.to_thread(ingest.copy_rate, target_for(url).libpq_url, f"{tag}r{n}")
            rounds.append({"ingest": real, "small_pages": small, "copy": copy})
    finally:
        await worker.close()

    def median(key: str) -> dict[str, Any]:
        return sorted((r[key] for r in rounds), key=lambda figure: figure["rate"] or 0)[INGEST_ROUNDS // 2]

    real, small, copy = median("ingest"), median("small_pages"), median("copy")
    share = real["rate"] / copy["rate"] if copy["rate"] else 0.0
    small_share = small["rate"] / copy["rate"] if copy["rate"] else 0.0
    report.add(
        f"ingest at {existing:,} cases, pages of {ingest.PAGE} (median of {INGEST_ROUNDS})",
        rate(real["rate"], " cases/s"),
        rate(copy["rate"], " cases/s COPY"),
        f"{share:.1%} of COPY",
        "≥ 25% of COPY",
        share >= 0.25,
    )
    report.add(f"ingest at {existing:,} cases, pages of {SMALL_PAGE}", rate(small["rate"], " cases/s"),
               rate(copy["rate"], " cases/s COPY"), f"{small_share:.1%} of COPY")
    return {
        "existing": existing,
        "ingest": real,
        "small_pages": small,
        "copy": copy,
        "share_of_copy": round(share, 4),
        "small_pages_share_of_copy": round(small_share, 4),
        "rounds": rounds,
    }


async def _build(report: Report, url: str, mode: Mode, seed: int, end: dt.datetime, reuse: bool) -> None:
    _section(f"data + ingest ({mode.cases:,} cases, checkpoints {', '.join(f'{c:,}' for c in mode.checkpoints)})")
    target = target_for(url)
    if reuse:
        report.data["generation"] = {"reused": True}
    else:
        await asyncio.to_thread(prepare, target, reset=True)
    made, seconds, events, ingest_points = 0, 0.0, 0, []
    if reuse:
        existing = await _existing(url)
        report.data["ingest"] = [await _ingest_at(report, url, existing, mode, seed)]
        return
    for checkpoint in mode.checkpoints:
        if checkpoint > made:
            step = await asyncio.to_thread(
                generate,
                url,
                cases=mode.cases,
                seed=seed,
                end=end,
                stop_after=checkpoint - made,
                vacuum=False,
                progress=print_progress,
            )
            made, seconds, events = made + step.cases, seconds + step.seconds, events + step.events
        ingest_points.append(await _ingest_at(report, url, made, mode, seed))
    report.data["ingest"] = ingest_points
    report.data["vacuum_seconds"] = await asyncio.to_thread(_vacuum, target.libpq_url)
    report.data["generation"] = {
        "cases": made,
        "events": events,
        "seconds": round(seconds, 1),
        "rate": round(made / seconds, 1) if seconds else None,
    }
    report.add(
        "generate history (COPY)",
        f"{made:,} cases, {events:,} events in {seconds:,.0f} s",
        "",
        rate(made / seconds if seconds else None, " cases/s"),
        "1M in < 15 min",
        None if made < 1_000_000 else seconds < 900,
    )


def _vacuum(libpq_url: str) -> float:
    """VACUUM ANALYZE once the history is built (visibility map and planner statistics for the queries)."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return round(time.perf_counter() - started, 1)


async def _existing(url: str) -> int:
    from hub.db import make_engine, make_sessionmaker

    engine = make_engine(target_for(url).settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await queries.count_cases(session)
    finally:
        await engine.dispose()


def _counted(found: dict[str, Any]) -> str:
    """How the search's total was counted: exactly, or up to the cap ("count to 1,000+")."""
    return f"count to {found['matches']:,}+" if found.get("matches_capped") else "count"


async def _queries(report: Report, url: str) -> None:
    _section("search and statistics")
    settings = target_for(url).settings
    found = await queries.search_figures(settings)
    report.data["search"] = found
    for f in found:
        report.add(
            f"search {f['term']} ({f['baseline_matches']:,} matches; {_counted(f)} + page of 20)",
            ms(f["ms"]),
            ms(f["baseline_like_ms"]) + " LIKE scan",
            ratio(f["ms"], f["baseline_like_ms"]),
            "< 100 ms",
            f["ms"] < 100 and f["same_matches"],
        )
    if not queries.stats_available():
        report.skip("statistics 三率 by department × month", "not available yet (hub/stats has not landed)")
        return
    figures = await queries.stats_figures(settings)
    report.data["stats"] = figures
    report.add(
        "stats 三率 by department × month, all data",
        ms(figures["ms"]),
        ms(figures["reference_ms"]) + " sql_reference",
        f"{figures['ratio']}×",
        "within 1.5×",
        figures["ratio"] is not None and figures["ratio"] <= 1.5,
    )
    report.add("stats incl. median/p90 handling time", ms(figures["with_handling_time_ms"]), "", "", "")


async def _inbox(report: Report, url: str, mode: Mode, api: Proc, baseline: Proc) -> None:
    _section("inbox (handler NH-ZJ: open cases, 50 per page) over HTTP")
    settings = target_for(url).settings
    token = handler_token(settings)
    small, small_log = await statements_per_request(settings, token, 10, OPEN)
    large, large_log = await statements_per_request(settings, token, 50, OPEN)
    report.add(
        "inbox SQL statements per request (page 10 / 50; + read-log rows)",
        f"{small} + {small_log} / {large} + {large_log}",
        "1 (hand-written)",
        "",
        "same for both sizes",
        small == large,
    )
    same = await same_cases(api, baseline, token, first=50, status=OPEN)
    figures: dict[str, Any] = {
        "statements": {"10": small, "50": large},
        "read_log_rows": {"10": small_log, "50": large_log},
        "same_data_as_baseline": same,
    }
    single = replace(mode.inbox, concurrency=1, max_requests=mode.inbox.max_requests // 4)
    for first in (50, 10):
        # latency: one client at a time (no queueing); throughput: the configured number of clients
        mine, theirs = (
            await load_api(api, token, single, first=first, status=OPEN),
            await load_baseline(baseline, single, first=first, status=OPEN),
        )
        busy, busy_base = (
            await load_api(api, token, mode.inbox, first=first, status=OPEN),
            await load_baseline(baseline, mode.inbox, first=first, status=OPEN),
        )
        api.sample()
        figures[str(first)] = {
            "latency": {"api": mine.summary(), "baseline": theirs.summary()},
            "throughput": {"api": busy.summary(), "baseline": busy_base.summary()},
        }
        share = busy.rps / busy_base.rps if busy_base.rps else 0.0
        report.add(
            f"inbox page {first}: p50 / p99, 1 client",
            f"{ms(mine.pct(50))} / {ms(mine.pct(99))}",
            f"{ms(theirs.pct(50))} / {ms(theirs.pct(99))}",
            ratio(mine.pct(50), theirs.pct(50)),
            "p50 < 20 ms",
            (mine.pct(50) or 1e9) < 20 and mine.errors == 0,
        )
        report.add(
            f"inbox page {first}: throughput, {mode.inbox.concurrency} clients (p50 / p99)",
            f"{rate(busy.rps, ' req/s')} ({ms(busy.pct(50))} / {ms(busy.pct(99))})",
            f"{rate(busy_base.rps, ' req/s')} ({ms(busy_base.pct(50))} / {ms(busy_base.pct(99))})",
            f"{share:.0%} of baseline",
            "≥ 50% of baseline",
            share >= 0.5 and busy.errors == 0,
        )
    report.data["inbox"] = figures


async def _wechat(report: Report, mode: Mode, api: Proc) -> None:
    _section("WeChat callback (safe mode) at rising rates")
    why = await asyncio.to_thread(wechat.available, api)
    if why:
        report.skip("WeChat callback: rate where p99 passes 1 s", why)
        return
    generator = await wechat.capacity(seconds=2.0)
    held = [s["rate"] for s in generator["raw"] if s["errors"] == 0 and (s["p99_ms"] or 1e9) < 100]
    report.add(
        "WeChat load generator alone (trivial endpoint, p99 < 100 ms)",
        f"{max(held, default=0):,} req/s",
        "httpx: " + ", ".join(f"{s['rate']}/s p99 {ms(s['p99_ms'])}" for s in generator["httpx"]),
    )
    figures = await wechat.ramp(api, rates=mode.wechat_rates, seconds=mode.wechat_seconds)
    figures["generator"] = generator
    report.data["wechat"] = figures
    breaking, held = figures["p99_passes_1s_at"], figures["highest_rate_within_1s"]
    value = f"{breaking} msg/s" if breaking else f"> {mode.wechat_rates[-1]} msg/s (not reached)"
    report.add(
        "WeChat callback: rate where p99 passes 1 s",
        value,
        "",
        f"held {held} msg/s",
        "> 500 msg/s",
        (breaking or 10**9) > 500,
    )


def _redis_ok(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except Exception:  # no Redis here: the worker figure is skipped
        return False


SECTIONS = ("ingest", "queries", "inbox", "wechat")


async def run(
    url: str,
    mode: Mode,
    *,
    seed: int = 1,
    reuse: bool = False,
    redis_url: str,
    only: frozenset[str] = frozenset(),
    api_workers: int = 1,
) -> Report:
    """Every section in order (or ``only`` those, with ``reuse``); a section whose feature has not landed says so."""
    wanted = only or frozenset(SECTIONS)
    report = Report(mode.name)
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    report.data["meta"] = {
        "database": url.rsplit("@", 1)[-1],
        "seed": seed,
        "history_end": None if reuse else end.isoformat(),
        "started": dt.datetime.now(dt.UTC).isoformat(),
    }
    began = time.perf_counter()
    if reuse:  # a database built by older code: bring its schema to this code's (a no-op when current)
        await asyncio.to_thread(upgrade_to_head, target_for(url).sync_url)
    if "ingest" in wanted or not reuse:
        await _build(report, url, mode, seed, end, reuse)
    if "queries" in wanted:
        await _guard(report, "search and statistics", _queries(report, url))
    if not wanted & {"inbox", "wechat"}:
        return report
    worker, redis = None, _redis_ok(redis_url)
    if importlib.util.find_spec("hub.jobs.worker") and redis:
        worker = start_worker(url, redis_url)
    # With Redis the API runs no embedded worker or scheduler (the production shape): nothing else touches the data.
    if api_workers > 1 and not redis:
        raise SystemExit("bench: --api-workers above 1 needs Redis (hub serve --workers needs HUB_REDIS_URL)")
    report.data["meta"]["api_workers"] = api_workers
    api = start_api(
        url, workers=api_workers, **wechat.server_env(), **({"HUB_REDIS_URL": redis_url} if redis else {})
    )
    baseline = start_baseline(url)
    try:
        if "inbox" in wanted:
            await _guard(report, "inbox", _inbox(report, url, mode, api, baseline))
        if "wechat" in wanted:
            await _guard(report, "WeChat callback", _wechat(report, mode, api))
    finally:
        for proc in (api, baseline, worker):
            if proc is not None:
                proc.stop()
    _section("memory (peak RSS)")
    memory = {p.name: p.peak_mb for p in (api, baseline, worker) if p is not None}
    report.data["memory_mb"] = memory
    report.add(
        "peak RSS: hub serve (API)", f"{api.peak_mb or 0:,.0f} MiB", f"{baseline.peak_mb or 0:,.0f} MiB baseline app"
    )
    if worker is None:
        report.skip("peak RSS: hub worker", "not measured (hub.jobs.worker or Redis not available)")
    elif worker.popen.returncode not in (None, 0, -2, 130):
        report.skip(
            "peak RSS: hub worker", f"worker exited with {worker.popen.returncode} (see bench/results/worker.log)"
        )
    else:
        report.add("peak RSS: hub worker", f"{worker.peak_mb or 0:,.0f} MiB")
    report.data["meta"]["seconds"] = round(time.perf_counter() - began, 1)
    return report


async def _guard(report: Report, name: str, section: Coroutine[Any, Any, None]) -> None:
    """Run a section; a failure (e.g. a half-landed feature elsewhere) is one line in the table, not the end."""
    try:
        await section
    except Exception as exc:  # report and go on: the other sections still mean something
        first = (str(exc) or type(exc).__name__).splitlines()[0][:200]
        report.skip(f"{name} (section failed)", f"{type(exc).__name__}: {first}")


def check_server(url: str) -> None:
    """Fail early, in one line, when PostgreSQL is not reachable."""
    import psycopg

    try:
        psycopg.connect(target_for(url).libpq_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()
    except psycopg.Error as exc:
        print(f"bench: PostgreSQL not reachable at {url.rsplit('@', 1)[-1]}: {exc}".splitlines()[0], file=sys.stderr)
        raise SystemExit(2) from None
