"""The ingest figure: hotline work orders through the real path (parse → dedupe → route → store with the trail),
against PostgreSQL COPY of the very rows that path stored, in the same run."""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import time
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench.load import TABLES, PgCopyWriter
from bench.rows import KIND_LABELS, new_rows
from bench.texts import STREETS, citizen_name, make_message
from connectors.base import CaseDraft
from connectors.hotline import parse_item
from hub.context import ServiceContext
from hub.db import make_engine, make_sessionmaker, transaction
from hub.settings import Settings
from hub.trail.service import GENESIS, chain_hash

BATCH = 50  # drafts per transaction, as one pulled page is stored


def work_orders(tag: str, count: int, seed: int) -> list[dict[str, Any]]:
    """Hotline API items as the platform sends them (new external ids, mostly new callers)."""
    rng = random.Random(f"ingest:{seed}:{tag}")
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    items = []
    for i in range(count):
        msg = make_message(rng)
        items.append(
            {
                "orderNum": f"ING{tag}-{i:06d}",
                "callTime": (now - dt.timedelta(seconds=count - i)).strftime("%Y-%m-%d %H:%M:%S"),
                "title": msg.title,
                "majorContent": msg.content,
                "callerName": citizen_name(rng),
                "callerPhone": f"199{rng.randrange(10**8):08d}",
                "callerType": KIND_LABELS[msg.kind],
                "areaName": STREETS[msg.street][0],
                "address": msg.address,
            }
        )
    return items


async def ingest_rate(settings: Settings, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Cases/s through parse_item + the hub's ingest (``ingest_drafts`` per page, else ``submit_case``)."""
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    use_ingest = importlib.util.find_spec("hub.ingest.service") is not None
    created = 0
    started = time.perf_counter()
    try:
        for offset in range(0, len(items), BATCH):
            drafts = [parse_item(item) for item in items[offset : offset + BATCH]]
            async with transaction(sessions) as session:
                created += await _store(session, settings, drafts, use_ingest)
    finally:
        seconds = time.perf_counter() - started
        await engine.dispose()
    return {
        "cases": created,
        "seconds": round(seconds, 2),
        "rate": round(created / seconds, 1),
        "path": "hub.ingest.service.ingest_drafts" if use_ingest else "hub.cases.intake.submit_case",
    }


async def _store(session: Any, settings: Settings, drafts: list[CaseDraft], use_ingest: bool) -> int:
    if use_ingest:
        from hub.ingest.service import connector_principal, ingest_drafts

        ctx = ServiceContext(session, connector_principal("hotline"), settings)
        return (await ingest_drafts(ctx, channel="hotline", drafts=drafts)).created
    from auth.principal import Principal, Role
    from hub.cases.intake import submit_case

    actor = Principal(subject="connector-hotline", roles=frozenset({Role.CONNECTOR}), client_id="hotline")
    ctx = ServiceContext(session, actor, settings)
    return sum([(await submit_case(ctx, draft=d)).created for d in drafts])


def copy_rate(libpq_url: str, tag: str) -> dict[str, Any]:
    """COPY the rows the ingest run stored (cases, citizens, identities, co-departments, trail) as new rows."""
    rows = _copies(libpq_url, tag)
    writer = PgCopyWriter(libpq_url, replica=False)  # like any COPY into the live tables: FKs and triggers on
    try:
        started = time.perf_counter()
        writer.write(rows)
        seconds = time.perf_counter() - started
        writer.bump_sequences()
    finally:
        writer.close()
    cases = len(rows["hub_case"])
    return {"cases": cases, "seconds": round(seconds, 3), "rate": round(cases / seconds, 1) if seconds else None}


def _copies(url: str, tag: str) -> Any:
    """The stored rows with fresh ids and unique keys, chains re-hashed for the new case ids."""
    rows = new_rows()
    with psycopg.connect(url, row_factory=dict_row) as conn:
        cases = conn.execute(
            "SELECT * FROM hub_case WHERE external_id LIKE %s ORDER BY id", (f"ING{tag}-%",)
        ).fetchall()
        ids = [c["id"] for c in cases]
        start = {
            t: conn.execute(f"SELECT coalesce(max(id), 0) + 1 AS n FROM {t}").fetchone()["n"]  # type: ignore[index]
            for t in ("hub_case", "citizen", "citizen_identity", "case_event")
        }
        new_case = {old: start["hub_case"] + i for i, old in enumerate(ids)}
        citizen_ids = sorted({c["citizen_id"] for c in cases if c["citizen_id"]})
        new_citizen = {old: start["citizen"] + i for i, old in enumerate(citizen_ids)}
        for c in conn.execute("SELECT * FROM citizen WHERE id = ANY(%s) ORDER BY id", (citizen_ids,)):
            rows["citizen"].append(dict(c, id=new_citizen[c["id"]]))
        for n, i in enumerate(
            conn.execute("SELECT * FROM citizen_identity WHERE citizen_id = ANY(%s) ORDER BY id", (citizen_ids,))
        ):
            rows["citizen_identity"].append(
                dict(
                    i, id=start["citizen_identity"] + n, citizen_id=new_citizen[i["citizen_id"]], value=i["value"] + "c"
                )
            )
        for c in cases:
            rows["hub_case"].append(
                dict(
                    c,
                    id=new_case[c["id"]],
                    case_no=c["case_no"] + "C",
                    external_id=c["external_id"] + "C",
                    citizen_id=new_citizen.get(c["citizen_id"]),
                )
            )
        for r in conn.execute("SELECT * FROM case_co_department WHERE case_id = ANY(%s)", (ids,)):
            rows["case_co_department"].append(dict(r, case_id=new_case[r["case_id"]]))
        prev: dict[int, str] = {}
        events = conn.execute("SELECT * FROM case_event WHERE case_id = ANY(%s) ORDER BY case_id, seq", (ids,))
        for n, e in enumerate(events):
            case_id = new_case[e["case_id"]]
            fields = {
                k: e[k]
                for k in (
                    "seq",
                    "action",
                    "actor_subject",
                    "actor_role",
                    "actor_department",
                    "from_status",
                    "to_status",
                    "note",
                    "payload",
                )
            }
            fields.update(case_id=case_id, at=e["at"].astimezone(dt.UTC).isoformat(timespec="microseconds"))
            before = prev.get(case_id, GENESIS)
            prev[case_id] = digest = chain_hash(before, fields)
            rows["case_event"].append(
                dict(e, id=start["case_event"] + n, case_id=case_id, prev_hash=before, hash=digest)
            )
    assert set(rows) <= set(TABLES)
    return rows
