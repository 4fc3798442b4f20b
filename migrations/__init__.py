"""Alembic migrations: the schema's history, identical on PostgreSQL and SQLite."""
