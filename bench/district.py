"""The benchmark district: a database migrated and seeded with the demo district plus Nanhai's other towns."""

from __future__ import annotations

import asyncio
import urllib.parse
from dataclasses import dataclass

import psycopg

from auth.principal import SYSTEM
from hub.context import ServiceContext
from hub.db import make_engine, make_sessionmaker
from hub.demo.district import seed_district
from hub.departments import repository as department_repo
from hub.departments.models import Department
from hub.migrate import upgrade_to_head
from hub.routing.repository import active_rules
from hub.routing.service import create_rule
from hub.settings import Settings, load_settings

# The demo district has 桂城 and 大沥; a real district office also covers its other towns.
EXTRA_STREETS: tuple[tuple[str, str, str], ...] = (
    ("NH-SS", "狮山镇人民政府", "狮山"),
    ("NH-LS", "里水镇人民政府", "里水"),
    ("NH-JJ", "九江镇人民政府", "九江"),
    ("NH-XQ", "西樵镇人民政府", "西樵"),
    ("NH-DZ", "丹灶镇人民政府", "丹灶"),
)


@dataclass(frozen=True)
class Target:
    """Where the data goes: the hub settings plus a synchronous (psycopg / sqlite3) URL."""

    settings: Settings

    @property
    def is_postgres(self) -> bool:
        """Whether the target is PostgreSQL (COPY) rather than SQLite (executemany)."""
        return not self.settings.is_sqlite

    @property
    def sync_url(self) -> str:
        """The SQLAlchemy URL for synchronous tools."""
        return self.settings.sync_database_url

    @property
    def libpq_url(self) -> str:
        """A plain postgresql:// URL for psycopg."""
        return "postgresql://" + self.settings.database_url.split("://", 1)[1]


def target_for(url: str) -> Target:
    """Settings for a postgresql:// or sqlite:/// URL."""
    return Target(load_settings(database_url=url))


def _check_local(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or "localhost"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"bench: refusing to create or drop a database on {host}; use 127.0.0.1")


def ensure_database(target: Target, *, reset: bool) -> None:
    """Create the PostgreSQL database if missing (drop it first with ``reset``); SQLite files need nothing."""
    if not target.is_postgres:
        path = target.settings.sqlite_path()
        if reset and path is not None and path.exists():
            path.unlink()
        return
    url = target.libpq_url
    _check_local(url)
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if reset:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


async def _seed(settings: Settings) -> dict[str, int]:
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            ctx = ServiceContext(session, SYSTEM, settings)
            await seed_district(ctx)
            known = {d.code: d for d in await department_repo.all_departments(session)}
            root = known["NH"]
            for code, name, region in EXTRA_STREETS:
                if code not in known:
                    session.add(
                        Department(code=code, name=name, kind="STREET", region=region, active=True, parent_id=root.id)
                    )
            await session.flush()
            names = {r.name for r in await active_rules(session)}
            for index, (code, _name, region) in enumerate(EXTRA_STREETS):
                if f"{region}属地" not in names:
                    await create_rule(
                        session,
                        actor=SYSTEM,
                        name=f"{region}属地",
                        priority=42 + index,
                        lead_department=code,
                        region=region,
                    )
            return {d.code: d.id for d in await department_repo.all_departments(session)}
    finally:
        await engine.dispose()


def prepare(target: Target, *, reset: bool = False) -> dict[str, int]:
    """Create/migrate/seed the database; returns department code → id."""
    ensure_database(target, reset=reset)
    upgrade_to_head(target.sync_url)
    return asyncio.run(_seed(target.settings))
