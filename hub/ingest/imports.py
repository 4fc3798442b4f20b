"""Bulk imports of channel exports (``hub import hotline FILE.csv``): bad rows reported and skipped, repeats free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors._common import CsvResult
from connectors.hotline_csv import parse_csv as parse_hotline_csv
from connectors.registry import channel_value
from connectors.website import parse_board_csv
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.db import transaction
from hub.errors import SettingsError
from hub.ingest import repository
from hub.ingest.config import channel_name
from hub.ingest.service import connector_principal, ingest_drafts
from hub.settings import Settings

PARSERS: dict[str, Callable[[bytes], CsvResult]] = {"hotline": parse_hotline_csv, "website": parse_board_csv}


@dataclass
class ImportSummary:
    """Rows that became new cases, rows already stored, and bad rows as (line number or external id, reason)."""

    imported: int = 0
    repeated: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI."""
        return f"imported {self.imported}, repeated {self.repeated}, bad {len(self.bad)}"


async def import_export(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    channel: str,
    data: bytes,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Parse an export (UTF-8 with or without BOM, or GB18030) and store its rows, one transaction per batch."""
    name = channel_name(channel)
    if name not in PARSERS:
        raise SettingsError(f"no export format for {name}; choose one of {', '.join(PARSERS)}")
    parsed = PARSERS[name](data)
    summary = ImportSummary(bad=[(f"line {line}", reason) for line, reason in parsed.errors])
    drafts = list(parsed.drafts)
    for start in range(0, len(drafts), batch_size):
        batch = drafts[start:start + batch_size]
        async with transaction(sessions) as session:
            ctx = ServiceContext(session, connector_principal(name), settings)
            stored = await ingest_drafts(ctx, channel=name, drafts=batch)
            await repository.record_success(session, channel=channel_value(name), created=stored.created,
                                            now=utcnow())
        summary.imported += stored.created
        summary.repeated += stored.repeated
        summary.bad.extend((f"id {external_id}", reason) for external_id, reason in stored.rejected)
        if progress is not None:
            progress(min(start + batch_size, len(drafts)), len(drafts))
    return summary
