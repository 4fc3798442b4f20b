"""The models and the migrations describe the same schema, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import hub.models
from hub.db import Base


def _diff(sync_url: str) -> list[object]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


async def test_models_and_migrations_agree(db) -> None:  # type: ignore[no-untyped-def]
    assert hub.models.__all__  # every feature's models are registered
    sync_url = db.settings.sync_database_url
    assert _diff(sync_url) == []
