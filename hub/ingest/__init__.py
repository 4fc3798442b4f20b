"""Ingest: drafts from connectors become cases, idempotently; per-channel cursors."""
