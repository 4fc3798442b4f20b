"""Shared fixtures: every database test runs on SQLite and on PostgreSQL, each on a fresh migrated copy."""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from auth.principal import SYSTEM, Principal
from hub.clock import FrozenClock, set_clock
from hub.context import ServiceContext
from hub.db import make_engine, make_sessionmaker
from hub.deadlines.service import invalidate_calendar
from hub.departments.cache import invalidate_departments
from hub.migrate import upgrade_to_head
from hub.settings import Settings, load_settings

PG_ADMIN = os.environ.get("HUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEMPLATE = f"hub_tpl_{os.getpid()}"
PG_DISTRICT_TEMPLATE = f"hub_dtpl_{os.getpid()}"
BACKENDS = ["sqlite", "postgresql"]


def _pg_exec(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _pg_url(name: str, driver: str = "asyncpg") -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].split("://", 1)[1]
    return f"postgresql+{driver}://{base}/{name}"


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend, copied for each test (fast and pristine)."""
    sqlite_tpl = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    upgrade_to_head(f"sqlite:///{sqlite_tpl}")
    _pg_exec(f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")
    _pg_exec(f"CREATE DATABASE {PG_TEMPLATE}")
    upgrade_to_head(_pg_url(PG_TEMPLATE, "psycopg"))
    yield {"sqlite": str(sqlite_tpl), "postgresql": PG_TEMPLATE}
    _pg_exec(f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")


class _Dropper:
    """Drops finished tests' PostgreSQL databases on a thread: a drop takes 0.3–1 s the next test needn't wait for."""

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (name := self._names.get()) is not None:
            _pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def drop(self, name: str) -> None:
        """Queue one database for dropping."""
        self._names.put(name)

    def close(self) -> None:
        """Wait until every queued database is gone."""
        self._names.put(None)
        self._thread.join()


@pytest.fixture(scope="session")
def dropper() -> Iterator[_Dropper]:
    """The session's database dropper; every test database is gone when the session ends."""
    worker = _Dropper()
    yield worker
    worker.close()


async def _seed(url: str) -> None:
    from hub.demo.district import seed_district

    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await seed_district(ServiceContext(session, SYSTEM, load_settings(database_url=url)))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def district_templates(templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The migrated templates with the demo district seeded once, for tests that ask for ``district``."""
    sqlite_tpl = tmp_path_factory.mktemp("dtpl") / "district.sqlite3"
    shutil.copy(templates["sqlite"], sqlite_tpl)
    _pg_exec(f"DROP DATABASE IF EXISTS {PG_DISTRICT_TEMPLATE}")
    _pg_exec(f"CREATE DATABASE {PG_DISTRICT_TEMPLATE} TEMPLATE {templates['postgresql']}")
    # First asked for from inside the async ``db`` fixture, whose loop is running: the seed gets a thread and loop.
    seeding = threading.Thread(
        target=lambda: [
            asyncio.run(_seed(url)) for url in (f"sqlite+aiosqlite:///{sqlite_tpl}", _pg_url(PG_DISTRICT_TEMPLATE))
        ]
    )
    seeding.start()
    seeding.join()
    invalidate_departments()
    yield {"sqlite": str(sqlite_tpl), "postgresql": PG_DISTRICT_TEMPLATE}
    _pg_exec(f"DROP DATABASE IF EXISTS {PG_DISTRICT_TEMPLATE}")


@dataclass
class Db:
    """A fresh, migrated database for one test."""

    backend: str
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings

    @asynccontextmanager
    async def ctx(self, actor: Principal = SYSTEM) -> AsyncIterator[ServiceContext]:
        """A service context in its own committed transaction."""
        async with self.sessions() as session, session.begin():
            yield ServiceContext(session, actor, self.settings)


@pytest.fixture(params=BACKENDS)
async def db(
    request: pytest.FixtureRequest, templates: dict[str, str], dropper: _Dropper, tmp_path: Path
) -> AsyncIterator[Db]:
    """A fresh migrated database on each backend (with the district seeded when the test also asks for it)."""
    backend = request.param
    if "district" in request.fixturenames:
        templates = request.getfixturevalue("district_templates")
    name = None
    if backend == "sqlite":
        path = tmp_path / "hub.sqlite3"
        shutil.copy(templates["sqlite"], path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        name = f"hub_t_{uuid.uuid4().hex[:12]}"
        _pg_exec(f"CREATE DATABASE {name} TEMPLATE {templates['postgresql']}")
        url = _pg_url(name)
    settings = load_settings(database_url=url)
    engine = make_engine(url)
    invalidate_calendar()
    invalidate_departments()
    try:
        yield Db(backend, url, engine, make_sessionmaker(engine), settings)
    finally:
        await engine.dispose()
        if name:
            dropper.drop(name)


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    """A clock the test moves by hand; starts on a plain Wednesday morning in the district."""
    import datetime as dt

    frozen = FrozenClock(dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    set_clock(frozen)
    yield frozen
    set_clock(None)


@pytest.fixture
async def district(db: Db) -> Db:
    """The database with the demo district's departments, rules and staff (copied from the seeded template)."""
    return db
