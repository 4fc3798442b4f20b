"""The raw keep-alive generator used for the WeChat figure: bounded, counts answers and errors, keeps bodies."""

from __future__ import annotations

import asyncio
from typing import Any

from channel_kit import serve_here

from bench.rawload import build_request, fixed_rate_raw
from bench.trivial_app import BODY
from bench.trivial_app import app as trivial


async def test_sends_every_request_at_the_rate_and_reuses_connections() -> None:
    async with serve_here(trivial) as base:
        requests = [build_request(base, "POST", f"/x?i={i}", b"<xml/>", {"Content-Type": "text/xml"})
                    for i in range(40)]
        result = await fixed_rate_raw(base, requests, rate=200, deadline=5.0, keep_bodies=3)
    assert result.count == 40 and result.errors == 0 and result.bodies == [BODY] * 3
    assert result.connections < 40 and 0.15 < result.seconds < 5.0  # 40 at 200/s: about 0.2 s


async def test_a_request_over_the_deadline_is_an_error_not_a_hang() -> None:
    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(3)

    async with serve_here(silent) as base:
        result = await fixed_rate_raw(base, [build_request(base, "GET", "/")] * 2, rate=100, deadline=0.3)
    assert result.count == 0 and result.errors == 2 and "TimeoutError" in (result.first_error or "")


async def test_a_connection_the_server_may_have_closed_is_not_reused() -> None:
    async with serve_here(trivial, keep_alive=0.2) as base:  # the server closes a connection idle for 0.2 s
        requests = [build_request(base, "GET", f"/x?i={i}") for i in range(4)]
        stale = await fixed_rate_raw(base, requests, rate=2, deadline=2.0, idle_reuse=10.0)
        fresh = await fixed_rate_raw(base, requests, rate=2, deadline=2.0, idle_reuse=0.1)
    assert stale.errors > 0 and "closed by the server" in (stale.first_error or "")  # what the bench once counted
    assert fresh.errors == 0 and fresh.count == 4 and fresh.connections == 4
