"""A page stored set-based gives what the per-draft path gives, in a bounded number of statements, race-safe."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import draft
from sqlalchemy import event, func, select

from auth.principal import SYSTEM
from connectors.base import CaseDraft, CitizenDraft
from hub.cases import intake
from hub.cases.drafts import check_draft
from hub.cases.models import Case, CaseCoDepartment
from hub.cases.notices import notices_for
from hub.citizens.models import Citizen, CitizenIdentity
from hub.context import ServiceContext
from hub.db import make_engine, make_sessionmaker
from hub.departments.models import Department
from hub.errors import ValidationFailed
from hub.ingest.service import connector_principal, ingest_drafts
from hub.jobs.models import DeadLetter
from hub.trail.models import CaseEvent
from hub.trail.service import verify_chains

SMOKE = "小区楼下餐馆油烟直排扰民"  # keyword rule: NH-HB leads, NH-CG co-handles, dispatched at once


@pytest.fixture
async def twin(district: Any, templates: dict[str, str], tmp_path: Path) -> AsyncIterator[Any]:
    """A second fresh district on the same backend, for the per-draft path."""
    import psycopg

    from hub.demo.district import seed_district

    name = None
    if district.backend == "sqlite":
        path = tmp_path / "twin.sqlite3"
        shutil.copy(templates["sqlite"], path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        name = f"hub_t_{uuid.uuid4().hex[:12]}"
        admin = district.url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {templates['postgresql']}")  # type: ignore[arg-type]
        url = district.url.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    other = dataclasses.replace(district, url=url, engine=engine, sessions=make_sessionmaker(engine),
                                settings=district.settings.model_copy(update={"database_url": url}))
    async with other.ctx() as ctx:
        await seed_district(ctx)
    try:
        yield other
    finally:
        await engine.dispose()
        if name:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


def _wechat(external_id: str, openid: str, phone: str | None = None, name: str | None = None) -> CaseDraft:
    base = draft(channel="WECHAT", external_id=external_id, phone=phone, account_id=openid)
    return dataclasses.replace(base, citizen=CitizenDraft(name=name, phone=phone, account_id=openid))


def _pages() -> list[tuple[str, list[CaseDraft]]]:
    """Pages with every linking and routing case the per-draft path knows."""
    uncertain = {"title": "反映一个情况", "content": "最近遇到一些问题，希望有人联系我。", "kind": "OTHER"}
    return [
        ("hotline", [
            draft(external_id="H1", phone="13900000001"),
            draft(external_id="H2", phone="13900000002", urgency="URGENT"),
            draft(external_id="H3", phone="13900000001", **uncertain),  # same new citizen as H1
            draft(external_id="H1", phone="13900000001"),  # repeat inside the page
            draft(external_id="H-BAD", title="", content=""),  # refused
            draft(external_id="H4", phone="139****0009", kind="CONSULTATION"),  # masked: no phone key
            draft(external_id="H5", phone=None, title="公交站台破损", content="公交站台顶棚破损，雨天无法候车。"),
            draft(external_id="H6", phone="13900000003", kind="HELP", region="桂城街道"),
        ]),
        ("wechat", [
            _wechat("W1", "oA", phone="13900000001"),  # known phone: the account joins that citizen
            _wechat("W2", "oB", name="李先生"),
            _wechat("W3", "oB", phone="13900000004"),  # account known from W2 in this page: phone added
            _wechat("W4", "oC", phone="13900000002"),
            _wechat("W1", "oA", phone="13900000001"),  # repeat of this page's first
        ]),
        ("hotline", [
            draft(external_id="H2", phone="13900000002"),  # already stored
            draft(external_id="H7", phone="13900000004"),  # citizen of W2/W3
            draft(external_id="H8", phone="13900000005", kind="SUGGESTION"),
        ]),
    ]


async def _per_draft(db: Any, channel: str, drafts: list[CaseDraft]) -> None:
    """The page as the per-draft path stores it: one savepoint and ``submit_one`` per valid draft."""
    async with db.ctx() as ctx:
        actor = ctx.as_actor(connector_principal(channel))
        for one in drafts:
            try:
                item = check_draft(one)
            except ValidationFailed:
                continue
            async with ctx.session.begin_nested():
                await intake.submit_one(actor, item=item)


async def _snapshot(db: Any) -> dict[str, Any]:
    async with db.sessions() as session:
        codes = {d.id: d.code for d in (await session.execute(select(Department))).scalars()}
        keys: dict[int, set[tuple[str, str]]] = {}
        for i in (await session.execute(select(CitizenIdentity))).scalars():
            keys.setdefault(i.citizen_id, set()).add((i.kind, i.value))
        people = {c.id: (c.name, c.phone, c.id_number, frozenset(keys.get(c.id, ()))) for c in
                  (await session.execute(select(Citizen))).scalars()}
        co: dict[int, set[str]] = {}
        for row in (await session.execute(select(CaseCoDepartment))).scalars():
            co.setdefault(row.case_id, set()).add(codes[row.department_id])
        cases = {}
        for c in (await session.execute(select(Case))).scalars():
            cases[c.case_no] = (
                c.channel, c.external_id, c.kind, c.status, c.urgency, c.title, c.content, c.category,
                c.suggested_category, c.suggestion_confidence, c.address, c.region, people.get(c.citizen_id),
                codes.get(c.lead_department_id), co.get(c.id, set()), c.received_at, c.dispatched_at,
                c.sign_deadline, c.due_at, c.return_deadline, c.reply_to, c.raw_payload, c.created_at,
            )
        nos = {c.id: c.case_no for c in (await session.execute(select(Case))).scalars()}
        events = sorted(
            (nos[e.case_id], e.seq, e.action, e.actor_subject, e.actor_role, e.actor_department, e.from_status,
             e.to_status, e.note, repr(sorted(e.payload.items())), e.at)
            for e in (await session.execute(select(CaseEvent))).scalars()
        )
        report = await verify_chains(session)
    return {"cases": cases, "citizens": sorted(people.values(), key=repr), "events": events,
            "intact": report.intact}


async def test_a_page_gives_what_the_per_draft_path_gives(district: Any, twin: Any, clock: Any) -> None:
    results = []
    for channel, page in _pages():
        async with district.ctx() as ctx:
            results.append(await ingest_drafts(ctx, channel=channel, drafts=page))
        await _per_draft(twin, channel, page)
    assert [(r.created, r.repeated, len(r.rejected)) for r in results] == [(6, 1, 1), (4, 1, 0), (2, 1, 0)]
    batch, single = await _snapshot(district), await _snapshot(twin)
    assert batch["intact"] and single["intact"]
    assert batch["cases"] == single["cases"]
    assert batch["citizens"] == single["citizens"]
    assert batch["events"] == single["events"]
    statuses = {v[1]: v[3].value for v in batch["cases"].values()}
    assert statuses["H1"] == "DISPATCHED" and statuses["H3"] == "RECEIVED"
    assert {v[1]: v[14] for v in batch["cases"].values()}["H1"] == {"NH-CG"}


async def test_repeats_and_a_refused_draft_in_a_page(district: Any) -> None:
    async with district.ctx() as ctx:
        await ingest_drafts(ctx, channel="hotline", drafts=[draft(external_id="OLD")])
    page = [draft(external_id="OLD"), draft(external_id="N1"), draft(external_id="N1"),
            draft(external_id="BAD", title="", content=""), draft(external_id="N2")]
    async with district.ctx() as ctx:
        result = await ingest_drafts(ctx, channel="hotline", drafts=page)
    assert (result.created, result.repeated) == (2, 2)
    assert result.rejected == [("BAD", "a case needs a title or content")]
    assert [c.external_id for c in result.cases] == ["OLD", "N1", "N1", "N2"]
    assert result.cases[1].id == result.cases[2].id
    async with district.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 3
        assert await session.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.ref == "BAD")) == 1
        assert (await verify_chains(session)).intact


async def test_two_drafts_from_one_new_citizen_make_one_citizen(district: Any) -> None:
    page = [draft(external_id="A", phone="13711112222"), _wechat("B", "oSame", phone="13711112222"),
            _wechat("C", "oSame")]
    async with district.ctx() as ctx:
        hotline = await ingest_drafts(ctx, channel="hotline", drafts=page[:1])
        wechat = await ingest_drafts(ctx, channel="wechat", drafts=page[1:])
    ids = {c.citizen_id for c in [*hotline.cases, *wechat.cases]}
    assert len(ids) == 1 and None not in ids
    async with district.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 1
        kinds = set((await session.execute(select(CitizenIdentity.kind, CitizenIdentity.value))).all())
    assert kinds == {("PHONE", "13711112222"), ("WECHAT", "oSame")}


def _fresh(prefix: str, count: int, block: int) -> list[CaseDraft]:
    """New messages from new citizens (phones 1380BBBNNNN)."""
    return [draft(external_id=f"{prefix}{i}", phone=f"1380{block:03d}{i:04d}") for i in range(count)]


async def _statements(db: Any, drafts: list[CaseDraft]) -> int:
    """Statements sent for one page; on SQLite the INSERTs are left out (SQLAlchemy sends them row by row there,
    as SQLite cannot promise RETURNING's row order; in-process SQLite has no round trip to save)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if db.backend == "postgresql" or not statement.startswith("INSERT"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.ctx() as ctx:
            result = await ingest_drafts(ctx, channel="hotline", drafts=drafts)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert result.created == len(drafts)
    return len(seen)


async def test_statements_per_page_do_not_grow_with_its_size(district: Any) -> None:
    await _statements(district, _fresh("warm", 3, 1))  # the calendar is cached per process
    small = await _statements(district, _fresh("s", 10, 2))
    large = await _statements(district, _fresh("l", 50, 3))
    assert small == large
    assert large <= 16  # BEGIN/COMMIT included; the per-draft path took ~21 per case


async def test_a_single_submission_takes_few_statements(district: Any) -> None:
    await _statements(district, _fresh("warm", 1, 1))
    assert await _statements(district, _fresh("one", 1, 2)) <= 16


async def test_overlapping_pages_in_two_transactions_store_each_message_once(
    district: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if district.backend != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN: no race to lose")
    fallbacks: list[str] = []
    submit_one = intake.submit_one

    async def spy(ctx: Any, **kwargs: Any) -> Any:
        fallbacks.append(kwargs["item"].draft.external_id)
        return await submit_one(ctx, **kwargs)

    monkeypatch.setattr(intake, "submit_one", spy)
    first = [draft(external_id=f"R{i}", phone=f"1361000{i:04d}") for i in range(30)]
    second = [draft(external_id=f"R{i}", phone=f"1361000{i:04d}") for i in range(20, 45)]
    second.append(draft(external_id="R-OTHER", phone="13610000001"))  # a new message from a citizen of `first`
    async with district.sessions() as a_session, a_session.begin():
        a = await ingest_drafts(ServiceContext(a_session, SYSTEM, district.settings), channel="hotline",
                                drafts=first)

        async def other() -> Any:
            async with district.ctx() as ctx:
                return await ingest_drafts(ctx, channel="hotline", drafts=second)

        b_task = asyncio.create_task(other())
        await asyncio.sleep(0.5)  # b has read the page and waits for a's day counter
        assert not b_task.done()
    b = await b_task
    assert (a.created, b.created, b.repeated) == (30, 16, 10)
    assert fallbacks  # b lost the race and went draft by draft
    async with district.sessions() as session:
        rows = (await session.execute(select(Case.external_id, func.count()).group_by(Case.external_id))).all()
        assert len(rows) == 46 and all(n == 1 for _, n in rows)
        phones = (await session.execute(select(Citizen.phone, func.count()).group_by(Citizen.phone))).all()
        assert len(phones) == 45 and all(n == 1 for _, n in phones)
        assert (await verify_chains(session)).intact
    by_id = {c.external_id: c.citizen_id for c in a.cases}
    assert {c.external_id: c.citizen_id for c in b.cases}["R-OTHER"] == by_id["R1"]


async def test_a_draft_whose_auto_dispatch_names_an_inactive_department_is_refused(district: Any) -> None:
    async with district.ctx() as ctx:
        co = (await ctx.session.execute(select(Department).where(Department.code == "NH-CG"))).scalar_one()
        co.active = False
    uncertain = draft(external_id="U1", title="反映一个情况", content="最近遇到一些问题，希望有人联系我。",
                      kind="OTHER")
    page = [draft(external_id="SMOKE1"), uncertain, draft(external_id="SMOKE1")]
    async with district.ctx() as ctx:
        result = await ingest_drafts(ctx, channel="hotline", drafts=page)
    assert result.created == 1 and [c.external_id for c in result.cases] == ["U1"]
    assert result.rejected == [("SMOKE1", "unknown department 'NH-CG'")] * 2
    with pytest.raises(ValidationFailed, match="unknown department 'NH-CG'"):
        async with district.ctx() as ctx:
            await intake.submit_case(ctx, draft=draft(external_id="SMOKE2"))
    async with district.sessions() as session:
        assert (await session.execute(select(Case.external_id))).scalars().all() == ["U1"]


async def test_live_notices_of_a_page_come_from_the_cases_it_stored(district: Any) -> None:
    """Subscribers hear of every event of a page: its cases are the session's own, not read back one by one."""
    uncertain = {"title": "反映一个情况", "content": "最近遇到一些问题，希望有人联系我。", "kind": "OTHER"}
    page = [draft(external_id="L1"), draft(external_id="L2", **uncertain)]
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        reads.append(statement)

    async with district.ctx() as ctx:
        result = await ingest_drafts(ctx, channel="hotline", drafts=page)
        event.listen(district.engine.sync_engine, "before_cursor_execute", count)
        try:
            notices = await notices_for(ctx.session)
        finally:
            event.remove(district.engine.sync_engine, "before_cursor_execute", count)
        codes = {d.id: d.code for d in (await ctx.session.execute(select(Department))).scalars()}
    assert len(reads) == 1  # the co-departments of all the page's cases; no case is read again
    dispatched, waiting = result.cases
    assert [(n.case_no, n.seq, n.action, n.status) for n in notices] == [
        (dispatched.case_no, 1, "SUBMITTED", "RECEIVED"),
        (dispatched.case_no, 2, "DISPATCHED", "DISPATCHED"),
        (waiting.case_no, 1, "SUBMITTED", "RECEIVED"),
    ]
    assert {codes[i] for i in notices[1].department_ids} == {"NH-HB", "NH-CG"}
    assert notices[2].department_ids == () and all(n.event_id for n in notices)
