"""One connector pass over a pull channel: page after page from the stored cursor, with bounded retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import Connector, Page
from connectors.errors import AuthExpired, ChannelError, RateLimited, Transient
from connectors.registry import channel_value
from hub.cases.notices import notices_for, publish
from hub.clock import utcnow
from hub.context import ServiceContext
from hub.db import transaction
from hub.errors import SettingsError
from hub.events import EventBus
from hub.ingest import repository
from hub.ingest.config import PULL_CHANNELS, ConnectorPool, channel_name
from hub.ingest.service import (
    Checked,
    CursorMoved,
    IngestResult,
    connector_principal,
    ingest_page,
    prepare_drafts,
    record_channel_error,
)
from hub.jobs.settings import JobSettings, load_job_settings
from hub.routing.scoring import Scorer, shared_scorer
from hub.settings import Settings

log = logging.getLogger("hub.sync")
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class SyncResult:
    """What one pass did; ``retry_after`` says when to try again after a rate limit."""

    channel: str
    pages: int = 0
    created: int = 0
    repeated: int = 0
    rejected: int = 0
    error: str | None = None
    retry_after: float | None = None
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the pass ended without a channel error."""
        return self.error is None

    def summary(self) -> str:
        """One line for the CLI and the logs."""
        line = (f"{self.channel}: {self.pages} page(s), {self.created} new, {self.repeated} repeated, "
                f"{self.rejected} refused")
        if self.skipped:
            line += f"; skipped ({self.skipped})"
        if self.error:
            line += f"; stopped: {self.error}"
        if self.retry_after is not None:
            line += f"; retry in {self.retry_after:.0f} s"
        return line


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter for the ``attempt``-th retry; a channel's own Retry-After wins if longer."""
    delay = min(cap, base * 2 ** max(attempt - 1, 0)) * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0.0)


async def pull_with_retries(connector: Connector, cursor: str | None, *, retries: int, base: float,
                            sleep: Sleep = asyncio.sleep) -> Page:
    """Pull one page: refresh and retry once on AuthExpired, retry Transient up to ``retries`` times."""
    refreshed = False
    refresh_error: AuthExpired | None = None
    transient = 0
    while True:
        try:
            return await connector.pull(cursor)
        except AuthExpired as exc:
            if refreshed:
                raise (refresh_error or exc) from None
            refreshed = True
            refresh = getattr(connector, "refresh", None)
            if refresh is not None:
                try:
                    await refresh()
                except AuthExpired as failed:  # retry anyway: a spurious 401 passes, a real expiry says why
                    refresh_error = failed
        except Transient as exc:
            if transient >= retries:
                raise
            transient += 1
            await sleep(backoff_delay(transient, base=base, cap=60.0, retry_after=exc.retry_after))


async def sync_channel(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    channel: str,
    connector: Connector | None = None,
    job_settings: JobSettings | None = None,
    bus: EventBus | None = None,
    force: bool = False,
    sleep: Sleep = asyncio.sleep,
    progress: Callable[[int, IngestResult], None] | None = None,
    scorer: Scorer | None = None,
) -> SyncResult:
    """One pass: pull pages from the stored cursor while ``has_more`` (bounded), storing each before moving on.

    A rate limit stops the pass and pauses the channel for ``retry_after``; auth and transient errors are retried
    a bounded number of times, then recorded on the channel's state. Without ``connector`` one is built from
    the HUB_<CHANNEL>_* settings; without ``scorer``, categories are scored by this process's shared scorer
    (HUB_SUGGESTER_PROCESSES).
    """
    name = channel_name(channel)
    if name not in PULL_CHANNELS:
        raise SettingsError(f"{name} pushes its messages: there is nothing to pull")
    jobs = job_settings or load_job_settings()
    if connector is None:
        async with httpx.AsyncClient(timeout=30.0) as http:
            return await sync_channel(sessions=sessions, settings=settings, channel=name, bus=bus, force=force,
                                      connector=ConnectorPool(settings, http).get(name), job_settings=jobs,
                                      sleep=sleep, progress=progress, scorer=scorer)
    value = channel_value(name)
    result = SyncResult(channel=name)
    async with transaction(sessions) as session:
        await repository.ensure_state(session, channel=value)
        pause = await repository.get_pause(session, channel=value)
    now = utcnow()
    if pause is not None and pause.until > now and not force:
        result.skipped = "rate limited"
        result.retry_after = (pause.until - now).total_seconds()
        return result
    async with sessions() as session:
        state = await repository.get_state(session, channel=value)
        cursor = state.cursor if state else None

    scorer = scorer or shared_scorer(jobs.suggester_processes)

    async def pull(after: str | None) -> tuple[Page, list[Checked]]:
        page = await pull_with_retries(connector, after, retries=jobs.sync_retries,
                                       base=jobs.sync_retry_base_seconds, sleep=sleep)
        return page, await prepare_drafts(channel=name, drafts=page.drafts, scorer=scorer)

    ahead: asyncio.Task[tuple[Page, list[Checked]]] | None = None
    try:
        for number in range(jobs.sync_max_pages):
            try:
                page, checked = await (ahead if ahead is not None else pull(cursor))
            except ChannelError as exc:
                await _failed(sessions, settings, result, exc, jobs)
                return result
            ahead = None
            if page.has_more and number + 1 < jobs.sync_max_pages:
                # The next page is on its way (HTTP, parsing, its categories scored by the scorer's helper process)
                # while this one is stored; the cursor still moves only after a page is stored, and a pass stopped
                # by CursorMoved drops what it read ahead.
                ahead = asyncio.create_task(pull(page.next_cursor))
            try:
                async with transaction(sessions) as session:
                    ctx = ServiceContext(session, connector_principal(name), settings)
                    stored = await ingest_page(ctx, channel=name, page=page, expected_cursor=cursor, checked=checked)
                    if pause is not None:
                        await repository.clear_pause(session, channel=value)
                        pause = None
                    notices = await notices_for(session) if bus is not None else []
            except CursorMoved:
                result.skipped = "another pass moved the cursor"
                return result
            cursor = page.next_cursor
            if bus is not None:
                await publish(bus, notices)
            result.pages += 1
            result.created += stored.created
            result.repeated += stored.repeated
            result.rejected += len(stored.rejected)
            if progress is not None:
                progress(result.pages, stored)
            if not page.has_more:
                break
    finally:
        if ahead is not None:
            ahead.cancel()
            await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()  # a failed read-ahead of a page this pass will not store: nothing to report
    log.info("sync pass done: %s", result.summary())
    return result


async def _failed(sessions: async_sessionmaker[AsyncSession], settings: Settings, result: SyncResult,
                  exc: ChannelError, jobs: JobSettings) -> None:
    result.error = f"{type(exc).__name__}: {exc.message}"
    value = channel_value(result.channel)
    async with transaction(sessions) as session:
        await record_channel_error(ServiceContext(session, connector_principal(result.channel), settings),
                                   channel=result.channel, message=result.error)
        if isinstance(exc, RateLimited):
            wait = exc.retry_after if exc.retry_after is not None else jobs.sync_default_pause_seconds
            result.retry_after = wait
            await repository.set_pause(session, channel=value, until=utcnow() + dt.timedelta(seconds=wait),
                                       reason=result.error)
    log.warning("sync pass stopped: %s", result.summary())
