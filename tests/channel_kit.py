"""What the connector, ingest and job tests share: fake channels wired into settings, answering, counting."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from helpers import DISPATCHER, handler
from sqlalchemy import func, select

from connectors.fakes import FakeChannel, FakeHotline, FakeWebsite, FakeWeChat, FakeWeibo
from hub.cases.models import Case, Reply
from hub.cases.service import answer_case, claim_case
from hub.departments import repository as departments
from hub.enums import CaseStatus
from hub.ingest.config import ConnectorPool
from hub.jobs.context import JobContext
from hub.jobs.settings import JobSettings, load_job_settings
from hub.settings import Settings

FAKE_TYPES: dict[str, type[FakeChannel]] = {
    "hotline": FakeHotline, "website": FakeWebsite, "weibo": FakeWeibo, "wechat": FakeWeChat,
}


def minutes_ago(minutes: float) -> dt.datetime:
    """A wall-clock moment in the past (the hotline pulls only settled update times)."""
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)


def wire(settings: Settings, *fakes: FakeChannel) -> Settings:
    """The settings with each running fake's base URL and credentials, as HUB_<CHANNEL>_* would give them."""
    values: dict[str, Any] = {}
    for fake in fakes:
        if isinstance(fake, FakeHotline):
            values.update(hotline_api_base=fake.base_url, hotline_secret=fake.secret)
        elif isinstance(fake, FakeWebsite):
            values.update(website_api_base=fake.base_url, website_api_key=fake.api_key)
        elif isinstance(fake, FakeWeibo):
            values.update(weibo_api_base=fake.base_url, weibo_access_token=fake.access_token,
                          weibo_app_key=fake.app_key, weibo_app_secret=fake.app_secret)
        elif isinstance(fake, FakeWeChat):
            values.update(wechat_api_base=fake.base_url, wechat_appid=fake.appid, wechat_appsecret=fake.appsecret,
                          wechat_token=fake.token, wechat_aes_key=fake.encoding_aes_key)
    return settings.model_copy(update=values)


def fast_jobs(**overrides: Any) -> JobSettings:
    """Job settings with retries in milliseconds, so fault tests run quickly."""
    values: dict[str, Any] = {"sync_retry_base_seconds": 0.01, "reply_retry_base_seconds": 0.01,
                              "reply_retry_cap_seconds": 0.05, "reply_max_attempts": 4,
                              "sync_default_pause_seconds": 30}
    return load_job_settings(**{**values, **overrides})


def post(fake: FakeChannel, content: str, **extra: Any) -> Any:
    """A citizen writes on a channel (hotline orders back-dated 10 s: a pull reads only settled update times)."""
    if isinstance(fake, FakeHotline):
        extra.setdefault("call_time", minutes_ago(1 / 6))
    return fake.post_message(content, **extra)


async def count(db: Any, model: Any, *where: Any) -> int:
    """Rows of a model (matching the conditions)."""
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def cases(db: Any) -> list[Case]:
    """Every case, oldest first."""
    async with db.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def reply_row(db: Any, reply_id: int) -> Reply:
    """A reply as stored now."""
    async with db.sessions() as session:
        reply = await session.get(Reply, reply_id)
        assert reply is not None
        return reply


async def answer(db: Any, case_id: int, content: str = "您反映的问题已处理完毕，感谢监督。") -> int:
    """Answer a case the way the workflow allows (directly from RECEIVED, else claim then answer); the reply id."""
    async with db.ctx() as ctx:
        case = await ctx.session.get(Case, case_id)
        assert case is not None
        if case.status is CaseStatus.RECEIVED:
            _case, reply = await answer_case(ctx.as_actor(DISPATCHER), case_id=case_id, content=content)
            return reply.id
        lead = (await departments.by_ids(ctx.session, ids=[case.lead_department_id or 0]))[case.lead_department_id or 0]
        staff = ctx.as_actor(handler(lead.code))
        if case.status is CaseStatus.DISPATCHED:
            await claim_case(staff, case_id=case_id)
        _case, reply = await answer_case(staff, case_id=case_id, content=content)
        return reply.id


def job_context(db: Any, settings: Settings, http: httpx.AsyncClient, jobs: JobSettings | None = None) -> JobContext:
    """A job context on the test's own event loop."""
    return JobContext(db.sessions, settings, jobs or fast_jobs(), ConnectorPool(settings, http))


@contextlib.asynccontextmanager
async def serve_here(app: Any, *, keep_alive: float = 5.0) -> AsyncIterator[str]:
    """Serve an ASGI app over real HTTP on this event loop (sharing the test's engine); yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=keep_alive)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _tick in range(500):  # uvicorn has no "started" event to await
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


REPO = Path(__file__).resolve().parents[1]


def hub_env(env: dict[str, str]) -> dict[str, str]:
    """A subprocess environment that runs this checkout's code, whatever package is installed."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), **env}


def hub_command(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `hub ARGS` to completion in a fresh process."""
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], env=hub_env(env), cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def hub_process(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start `hub ARGS` in the background, its output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hub.cli", *args], env=hub_env(env), cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT)
