"""The embedded issuer's signing keys in the `signing_key` table, so every API replica signs and verifies alike.

auth.keys.KeyRing calls the store from plain (often worker-thread) code, so this store uses its own small
synchronous engine on the same database (`Settings.sync_database_url`: psycopg or sqlite3).

Retirement: a key that drops out of the ring is not deleted but marked `retired_at`, and its private members
are erased (the row keeps only the public JWK), so the table records every kid the hub ever signed with while
no retired private key lingers. `load()` returns live keys only.

Two replicas may write at the same time: on an empty table at first start, or when two admins rotate at
once. `save()` therefore never retires a key the writer cannot have seen: if the incoming list shares no key
with the stored live keys, or a stored key is newer than the oldest stored key the writer listed, that key
stays live. Replicas then briefly sign with different current keys, which all verifiers accept. (A ring with
`keep=1` therefore never retires on rotation; keep at least 2.)
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text, update
from sqlalchemy.pool import NullPool

from auth.keys import PUBLIC_MEMBERS
from hub.accounts.models import SigningKey as KeyRow
from hub.clock import utcnow

_TICK: Final = dt.timedelta(microseconds=1)


def _sync_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # NullPool: a connection per call, so no file handle outlives the call (tests delete their files).
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see below)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock up front: save() reads then writes, and an upgrade from a read lock
            # fails at once in WAL mode instead of waiting.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=1, max_overflow=2, pool_pre_ping=True)


def _created(jwk: dict[str, Any]) -> dt.datetime:
    created_at = jwk.get("created_at", 0)
    return dt.datetime.fromtimestamp(created_at if isinstance(created_at, int) else 0, dt.UTC)


def _scrubbed(stored: str) -> str:
    """The stored JWK without its private members (what a retired row keeps)."""
    try:
        jwk = json.loads(stored)
        kept = ("kty", *PUBLIC_MEMBERS[jwk["kty"]], "kid", "alg", "use", "created_at")
        return json.dumps({k: jwk[k] for k in kept if k in jwk})
    except (ValueError, KeyError, TypeError):
        return "{}"


@dataclass(frozen=True)
class _Stored:
    private_jwk: str
    created_at: dt.datetime
    retired_at: dt.datetime | None


class DatabaseKeyStore:
    """An auth.keys.KeyStore on the `signing_key` table, shared by every process using the database."""

    def __init__(self, sync_url: str) -> None:
        self.sync_url = sync_url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The store's synchronous engine, created on first use."""
        if self._engine is None:
            self._engine = _sync_engine(self.sync_url)
        return self._engine

    def dispose(self) -> None:
        """Close the store's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def load(self) -> list[dict[str, Any]]:
        """The live (not retired) private JWKs, oldest first."""
        stmt = (
            select(KeyRow.kid, KeyRow.private_jwk)
            .where(KeyRow.retired_at.is_(None))
            .order_by(KeyRow.created_at, KeyRow.kid)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        keys: list[dict[str, Any]] = []
        for kid, stored in rows:
            try:
                jwk = json.loads(stored)
            except ValueError:
                raise ValueError(f"stored signing key {kid} is not valid JSON") from None
            if not isinstance(jwk, dict):
                raise ValueError(f"stored signing key {kid} is not a JWK")
            keys.append(jwk)
        return keys

    def save(self, keys: list[dict[str, Any]]) -> None:
        """Insert the new keys (in the given order) and retire the stored live keys the list dropped."""
        incoming = [k for k in keys if isinstance(k.get("kid"), str) and k["kid"]]
        if len(incoming) != len(keys):
            raise ValueError("every signing key needs a kid")
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Serialise writers: each save sees the previous one's result.
                conn.execute(text("LOCK TABLE signing_key IN SHARE ROW EXCLUSIVE MODE"))
            columns = select(KeyRow.kid, KeyRow.private_jwk, KeyRow.created_at, KeyRow.retired_at)
            stored = {kid: _Stored(jwk, created, retired) for kid, jwk, created, retired in conn.execute(columns)}
            previous: dt.datetime | None = None
            for jwk in incoming:
                row = stored.get(jwk["kid"])
                if row is not None:
                    previous = row.created_at  # existing rows keep their place; a retired one stays retired
                    continue
                # Strictly increasing timestamps keep the list's order even for keys made in the same second.
                created = _created(jwk)
                if previous is not None and created <= previous:
                    created = previous + _TICK
                conn.execute(insert(KeyRow).values(kid=jwk["kid"], private_jwk=json.dumps(jwk), created_at=created))
                previous = created
            self._retire_dropped(conn, stored, {k["kid"] for k in incoming})

    @staticmethod
    def _retire_dropped(conn: Connection, stored: dict[str, _Stored], incoming: set[str]) -> None:
        live = {kid: row for kid, row in stored.items() if row.retired_at is None}
        seen = [row.created_at for kid, row in live.items() if kid in incoming]
        if not seen:
            return  # the writer saw none of the live keys: a concurrent first start, keep them all
        oldest_seen = min(seen)
        now = utcnow()
        for kid, row in live.items():
            if kid not in incoming and row.created_at < oldest_seen:
                conn.execute(
                    update(KeyRow)
                    .where(KeyRow.kid == kid)
                    .values(retired_at=now, private_jwk=_scrubbed(row.private_jwk))
                )
