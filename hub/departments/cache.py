"""The department table, cached per process: a few dozen rows read on every request, changed a few times a year.

Every request needs the caller's department (scope, masking) and the inbox shows each case's lead, parent and
co-handling departments; reading the table 4–5 times per request was a fifth of the inbox's statements.

Freshness: a write through the ORM in this process (`create_department`, the demo seed, an ``update(Department)``
through a session) forgets the cache when it is flushed and again when it commits; other processes (a second API
process, the worker) pick a change up within ``CACHE_SECONDS``. A code that is not in the cache reloads it (at most
once per ``MISS_RELOAD_SECONDS``), so a department created elsewhere is usable at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from hub.departments.models import Department

CACHE_SECONDS = 60.0
MISS_RELOAD_SECONDS = 1.0
_CHANGED = "hub.departments.changed"


@dataclass(frozen=True, slots=True)
class DepartmentInfo:
    """One department as the read side needs it (a plain value, safe to share between sessions and tasks)."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    region: str | None
    active: bool


@dataclass(frozen=True)
class Directory:
    """A snapshot of the department table."""

    by_id: dict[int, DepartmentInfo]
    by_code: dict[str, DepartmentInfo]
    loaded_at: float

    @classmethod
    def of(cls, rows: Iterable[Department]) -> Directory:
        """Build from model rows."""
        infos = [
            DepartmentInfo(
                id=d.id,
                code=d.code,
                name=d.name,
                kind=d.kind,
                parent_id=d.parent_id,
                region=d.region,
                active=bool(d.active),
            )
            for d in rows
        ]
        return cls({d.id: d for d in infos}, {d.code: d for d in infos}, time.monotonic())

    def active(self, code: str) -> DepartmentInfo | None:
        """The active department with this code (as `repository.by_code`)."""
        found = self.by_code.get(code)
        return found if found is not None and found.active else None

    def many(self, ids: Sequence[int]) -> list[DepartmentInfo | None]:
        """Departments by id, None where unknown (as `repository.by_ids`, in the order asked)."""
        return [self.by_id.get(i) for i in ids]


_cache: tuple[str, Directory] | None = None


def _key(session: AsyncSession) -> str:
    """Which database: one process normally has one, tests switch between many."""
    return str(session.get_bind().engine.url)


def cached(session: AsyncSession) -> Directory | None:
    """The snapshot for this session's database if it is fresh, without touching the database."""
    if _cache is None or _cache[0] != _key(session):
        return None
    directory = _cache[1]
    return directory if time.monotonic() - directory.loaded_at < CACHE_SECONDS else None


async def directory(session: AsyncSession) -> Directory:
    """The department table, from the cache when fresh, else read once in the session's transaction."""
    global _cache
    found = cached(session)
    if found is not None:
        return found
    rows = (await session.execute(select(Department))).scalars()
    loaded = Directory.of(rows)
    _cache = (_key(session), loaded)
    return loaded


async def active_by_code(session: AsyncSession, code: str) -> DepartmentInfo | None:
    """The active department with this code; an unknown code reloads the table (rate-limited) before saying no."""
    found = await directory(session)
    department = found.active(code)
    if department is None and code not in found.by_code and time.monotonic() - found.loaded_at > MISS_RELOAD_SECONDS:
        invalidate_departments()
        department = (await directory(session)).active(code)
    return department


def invalidate_departments() -> None:
    """Forget the cached table (after a write to it)."""
    global _cache
    _cache = None


# Invalidation on every ORM write to the table in this process: flushed objects and bulk statements.


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if any(isinstance(o, Department) for o in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True
        invalidate_departments()


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and _touches_departments(state):
        state.session.info[_CHANGED] = True
        invalidate_departments()


def _touches_departments(state: ORMExecuteState) -> bool:
    mapper = state.bind_mapper
    return mapper is not None and mapper.class_ is Department


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Another request may have re-read the table between the flush and the commit (seeing the old rows).
    if session.info.pop(_CHANGED, False):
        invalidate_departments()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        invalidate_departments()
