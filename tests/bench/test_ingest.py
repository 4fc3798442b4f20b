"""The ingest figure's path: a real pull pass over the hotline's pages, and COPY of the very rows it stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench.district import target_for
from bench.ingest import IngestWorker, copy_rate, ingest_rate
from hub.cases.models import Case
from hub.enums import CaseStatus
from hub.trail.service import verify_chains


async def _cases(db, tag: str) -> list[Case]:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        stmt = select(Case).where(Case.external_id.like(f"ING{tag}-%")).order_by(Case.id)
        return list((await session.execute(stmt)).scalars())


async def test_a_pass_stores_every_work_order_once_with_its_trail(district) -> None:  # type: ignore[no-untyped-def]
    db = district
    worker = IngestWorker(db.settings)
    try:
        first = await ingest_rate(worker, tag="a", count=120, seed=1)
        again = await ingest_rate(worker, tag="a", count=120, seed=1)  # the cursor is past them: nothing new
        other = await ingest_rate(worker, tag="b", count=30, seed=2)  # another feed starts from its first item
    finally:
        await worker.close()
    assert (first["cases"], again["cases"], other["cases"]) == (120, 0, 30)
    stored = await _cases(db, "a")
    assert len(stored) == 120 and len({c.case_no for c in stored}) == 120
    assert all(c.suggested_category for c in stored)  # routed: scored by the suggester
    assert any(c.status is CaseStatus.DISPATCHED for c in stored)
    async with db.sessions() as session:
        assert not (await verify_chains(session)).broken


async def test_copy_writes_the_same_rows_again(db) -> None:  # type: ignore[no-untyped-def]
    if db.backend != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    worker = IngestWorker(db.settings)
    try:
        await ingest_rate(worker, tag="c", count=60, seed=3)
    finally:
        await worker.close()
    copied = copy_rate(target_for(db.url).libpq_url, "c")
    assert copied["cases"] == 60
    async with db.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(Case).where(Case.external_id.like("INGc-%C")))
        assert total == 60
        assert not (await verify_chains(session)).broken
