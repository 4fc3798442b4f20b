"""A realistic district history, loaded fast: ``python -m bench.generate --cases 1000000 --seed 1 --database-url …``.

Days are generated oldest first, each from its own seeded RNG, so a history can be built in steps (``--stop-after``
cases at a time, whole days) and still be the same history as one run; ids, case numbers and trails continue
from what the database holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from bench.district import Target, prepare, target_for
from bench.lifecycle import Simulator
from bench.load import PgCopyWriter, SqliteWriter, Writer
from bench.rows import CITIZEN_POOL, RECENT_CASES, CaseFactory, Ids, Rows, new_rows
from hub.deadlines.calendar import WorkingCalendar
from hub.deadlines.policy import DeadlinePolicy

YEARS = 3
BATCH_CASES = 20_000
# share of a day's messages per local hour (a 12345 centre: a morning and an evening peak)
HOURS = (4, 2, 1, 1, 1, 2, 5, 12, 26, 38, 40, 36, 28, 30, 36, 38, 36, 32, 26, 26, 24, 20, 14, 8)
MONTHS = (1.0, 0.78, 0.95, 1.0, 1.05, 1.12, 1.2, 1.2, 1.08, 0.98, 1.0, 1.02)  # Spring Festival dip, summer peak


@dataclass(frozen=True)
class Report:
    """What a generation run did."""

    cases: int
    days: int
    events: int
    seconds: float
    first_day: dt.date | None
    last_day: dt.date | None

    @property
    def rate(self) -> float:
        """Cases per second."""
        return self.cases / self.seconds if self.seconds else 0.0


def plan_days(total: int, seed: int, end: dt.date, years: int = YEARS) -> list[tuple[dt.date, int]]:
    """How many cases each local day of the history gets (sums to ``total``): growth, season, weekday, noise."""
    rng = random.Random(f"plan:{seed}")
    days = [end - dt.timedelta(days=i) for i in range(years * 365 - 1, -1, -1)]
    weights = []
    for index, day in enumerate(days):
        growth = 1 + 0.12 * index / 365
        weekday = 0.72 if day.weekday() >= 5 else 1.0
        weights.append(growth * weekday * MONTHS[day.month - 1] * rng.lognormvariate(0, 0.12))
    scale = total / sum(weights)
    plan, carry = [], 0.0
    for day, weight in zip(days, weights, strict=True):
        exact = weight * scale + carry
        count = math.floor(exact)
        carry = exact - count
        plan.append((day, count))
    short = total - sum(c for _, c in plan)
    if short:
        plan[-1] = (plan[-1][0], plan[-1][1] + short)
    return plan


def _writer(target: Target) -> Writer:
    return PgCopyWriter(target.libpq_url) if target.is_postgres else SqliteWriter(target.sync_url)


def generate(
    url: str,
    *,
    cases: int,
    seed: int = 1,
    end: dt.datetime | None = None,
    stop_after: int | None = None,
    reset: bool = False,
    vacuum: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
) -> Report:
    """Build (or continue) the history of ``cases`` cases ending at ``end``; at most ``stop_after`` cases now."""
    target = target_for(url)
    departments = prepare(target, reset=reset)
    settings = target.settings
    calendar = WorkingCalendar.from_settings(settings)
    end = (end or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    local_end = end.astimezone(calendar.tz)
    writer = _writer(target)
    pool, pending = ThreadPoolExecutor(max_workers=1), None  # the database loads batch n while we build n + 1
    started = time.perf_counter()
    made = events = days_done = 0
    first = last = None
    try:
        marker = f"B_{seed}-"  # every generated external id: B<channel letter><seed>-<case id>
        resume_after = writer.last_received(marker)
        done_day = resume_after.astimezone(calendar.tz).date() if resume_after else None
        ids = Ids(writer.start_ids())
        counters = writer.counters()
        factory = CaseFactory(
            seed=seed,
            ids=ids,
            departments=departments,
            counters=counters,
            simulator=Simulator(calendar, DeadlinePolicy.from_settings(settings), end, ids),
            recent=writer.recent_cases(RECENT_CASES),
            citizens=writer.recent_citizens(CITIZEN_POOL),
            prefix=settings.case_no_prefix,
        )
        budget = stop_after if stop_after is not None else cases
        rows, in_batch = new_rows(), 0
        for day, count in plan_days(cases, seed, local_end.date()):
            if done_day is not None and day <= done_day:
                continue
            if made >= budget:
                break
            rng = random.Random(f"day:{seed}:{day.isoformat()}")
            moments = sorted(_moment(rng, day, calendar.tz) for _ in range(count))
            day_start = dt.datetime.combine(day, dt.time(), tzinfo=calendar.tz)
            squeeze = min(1.0, (end - day_start).total_seconds() / 86_400)  # the last day ends now
            for moment in moments:
                factory.build(rng, day_start + (moment - day_start) * squeeze, rows)
            first = first or day
            last, made, days_done, in_batch = day, made + count, days_done + 1, in_batch + count
            if in_batch >= BATCH_CASES:
                events += len(rows["case_event"])
                pending = _flush(pool, pending, writer, rows)
                rows, in_batch = new_rows(), 0
                if progress:
                    progress(made, budget, time.perf_counter() - started)
        if in_batch:
            events += len(rows["case_event"])
            pending = _flush(pool, pending, writer, rows)
        if pending is not None:
            pending.result()
        writer.finish(counters, vacuum=vacuum)
    finally:
        pool.shutdown(wait=True)
        writer.close()
    if progress:
        progress(made, budget, time.perf_counter() - started)
    return Report(made, days_done, events, time.perf_counter() - started, first, last)


def _flush(pool: ThreadPoolExecutor, pending: Future[None] | None, writer: Writer, rows: Rows) -> Future[None]:
    if pending is not None:
        pending.result()
    return pool.submit(writer.write, rows)


def _moment(rng: random.Random, day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    hour = rng.choices(range(24), weights=HOURS)[0]
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=tz) + dt.timedelta(seconds=rng.uniform(0, 3600))
    return local.astimezone(dt.UTC)


def print_progress(done: int, total: int, seconds: float) -> None:
    """One progress line on stderr."""
    rate = done / seconds if seconds else 0.0
    eta = (total - done) / rate if rate else 0.0
    print(
        f"\r  generated {done:>9,}/{total:,} cases  {rate:>7,.0f}/s  eta {eta:>5.0f}s",
        end="",
        file=sys.stderr,
        flush=True,
    )
    if done >= total:
        print(file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000, help="cases in the whole 3-year history")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", required=True, help="postgresql://… (COPY) or sqlite:///… (small sizes)")
    parser.add_argument("--end", help="last moment of the history, ISO 8601 (default: now)")
    parser.add_argument("--stop-after", type=int, help="generate at most this many more cases now (whole days)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    args = parser.parse_args(argv)
    end = dt.datetime.fromisoformat(args.end) if args.end else None
    if end is not None and end.tzinfo is None:
        end = end.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    report = generate(
        args.database_url,
        cases=args.cases,
        seed=args.seed,
        end=end,
        stop_after=args.stop_after,
        reset=args.reset,
        progress=print_progress,
    )
    print(
        f"generated {report.cases:,} cases over {report.days} days ({report.first_day} … {report.last_day}), "
        f"{report.events:,} trail events in {report.seconds:.1f}s ({report.rate:,.0f} cases/s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
