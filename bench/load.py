"""Writing generated rows: PostgreSQL COPY (psycopg3 ``cursor.copy``) or SQLite executemany for tiny sizes."""

from __future__ import annotations

import json
from typing import Any, Protocol

import psycopg
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import hub.models  # noqa: F401  (every table on the metadata)
from bench.rows import Rows
from hub.cases.models import CaseCounter
from hub.db import Base

# parents before children
TABLES = (
    "citizen",
    "citizen_identity",
    "hub_case",
    "case_co_department",
    "case_event",
    "reply",
    "extension_request",
    "supervision_order",
    "callback",
)
ID_TABLES = tuple(t for t in TABLES if t != "case_co_department")
JSON_COLUMNS = frozenset({"reply_to", "payload"})


RECENT_CITIZENS = (
    "SELECT c.id, coalesce((SELECT min(i.kind) FROM citizen_identity i"
    " WHERE i.citizen_id = c.id AND i.kind <> 'PHONE'), 'HOTLINE'), c.phone IS NOT NULL"
    " FROM citizen c ORDER BY c.id DESC LIMIT %s"
)


def columns(table: str) -> list[str]:
    """The table's columns in model order."""
    return [c.name for c in Base.metadata.tables[table].columns]


class Writer(Protocol):
    """Where batches of rows go."""

    def start_ids(self) -> dict[str, int]: ...
    def counters(self) -> dict[str, int]: ...
    def recent_cases(self, limit: int) -> list[tuple[int, str]]: ...
    def recent_citizens(self, limit: int) -> list[tuple[int, str, bool]]: ...
    def last_received(self, marker: str) -> Any: ...
    def write(self, rows: Rows) -> None: ...
    def finish(self, counters: dict[str, int], *, vacuum: bool = True) -> None: ...
    def close(self) -> None: ...


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class PgCopyWriter:
    """COPY per table per batch, one transaction per batch; FK checks and triggers off while loading."""

    def __init__(self, url: str, *, replica: bool = True) -> None:
        self.conn = psycopg.connect(url)
        self.replica = False
        if replica:
            self.conn.execute("SET synchronous_commit = off")
            # New search documents queue in the GIN index's pending list and are merged in bulk, not one by one.
            self.conn.execute("SET gin_pending_list_limit = '256MB'")
            try:
                # Like pg_restore --disable-triggers: the generator writes referentially valid rows and fills the
                # search documents itself, so per-row FK and trigger work is skipped (needs a superuser).
                self.conn.execute("SET session_replication_role = replica")
                self.replica = True
            except psycopg.Error:
                self.conn.rollback()
        self.search = bool(self.conn.execute("SELECT to_regclass('hub_search.case_doc')").fetchone()[0])  # type: ignore[index]
        # Nothing may stay open: each write() is its own transaction, not a savepoint of one never committed.
        self.conn.commit()
        self._cols = {t: columns(t) for t in TABLES}

    def _scalar(self, sql: str, *args: Any) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        self.conn.commit()
        return row[0] if row else None

    def start_ids(self) -> dict[str, int]:
        """Max id + 1 of every table the generator numbers itself."""
        return {t: int(self._scalar(f"SELECT coalesce(max(id), 0) + 1 FROM {t}")) for t in ID_TABLES}

    def counters(self) -> dict[str, int]:
        """The case-number counters per local day."""
        rows = self.conn.execute("SELECT day, value FROM case_counter").fetchall()
        self.conn.commit()
        return {day: int(value) for day, value in rows}

    def recent_cases(self, limit: int) -> list[tuple[int, str]]:
        """The newest cases (merge targets)."""
        rows = self.conn.execute("SELECT id, case_no FROM hub_case ORDER BY id DESC LIMIT %s", (limit,)).fetchall()
        self.conn.commit()
        return [(int(i), str(n)) for i, n in reversed(rows)]

    def recent_citizens(self, limit: int) -> list[tuple[int, str, bool]]:
        """The newest citizens: id, the channel of their account (HOTLINE if none), whether they gave a phone."""
        rows = self.conn.execute(RECENT_CITIZENS, (limit,)).fetchall()
        self.conn.commit()
        return [(int(i), str(home), bool(phone)) for i, home, phone in reversed(rows)]

    def last_received(self, marker: str) -> Any:
        """When the newest generated case (external id starting with ``marker``) was received."""
        return self._scalar("SELECT max(received_at) FROM hub_case WHERE external_id LIKE %s", marker + "%")

    def write(self, rows: Rows) -> None:
        """One batch: every table by COPY, then the cases' search documents."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            for table in TABLES:
                batch = rows.get(table)
                if not batch:
                    continue
                cols = self._cols[table]
                json_at = [i for i, c in enumerate(cols) if c in JSON_COLUMNS]
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in batch:
                        values = [row[c] for c in cols]
                        for i in json_at:
                            values[i] = _dump(values[i])
                        copy.write_row(values)
            cases = rows.get("hub_case")
            if cases and self.search and self.replica:
                cur.execute(
                    "INSERT INTO hub_search.case_doc (case_id, doc) SELECT id, hub_search.bigrams(title || ' ' || "
                    "content) FROM hub_case WHERE id BETWEEN %s AND %s",
                    (cases[0]["id"], cases[-1]["id"]),
                )

    def bump_sequences(self) -> None:
        """Move the id sequences past the loaded ids."""
        with self.conn.transaction():
            for table in ID_TABLES:
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )

    def finish(self, counters: dict[str, int], *, vacuum: bool = True) -> None:
        """Move the id sequences past the loaded ids, store the day counters, refresh planner statistics."""
        self.bump_sequences()
        with self.conn.transaction():
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO case_counter (day, value) VALUES (%s, %s) ON CONFLICT (day) DO UPDATE "
                    "SET value = greatest(case_counter.value, excluded.value)",
                    list(counters.items()),
                )
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        self.conn.autocommit = False

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class SqliteWriter:
    """executemany through SQLAlchemy Core (types handled by the models); for tests' tiny sizes."""

    def __init__(self, sync_url: str) -> None:
        self.engine = create_engine(sync_url)

    def start_ids(self) -> dict[str, int]:
        """Max id + 1 of every numbered table."""
        with self.engine.connect() as conn:
            return {
                t: int(conn.execute(select(func.coalesce(func.max(Base.metadata.tables[t].c.id), 0) + 1)).scalar_one())
                for t in ID_TABLES
            }

    def counters(self) -> dict[str, int]:
        """The case-number counters per local day."""
        with self.engine.connect() as conn:
            return {d: int(v) for d, v in conn.execute(select(CaseCounter.day, CaseCounter.value))}

    def recent_cases(self, limit: int) -> list[tuple[int, str]]:
        """The newest cases."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, case_no FROM hub_case ORDER BY id DESC LIMIT :n"), {"n": limit})
            return [(int(i), str(n)) for i, n in reversed(list(rows))]

    def recent_citizens(self, limit: int) -> list[tuple[int, str, bool]]:
        """The newest citizens (see PgCopyWriter.recent_citizens)."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(RECENT_CITIZENS.replace("%s", ":n")), {"n": limit})
            return [(int(i), str(home), bool(phone)) for i, home, phone in reversed(list(rows))]

    def last_received(self, marker: str) -> Any:
        """When the newest generated case was received."""
        table = Base.metadata.tables["hub_case"]
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.max(table.c.received_at)).where(table.c.external_id.like(marker + "%"))
            ).scalar_one()

    def write(self, rows: Rows) -> None:
        """Insert every table's rows in one transaction."""
        with self.engine.begin() as conn:
            for table in TABLES:
                if rows.get(table):
                    conn.execute(Base.metadata.tables[table].insert(), rows[table])

    def finish(self, counters: dict[str, int], *, vacuum: bool = True) -> None:
        """Store the day counters (ids need nothing: SQLite continues from the max)."""
        with self.engine.begin() as conn:
            for day, value in counters.items():
                stmt = sqlite_insert(CaseCounter).values(day=day, value=value)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["day"], set_={"value": func.max(CaseCounter.value, value)}
                    )
                )

    def close(self) -> None:
        """Dispose of the engine."""
        self.engine.dispose()
