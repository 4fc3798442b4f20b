"""The ingest figure: hotline work orders through the real path (parse → dedupe → route → store with the trail),
against PostgreSQL COPY of the very rows that path stored, in the same run."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench.load import TABLES, PgCopyWriter
from bench.rows import KIND_LABELS, new_rows
from bench.texts import STREETS, citizen_name, make_message
from connectors.base import Page, ReplyReceipt
from connectors.hotline import API_PAGE_SIZE, parse_item
from hub.db import make_engine, make_sessionmaker
from hub.ingest.sync import sync_channel
from hub.jobs.settings import load_job_settings
from hub.settings import Settings
from hub.trail.service import GENESIS, chain_hash

# Drafts per pulled page, each stored in one transaction: the hotline API's page. A real pass stores a whole
# update-time window as one page (all its API pages), so a backlog comes in pages at least this large.
PAGE = API_PAGE_SIZE


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


class WorkOrderFeed:
    """The hotline platform's pages from memory, parsed by the hotline connector's ``parse_item``.

    A pass of ``hub.ingest.sync.sync_channel`` over it is the real pull path: page after page, each stored in its
    own transaction with the cursor, the next page read and its categories scored while one is stored.
    """

    channel = "hotline"

    def __init__(self, tag: str, items: list[dict[str, Any]], page: int = PAGE) -> None:
        self.tag, self.items, self.page = tag, items, page

    async def pull(self, cursor: str | None) -> Page:
        """The page after ``cursor`` (a cursor of another feed starts this one from its first item)."""
        tag, _, offset = (cursor or "").partition(":")
        start = int(offset) if tag == self.tag else 0
        end = min(start + self.page, len(self.items))
        drafts = [parse_item(item) for item in self.items[start:end]]
        return Page(drafts=drafts, next_cursor=f"{self.tag}:{end}", has_more=end < len(self.items))

    async def send_reply(self, *, reply_to: Mapping[str, str], content: str, idempotency_key: str) -> ReplyReceipt:
        """Not used: the bench only pulls."""
        raise NotImplementedError


class IngestWorker:
    """What a long-running ``hub worker`` holds across its pull passes: one engine, its pool and compiled statements."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)

    async def close(self) -> None:
        """Dispose of the engine."""
        await self.engine.dispose()


async def ingest_rate(worker: IngestWorker, *, tag: str, count: int, seed: int, page: int = PAGE) -> dict[str, Any]:
    """Cases/s of one hotline pull pass (``sync_channel``) over ``count`` new work orders in pages of ``page``."""
    items = work_orders(tag, count, seed)
    jobs = load_job_settings(sync_max_pages=len(items) // page + 1)
    started = time.perf_counter()
    result = await sync_channel(sessions=worker.sessions, settings=worker.settings, channel="hotline",
                                connector=WorkOrderFeed(tag, items, page), job_settings=jobs, force=True)
    seconds = time.perf_counter() - started
    if not result.ok or result.rejected:
        raise RuntimeError(f"the bench's pull pass failed: {result.summary()}")
    return {
        "cases": result.created,
        "seconds": round(seconds, 2),
        "rate": round(result.created / seconds, 1),
        "path": "hub.ingest.sync.sync_channel",
        "page": page,
    }


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
                # a repeat caller's identities may have been copied by an earlier run: the tag keeps copies apart
                dict(i, id=start["citizen_identity"] + n, citizen_id=new_citizen[i["citizen_id"]],
                     value=f"{i['value']}c{tag}")
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
