"""`python -m bench [--quick|--full]`: build the district history and measure the hub against baselines."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from bench.harness import FULL, QUICK, SECTIONS, check_server, run

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hub_bench_{mode}"


def main(argv: list[str] | None = None) -> int:
    """Run the harness; the table goes to stdout, the JSON to bench/results/."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="20,000 cases, a few minutes (default)")
    group.add_argument("--full", action="store_true", help="1,000,000 cases, ingest at every 100,000")
    parser.add_argument("--database-url", help=f"PostgreSQL on 127.0.0.1 (default {DEFAULT_URL})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reuse", action="store_true", help="measure an already generated database instead of rebuilding it"
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=[], help="with --reuse: run only these sections")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9", help="for the worker's memory figure")
    parser.add_argument(
        "--api-workers", type=int, default=1, help="`hub serve --workers N` (default 1, as the baseline app)"
    )
    args = parser.parse_args(argv)
    mode = FULL if args.full else QUICK
    url = args.database_url or DEFAULT_URL.format(mode=mode.name)
    check_server(url)
    print(f"bench {mode.name}: {url.rsplit('@', 1)[-1]}", flush=True)
    if args.only and not args.reuse:
        parser.error("--only needs --reuse (the sections measure an existing history)")
    only = frozenset(args.only)
    report = asyncio.run(
        run(
            url,
            mode,
            seed=args.seed,
            reuse=args.reuse,
            redis_url=args.redis_url,
            only=only,
            api_workers=args.api_workers,
        )
    )
    path = report.save(dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    print("\n" + report.table())
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
