"""The fake servers' runner and control API: start/stop, fault injection, recorded replies."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.errors import Transient
from connectors.fakes import FAKES, FakeHotline, FakeWebsite, FaultKind, serve
from connectors.website import WebsiteConnector


async def test_serve_runs_an_app_on_an_ephemeral_port_and_stops() -> None:
    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hi")

    server = serve(Starlette(routes=[Route("/", hello)]))
    assert server.base_url.startswith("http://127.0.0.1:") and server.port > 0
    async with httpx.AsyncClient() as http:
        assert (await http.get(server.base_url + "/")).text == "hi"
        server.stop()
        with pytest.raises(httpx.ConnectError):
            await http.get(server.base_url + "/")


@pytest.mark.parametrize("name", list(FAKES))
async def test_every_fake_starts_and_stops(name: str) -> None:
    fake = FAKES[name]()
    with fake:
        async with httpx.AsyncClient() as http:
            response = await http.get(fake.base_url + "/no-such-path")
            assert response.status_code == 404
    with pytest.raises(RuntimeError):
        _ = fake.base_url


async def test_faults_apply_to_the_next_n_requests_then_stop() -> None:
    with FakeHotline() as fake:
        fake.inject(FaultKind.SERVER_ERROR, 2)
        fake.inject(FaultKind.TOO_MANY_REQUESTS, 1, retry_after=9)
        async with httpx.AsyncClient() as http:
            statuses = [(await http.get(fake.base_url + "/api/workorders")) for _ in range(4)]
        assert [r.status_code for r in statuses] == [500, 500, 429, 401]  # last one: unsigned, no fault
        assert statuses[2].headers["retry-after"] == "9"
        assert len(fake.requests) == 4


async def test_fault_path_filter_and_clear() -> None:
    with FakeWebsite("k") as fake:
        fake.inject(FaultKind.GARBAGE, 5, path="/v1/threads/answer")
        fake.post_message("留言")
        async with httpx.AsyncClient() as http:
            board = WebsiteConnector(fake.base_url, "k", http)
            assert len((await board.pull(None)).drafts) == 1
            with pytest.raises(Transient):
                await board.send_reply(reply_to={"tid": "19302879"}, content="答复", idempotency_key="x")
            fake.clear_faults()
            await board.send_reply(reply_to={"tid": "19302879"}, content="答复", idempotency_key="x")
        assert [r["content"] for r in fake.replies] == ["答复"]


async def test_slow_fault_makes_clients_time_out() -> None:
    with FakeWebsite("k") as fake:
        fake.inject(FaultKind.SLOW, delay=0.5)
        async with httpx.AsyncClient(timeout=0.1) as http:
            with pytest.raises(Transient, match="timed out"):
                await WebsiteConnector(fake.base_url, "k", http).pull(None)


def test_replies_are_copies() -> None:
    fake = FakeHotline()
    fake.record_reply({"a": 1})
    fake.replies[0]["a"] = 2
    assert fake.replies == [{"a": 1}]
