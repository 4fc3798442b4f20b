"""The `hub` command: one entry for every process and chore (DESIGN §6)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from hub.errors import HubError
from hub.settings import Settings, get_settings


def _progress(done: int, total: int) -> None:
    if done == total or done % max(1, total // 20) == 0:
        print(f"\r  {done}/{total} cases", end="\n" if done == total else "", flush=True, file=sys.stderr)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    """Upgrade the database to the newest schema."""
    from hub.migrate import upgrade_to_head

    upgrade_to_head(settings.sync_database_url)
    print(f"database at head ({'SQLite' if settings.is_sqlite else 'PostgreSQL'})")
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from hub.cases.models import Case
    from hub.db import make_engine, make_sessionmaker
    from hub.demo.seed import seed_demo

    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            existing = await session.scalar(select(func.count()).select_from(Case))
        if existing and not args.force:
            print(f"the database already holds {existing} cases; `hub demo --force` adds another batch")
        else:
            print(f"seeding the demo district with {args.cases} cases over {args.days} days…", file=sys.stderr)
            summary = await seed_demo(
                sessions, settings, cases=args.cases, days=args.days, seed=args.seed, progress=_progress
            )
            print(f"created {summary.cases} cases")
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(Case.channel, Case.status, func.count()).group_by(Case.channel, Case.status)
                )
            ).all()
        _print_table(rows)
    finally:
        await engine.dispose()
    return 0


def _print_table(rows: Sequence[tuple[object, object, int]]) -> None:
    statuses = ["RECEIVED", "DISPATCHED", "CLAIMED", "ANSWERED", "CLOSED", "MERGED"]
    table: dict[str, dict[str, int]] = {}
    for channel, status, count in rows:
        table.setdefault(str(channel), {})[str(status)] = count
    print(f"{'channel':<10}" + "".join(f"{s:>11}" for s in statuses) + f"{'total':>8}")
    for channel in ("HOTLINE", "WEBSITE", "WEIBO", "WECHAT"):
        counts = table.get(channel, {})
        print(f"{channel:<10}" + "".join(f"{counts.get(s, 0):>11}" for s in statuses) + f"{sum(counts.values()):>8}")


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, seed the demo district and print what it holds."""
    cmd_migrate(settings, args)
    return asyncio.run(_demo(settings, args))


async def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from hub.db import make_engine, make_sessionmaker
    from hub.trail.service import verify_chains

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            case_id = None
            if args.case:
                from hub.cases.repository import id_by_case_no

                case_id = await id_by_case_no(session, case_no=args.case)
                if case_id is None:
                    print(f"no case {args.case}", file=sys.stderr)
                    return 2
            report = await verify_chains(session, case_id=case_id)
    finally:
        await engine.dispose()
    for link in report.broken:
        print(
            f"BROKEN case {link.case_no} (id {link.case_id}) at event {link.event_id} (seq {link.seq}): {link.reason}"
        )
    verdict = "intact" if report.intact else f"{len(report.broken)} broken chain(s)"
    print(f"checked {report.cases_checked} cases, {report.events_checked} events: {verdict}")
    return 0 if report.intact else 1


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Recompute the trail's hash chains; non-zero and the first broken link of each case if altered."""
    return asyncio.run(_audit_verify(settings, args))


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="hub", description="The 三网融合 case hub.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database to the newest schema").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("demo", help="seed a demo district with cases from all four channels")
    demo.add_argument("--cases", type=int, default=240)
    demo.add_argument("--days", type=int, default=60)
    demo.add_argument("--seed", type=int, default=20261128)
    demo.add_argument("--force", action="store_true", help="add a batch even if cases exist")
    demo.set_defaults(func=cmd_demo)
    audit = sub.add_parser("audit", help="audit the trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="recompute every hash chain")
    verify.add_argument("--case", help="only this case number")
    verify.set_defaults(func=cmd_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a bad setting or expected failure is one clear line and a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        return int(args.func(settings, args))
    except HubError as exc:
        print(f"hub: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
