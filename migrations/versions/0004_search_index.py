"""case text search: a GIN index of character bigrams (PostgreSQL only; SQLite keeps LIKE)

A 2-character Chinese term (油烟) has no trigram, so pg_trgm cannot use its index for it. Instead every case's
``title || ' ' || content`` becomes a tsvector of its overlapping 2-character pieces (plus its last character
alone), built by ``hub_search.bigrams`` and kept in ``hub_search.case_doc`` by a trigger on ``hub_case``.
A search term becomes the AND of its bigrams (a 1-character term a prefix query), which the GIN index answers;
terms longer than two characters are rechecked with LIKE by the query (hub/cases/search.py).

The side table lives in its own schema on purpose: it is derived data that no model writes, and Alembic's
model/migration comparison looks at the default schema only, so ``tests/hub/test_migrations.py`` stays exact
on both backends without an exclusion hook.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = (
    "CREATE SCHEMA IF NOT EXISTS hub_search",
    r"""
    CREATE OR REPLACE FUNCTION hub_search.bigrams(t text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        -- the pairs starting at odd positions, then at even ones; an odd leftover is the last character alone
        SELECT array_to_tsvector(array_remove(
            string_to_array(regexp_replace(t, '(..)', E'\\1\x01', 'g'), E'\x01')
            || string_to_array(regexp_replace(substr(t, 2), '(..)', E'\\1\x01', 'g'), E'\x01'), ''))
    $$
    """,
    """
    CREATE TABLE hub_search.case_doc (
        case_id bigint PRIMARY KEY REFERENCES public.hub_case (id) ON DELETE CASCADE,
        doc tsvector NOT NULL
    )
    """,
    """
    CREATE OR REPLACE FUNCTION hub_search.sync_case_doc() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO hub_search.case_doc (case_id, doc)
        VALUES (NEW.id, hub_search.bigrams(NEW.title || ' ' || NEW.content))
        ON CONFLICT (case_id) DO UPDATE SET doc = EXCLUDED.doc;
        RETURN NULL;
    END;
    $$
    """,
    "CREATE TRIGGER hub_case_search_doc AFTER INSERT OR UPDATE OF title, content ON public.hub_case "
    "FOR EACH ROW EXECUTE FUNCTION hub_search.sync_case_doc()",
    "INSERT INTO hub_search.case_doc (case_id, doc) "
    "SELECT id, hub_search.bigrams(title || ' ' || content) FROM public.hub_case",
    "CREATE INDEX case_doc_bigrams ON hub_search.case_doc USING gin (doc)",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite searches with LIKE: nothing to build
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS hub_case_search_doc ON public.hub_case")
    op.execute("DROP SCHEMA IF EXISTS hub_search CASCADE")
