"""The per-process department cache: no SQL while fresh, forgotten on every write, other processes' rows found."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text, update

from auth.principal import Principal, Role
from hub.departments import cache
from hub.departments.models import Department
from hub.departments.service import create_department

ADMIN = Principal(subject="admin", roles=frozenset({Role.ADMIN}))


def _count(db) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


async def test_fresh_cache_reads_no_sql(district) -> None:  # type: ignore[no-untyped-def]
    async with district.sessions() as session:
        first = await cache.active_by_code(session, "NH-ZJ")
        seen = _count(district)
        again = await cache.active_by_code(session, "NH-ZJ")
        by_id = (await cache.directory(session)).by_id
    assert first is not None and again == first
    assert by_id[first.id].name == "区住房城乡建设和水利局"
    assert seen == []


async def test_an_admin_write_is_seen_at_once(district) -> None:  # type: ignore[no-untyped-def]
    async with district.sessions() as session:
        assert await cache.active_by_code(session, "NH-XQ") is None
        loaded = await cache.directory(session)
    async with district.sessions() as session, session.begin():
        await create_department(session, actor=ADMIN, code="NH-XQ", name="西樵镇", kind="STREET", parent_code="NH")
    async with district.sessions() as session:
        assert await cache.directory(session) is not loaded  # forgotten on the commit, read again
        found = await cache.active_by_code(session, "NH-XQ")
    assert found is not None and found.name == "西樵镇"


async def test_a_bulk_update_through_a_session_forgets_the_cache(district) -> None:  # type: ignore[no-untyped-def]
    async with district.sessions() as session:
        assert (await cache.active_by_code(session, "NH-JT")) is not None
    async with district.sessions() as session, session.begin():
        await session.execute(update(Department).where(Department.code == "NH-JT").values(active=False))
    async with district.sessions() as session:
        assert await cache.active_by_code(session, "NH-JT") is None


async def test_a_department_made_by_another_process_is_found(district, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cache, "MISS_RELOAD_SECONDS", 0.0)
    async with district.sessions() as session:
        assert await cache.active_by_code(session, "NH-LS") is None
        parent = await cache.active_by_code(session, "NH")
    assert parent is not None
    async with district.engine.begin() as conn:  # plain SQL, as another process would write it: no ORM event here
        insert = "INSERT INTO department (code, name, kind, parent_id, active) VALUES (:c, :n, 'STREET', :p, :t)"
        await conn.execute(text(insert), {"c": "NH-LS", "n": "里水镇", "p": parent.id, "t": True})
    async with district.sessions() as session:
        found = await cache.active_by_code(session, "NH-LS")
    assert found is not None and found.parent_id == parent.id
