"""The `hub` command: one entry for every process and chore (DESIGN §6)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from hub.errors import HubError
from hub.logs import configure_logging
from hub.settings import Settings, get_settings


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    """Upgrade the database to the newest schema."""
    from hub.migrate import upgrade_to_head

    upgrade_to_head(settings.sync_database_url)
    print(f"database at head ({'SQLite' if settings.is_sqlite else 'PostgreSQL'})")
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from hub.demo.run import DemoOptions, run_demo

    options = DemoOptions(cases=args.cases, days=args.days, seed=args.seed, force=args.force,
                          serve=not args.no_serve, port=args.port)
    return await run_demo(settings, options)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, replay the demo district's last weeks through the channels, run a live tail, print, then serve."""
    import logging

    if args.cases < 1 or args.days < 1 or not 0 <= args.port < 65536:
        print("hub: --cases and --days must be positive, --port a port number", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(logging.WARNING)  # progress and summary, not every job's log line
    cmd_migrate(settings, args)
    try:
        return asyncio.run(_demo(settings, args))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Play channel traffic through the fakes and the API; exit 1 unless every message and answer landed once."""
    import logging

    from hub.simulate.runner import SimulationOptions, run_simulation

    if args.rate <= 0 or args.duration <= 0 or not 0 <= args.port < 65536:
        print("hub: --rate and --duration must be positive, --port a port number", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(logging.INFO if args.verbose else logging.ERROR)
    cmd_migrate(settings, args)
    options = SimulationOptions(rate=args.rate, duration=args.duration, faults=args.faults, seed=args.seed,
                                port=args.port)
    try:
        report = asyncio.run(run_simulation(settings, options))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    for line in report.lines():
        print(line)
    if report.interrupted:
        return 130
    return 0 if report.ok else 1


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


async def _check_department(settings: Settings, code: str) -> None:
    from hub.db import make_engine, make_sessionmaker
    from hub.departments.repository import by_code
    from hub.errors import UnknownDepartment

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if await by_code(session, code=code) is None:
                raise UnknownDepartment(f"unknown department {code!r}")
    finally:
        await engine.dispose()


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    """Print a bearer token from the embedded issuer for a role (and, for a handler, a department)."""
    from sqlalchemy.exc import SQLAlchemyError

    from auth.principal import Principal, Role
    from hub.errors import SettingsError, ValidationFailed
    from hub.security import build_security

    role = Role(args.role)
    if role is Role.HANDLER and not args.department:
        raise ValidationFailed("a handler token needs --department CODE")
    if args.ttl is not None and args.ttl <= 0:
        raise ValidationFailed("--ttl must be a positive number of seconds")
    security = build_security(settings)
    issuer = security.issuer
    if issuer is None:
        raise SettingsError("hub token needs the embedded issuer; HUB_OIDC_ISSUER is set, so ask that issuer")
    subject = args.subject or (f"{role.value}-{args.department}" if args.department else role.value)
    principal = Principal(subject=subject, roles=frozenset({role}), department=args.department or None)
    try:
        if args.department:
            asyncio.run(_check_department(settings, args.department))
        token = issuer.issue(principal, ttl_seconds=args.ttl)
    except SQLAlchemyError:
        raise SettingsError("the database cannot be reached or is not migrated (run `hub migrate`)") from None
    except ValueError as exc:  # an unusable key file or stored key; the messages name kids, never secrets
        raise SettingsError(f"cannot sign: {exc}") from None
    finally:
        security.close()
    print(f"token for {subject} ({role.value}), valid for {args.ttl or issuer.ttl_seconds} s", file=sys.stderr)
    print(token)
    return 0


async def _create_client(settings: Settings, args: argparse.Namespace) -> tuple[str, str]:
    from auth.principal import SYSTEM
    from hub.accounts.service import create_service_client
    from hub.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            client, secret = await create_service_client(
                session,
                actor=SYSTEM,
                client_id=args.client_id,
                name=args.name or args.client_id,
                roles=args.role,
                department=args.department,
            )
            return client.client_id, secret
    finally:
        await engine.dispose()


def cmd_client(settings: Settings, args: argparse.Namespace) -> int:
    """Register a service client and print its id and one-time secret."""
    client_id, secret = asyncio.run(_create_client(settings, args))
    print(f"client_id: {client_id}")
    print(f"client_secret: {secret}")
    print("the secret is shown only this once: store it now", file=sys.stderr)
    return 0


async def _sync(settings: Settings, args: argparse.Namespace) -> int:
    from hub.db import make_engine, make_sessionmaker
    from hub.ingest.service import IngestResult
    from hub.ingest.sync import sync_channel

    def progress(page: int, stored: IngestResult) -> None:
        print(f"  page {page}: {stored.created} new, {stored.repeated} repeated", file=sys.stderr, flush=True)

    engine = make_engine(settings.database_url)
    try:
        print(f"syncing {args.channel}…", file=sys.stderr)
        result = await sync_channel(sessions=make_sessionmaker(engine), settings=settings, channel=args.channel,
                                    force=args.force, progress=progress)
    finally:
        await engine.dispose()
    print(result.summary())
    return 0 if result.ok else 1


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    """One connector pass over a pull channel: every new or changed message stored, then the cursor moved."""
    return asyncio.run(_sync(settings, args))


async def _import(settings: Settings, args: argparse.Namespace, data: bytes) -> int:
    from hub.db import make_engine, make_sessionmaker
    from hub.ingest.imports import import_export

    engine = make_engine(settings.database_url)
    try:
        summary = await import_export(sessions=make_sessionmaker(engine), settings=settings, channel=args.channel,
                                      data=data, progress=_import_progress)
    finally:
        await engine.dispose()
    for where, reason in summary.bad:
        print(f"  skipped {where}: {reason}", file=sys.stderr)
    print(summary.summary())
    return 0


def _import_progress(done: int, total: int) -> None:
    print(f"\r  {done}/{total} rows", end="\n" if done == total else "", flush=True, file=sys.stderr)


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import a channel's CSV export; bad rows are reported by line and skipped, a re-import adds nothing."""
    from pathlib import Path

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"hub: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    return asyncio.run(_import(settings, args, data))


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Run jobs from the Redis queues until SIGINT/SIGTERM."""
    from hub.jobs.worker import run_worker

    return run_worker(settings, threads=args.threads)


def cmd_scheduler(settings: Settings, _args: argparse.Namespace) -> int:
    """Lead the periodic channel syncs and the outbox sweep (one active scheduler at a time)."""
    from hub.jobs.worker import run_scheduler

    return run_scheduler(settings)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Run the API (GraphQL, token endpoint, channel callbacks) with uvicorn, in one process or ``--workers N``.

    uvicorn's access log is off unless ``--access-log``: its lines are plain text outside the hub's JSON logs and
    carry query strings (WeChat callbacks put the sender's openid there), and writing one per request costs.
    """
    import uvicorn

    from hub.app import create_app
    from hub.errors import SettingsError

    if args.workers < 1:
        raise SettingsError("--workers must be at least 1")
    if args.workers > 1 and not settings.redis_url:
        # Without Redis, jobs, the scheduler and subscriptions live inside one process.
        raise SettingsError("--workers above 1 needs HUB_REDIS_URL (jobs and subscriptions cross processes there)")
    # No access log unless asked: its lines are plain text outside our scrubbing filter (a WeChat callback's query
    # carries the citizen's openid) and one line per request costs more than a batched callback itself.
    options = {"host": args.host, "port": args.port, "log_level": "info", "access_log": args.access_log}
    if args.workers == 1:
        uvicorn.run(create_app(settings, embedded_worker=True), **options)
    else:
        uvicorn.run("hub.app:served_app", factory=True, workers=args.workers, **options)
    return 0


async def _outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    from auth.principal import SYSTEM
    from hub.context import ServiceContext
    from hub.db import make_engine, make_sessionmaker, transaction
    from hub.jobs.outbox import requeue_reply
    from hub.jobs.queue import enqueue_replies

    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            reply_id = await requeue_reply(ServiceContext(session, SYSTEM, settings), reply_id=args.reply_id)
    finally:
        await engine.dispose()
    queued = await enqueue_replies([reply_id]) if settings.redis_url else 0
    print(f"reply {reply_id} is PENDING again" + ("; delivery queued" if queued else "; the outbox sweep sends it"))
    return 0


def cmd_outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    """Resend a FAILED or WINDOW_CLOSED reply (after checking the channel when its outcome was unknown)."""
    return asyncio.run(_outbox_retry(settings, args))


def cmd_calendar(settings: Settings, args: argparse.Namespace) -> int:
    """Enter holiday-notice days (``set``) or show a year's overrides and coverage (``show``)."""
    from hub.deadlines.commands import run

    print("\n".join(asyncio.run(run(settings, args))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="hub", description="The 三网融合 case hub.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database to the newest schema").set_defaults(func=cmd_migrate)
    serve = sub.add_parser("serve", help="run the API: /graphql, /oauth/token, /channels/*")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="API processes (above 1 needs HUB_REDIS_URL; default 1)")
    serve.add_argument("--access-log", action="store_true", help="uvicorn's per-request access log (default off)")
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo", help="fill a demo district through the four channels, print tokens, serve",
                          description="Migrate, seed the district, replay --cases messages over --days days through "
                          "the channels' wire formats, run a live tail through the API and the fake channels, print "
                          "a summary and staff tokens, then serve the API on 127.0.0.1 (unless --no-serve).")
    demo.add_argument("--cases", type=int, default=240, help="messages in the past (default 240)")
    demo.add_argument("--days", type=int, default=60, help="over this many days (default 60)")
    demo.add_argument("--seed", type=int, default=20261128)
    demo.add_argument("--force", action="store_true", help="add a batch even if cases exist")
    demo.add_argument("--no-serve", action="store_true", help="stop after the summary instead of serving the API")
    demo.add_argument("--port", type=int, default=8000, help="port to serve on (127.0.0.1; default 8000)")
    demo.set_defaults(func=cmd_demo)
    simulate = sub.add_parser("simulate", help="play realistic traffic through fake channels into the hub",
                              description="Start the four fake channels and the API with its embedded worker on "
                              "127.0.0.1, play citizen messages, sync, answer, optionally inject faults, and check "
                              "that sent == stored per channel and every answer reached its channel once.")
    simulate.add_argument("--rate", type=float, default=10.0, help="messages per second (default 10)")
    simulate.add_argument("--duration", type=float, default=30.0, help="seconds of traffic (default 30)")
    simulate.add_argument("--faults", action="store_true", help="500s, 429s, garbage, rate limits and expired "
                          "tokens from 20%% to 60%% of the run, then recovery")
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (0: any free port)")
    simulate.add_argument("--verbose", action="store_true", help="show the hub's log lines")
    simulate.set_defaults(func=cmd_simulate)
    audit = sub.add_parser("audit", help="audit the trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="recompute every hash chain")
    verify.add_argument("--case", help="only this case number")
    verify.set_defaults(func=cmd_audit)
    from auth.tokens import TOKEN_ROLES

    roles = sorted(r.value for r in TOKEN_ROLES)
    token = sub.add_parser("token", help="print a bearer token from the embedded issuer")
    token.add_argument("--role", required=True, choices=roles)
    token.add_argument("--department", help="department code (required for a handler)")
    token.add_argument("--subject", help="the token's subject (default: derived from role and department)")
    token.add_argument("--ttl", type=int, help="lifetime in seconds (default: HUB_TOKEN_TTL_SECONDS)")
    token.set_defaults(func=cmd_token)
    client = sub.add_parser("client", help="manage service clients")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    create = client_sub.add_parser("create", help="register a service client and print its one-time secret")
    create.add_argument("--client-id", required=True)
    create.add_argument("--role", required=True, action="append", choices=roles, help="repeat for several roles")
    create.add_argument("--department", help="department code (required for a handler)")
    create.add_argument("--name", help="display name (default: the client id)")
    create.set_defaults(func=cmd_client)
    from connectors.registry import names as channel_names

    sync = sub.add_parser("sync", help="one connector pass over a pull channel")
    sync.add_argument("channel", choices=channel_names())
    sync.add_argument("--force", action="store_true", help="ignore a rate-limit pause")
    sync.set_defaults(func=cmd_sync)
    imports = sub.add_parser("import", help="import a channel's CSV export")
    imports.add_argument("channel", choices=["hotline", "website"])
    imports.add_argument("file", help="the CSV file (UTF-8, UTF-8 with BOM or GB18030)")
    imports.set_defaults(func=cmd_import)
    worker = sub.add_parser("worker", help="run background jobs from Redis (HUB_REDIS_URL)")
    worker.add_argument("--threads", type=int, help="worker threads (default: HUB_WORKER_THREADS)")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("scheduler", help="periodic channel syncs and outbox sweep").set_defaults(func=cmd_scheduler)
    outbox = sub.add_parser("outbox", help="the reply outbox")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    retry = outbox_sub.add_parser("retry", help="resend a FAILED or WINDOW_CLOSED reply")
    retry.add_argument("reply_id", type=int)
    retry.set_defaults(func=cmd_outbox_retry)
    calendar = sub.add_parser("calendar", help="the working calendar: enter a year's holiday notice (调休)")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    set_days = calendar_sub.add_parser("set", help="mark days as holidays off or make-up workdays")
    set_days.add_argument("days", nargs="+", help="ISO dates, e.g. 2027-02-07")
    what = set_days.add_mutually_exclusive_group(required=True)
    what.add_argument("--holiday", action="store_true", help="a day off")
    what.add_argument("--workday", action="store_true", help="a make-up workday (调休上班)")
    set_days.add_argument("--note", help="e.g. 国办发明电〔2026〕X号 春节")
    show = calendar_sub.add_parser("show", help="a year's overrides, and whether its days rest on official data")
    show.add_argument("year", type=int)
    calendar.set_defaults(func=cmd_calendar)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a bad setting or expected failure is one clear line and a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(json_lines=settings.log_json)
        return int(args.func(settings, args))
    except HubError as exc:
        print(f"hub: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
