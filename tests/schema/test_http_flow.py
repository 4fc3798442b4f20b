"""The whole flow over HTTP with real tokens, and a department subscriber receiving each event."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect

from auth.principal import Principal, Role
from hub.accounts.service import create_service_client
from hub.app import create_app
from hub.events import LocalBus
from hub.security import build_security

ADMIN = Principal(subject="admin", roles=frozenset({Role.ADMIN}))


class Server:
    """The real app under uvicorn (lifespan on) in a thread, on an ephemeral port."""

    def __init__(self, app: Any) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


@pytest.fixture
def served(district) -> Iterator[tuple[str, Any, LocalBus]]:  # type: ignore[no-untyped-def]
    security = build_security(district.settings)
    bus = LocalBus()
    server = Server(create_app(district.settings, security=security, bus=bus))
    yield f"127.0.0.1:{server.port}", security, bus
    server.stop()


async def _gql(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return dict(body["data"])


async def test_submit_to_close_over_http_with_a_live_subscriber(district, served) -> None:  # type: ignore[no-untyped-def]
    address, security, bus = served
    async with district.sessions() as session, session.begin():
        _, secret = await create_service_client(
            session, actor=ADMIN, client_id="hotline-job", name="12345热线", roles=["connector"]
        )
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).status_code == 200
        granted = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=("hotline-job", secret)
        )
        assert granted.status_code == 200, granted.text
        connector = granted.json()["access_token"]
        dispatcher = security.issuer.issue(Principal("dispatcher", frozenset({Role.DISPATCHER}), "NH-DC"))
        handler = security.issuer.issue(Principal("handler-zj", frozenset({Role.HANDLER}), "NH-ZJ"))

        async with connect(
            f"ws://{address}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Bearer {handler}"},
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": "subscription { caseEvents { caseNo action status } }"},
                    }
                )
            )
            for _ in range(200):
                if bus.subscriber_count:
                    break
                await asyncio.sleep(0.01)

            submitted = await _gql(
                http,
                connector,
                """mutation { submitCase(input: {channel: HOTLINE,
                externalId: "GD20261125000777", title: "咨询一个问题", content: "想了解相关办理流程，麻烦告知。",
                kind: CONSULTATION, receivedAt: "2026-11-25T09:00:00+08:00", citizenPhone: "13600001111"})
                { id caseNo status } }""",
            )
            case_id, case_no = submitted["submitCase"]["id"], submitted["submitCase"]["caseNo"]
            await _gql(
                http,
                dispatcher,
                'mutation($id: ID!) { dispatchCase(caseId: $id, leadDepartment: "NH-ZJ") { status } }',
                id=case_id,
            )
            await _gql(http, handler, "mutation($id: ID!) { claimCase(caseId: $id) { status } }", id=case_id)
            await _gql(
                http,
                handler,
                'mutation($id: ID!) { answerCase(caseId: $id, content: "您好，可通过线上办理。") '
                "{ status replies { deliveryStatus } } }",
                id=case_id,
            )
            closed = await _gql(
                http,
                dispatcher,
                """mutation($id: ID!) { recordCallback(input: {caseId: $id,
                satisfaction: SATISFIED, solved: true}) { status closedAt events { action } } }""",
                id=case_id,
            )
            assert closed["recordCallback"]["status"] == "CLOSED"
            assert [e["action"] for e in closed["recordCallback"]["events"]] == [
                "SUBMITTED",
                "DISPATCHED",
                "CLAIMED",
                "ANSWERED",
                "CALLBACK_RECORDED",
            ]

            received = []
            while len(received) < 4:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
                assert message["type"] == "next", message
                received.append(message["payload"]["data"]["caseEvents"])
        assert [(r["caseNo"], r["action"]) for r in received] == [
            (case_no, "DISPATCHED"),
            (case_no, "CLAIMED"),
            (case_no, "ANSWERED"),
            (case_no, "CALLBACK_RECORDED"),
        ]

        seen = await _gql(http, handler, "query($no: String!) { case(caseNo: $no) { citizen { phone } } }", no=case_no)
        assert seen["case"]["citizen"]["phone"] == "13600001111"
        other = security.issuer.issue(Principal("handler-jy", frozenset({Role.HANDLER}), "NH-JY"))
        hidden = (
            await http.post(
                "/graphql",
                json={"query": "query($no: String!) { case(caseNo: $no) { title } }", "variables": {"no": case_no}},
                headers={"Authorization": f"Bearer {other}"},
            )
        ).json()
        assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND" and hidden["data"] is None
        anonymous = (await http.post("/graphql", json={"query": "{ me { subject } }"})).json()
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
