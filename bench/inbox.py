"""The inbox figure: a handler's GraphQL inbox through `hub serve` vs the hand-written SQL app, same load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import event

from auth.principal import Principal, Role
from bench.loadgen import LoadResult, closed_loop
from bench.procs import Proc
from hub.settings import Settings

DEPARTMENT = "NH-ZJ"
OPEN = ["DISPATCHED", "CLAIMED"]
INBOX = """
query Inbox($first: Int!, $department: String!, $status: [CaseStatus!]) {
  cases(first: $first, filter: {department: $department, status: $status}) {
    totalCount
    edges { cursor node {
      caseNo title status dueAt
      citizen { name phone }
      leadDepartment { code name parent { code } }
      coDepartments { code name }
      events(last: 3) { action at actor { subject role department } }
      replies { content deliveryStatus }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def handler_token(settings: Settings, department: str = DEPARTMENT) -> str:
    """A handler's bearer token from the embedded issuer (keys are in the database, so `hub serve` accepts it)."""
    from hub.security import build_security

    security = build_security(settings)
    try:
        assert security.issuer is not None
        principal = Principal(subject=f"bench-{department}", roles=frozenset({Role.HANDLER}), department=department)
        return security.issuer.issue(principal)
    finally:
        security.close()


def _variables(first: int, status: list[str] | None) -> dict[str, Any]:
    return {"first": first, "department": DEPARTMENT, "status": status}


async def statements_per_request(
    settings: Settings, token: str, first: int, status: list[str] | None
) -> tuple[int, int]:
    """SQL statements one inbox request costs, counted by the app's own engine (in process, same query).

    Returned as (reads, read-log rows): the read log is written only when a citizen is shown in clear, which
    depends on the page's data (a page of WeChat citizens without a phone writes none), not on its size.
    """
    from hub.app import create_app

    app = create_app(settings)
    engine = app.state.runtime.engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    headers = {"Authorization": f"Bearer {token}"}
    body = {"query": INBOX, "variables": _variables(first, status)}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        await app.state.runtime.security.warm_up()
        await client.post("/graphql", json=body, headers=headers)  # warm: keys, departments, caches
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            response = await client.post("/graphql", json=body, headers=headers)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    payload = response.json()
    if payload.get("errors"):
        raise RuntimeError(f"inbox query failed: {payload['errors'][0].get('message')}")
    await engine.dispose()
    logged = sum(1 for statement in seen if statement.lstrip().upper().startswith("INSERT INTO READ_LOG"))
    return len(seen) - logged, logged


@dataclass(frozen=True)
class InboxLoad:
    """How hard to push: clients, and the bounds of each run."""

    concurrency: int = 8
    max_requests: int = 2000
    max_seconds: float = 20.0


async def load_api(api: Proc, token: str, load: InboxLoad, *, first: int, status: list[str] | None) -> LoadResult:
    """The GraphQL inbox against `hub serve`."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"query": INBOX, "variables": _variables(first, status)}

    async def send(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        response = await client.post("/graphql", json=body, headers=headers)
        if response.status_code == 200 and b'"errors"' in response.content[:200]:
            return httpx.Response(500, text=response.text[:300])
        return response

    return await closed_loop(
        api.base_url, send, concurrency=load.concurrency, max_requests=load.max_requests, max_seconds=load.max_seconds
    )


async def load_baseline(baseline: Proc, load: InboxLoad, *, first: int, status: list[str] | None) -> LoadResult:
    """The same inbox from the hand-written SQL app."""
    params = {"department": DEPARTMENT, "first": str(first), "status": ",".join(status or [])}

    async def send(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.get("/inbox", params=params)

    return await closed_loop(
        baseline.base_url,
        send,
        concurrency=load.concurrency,
        max_requests=load.max_requests,
        max_seconds=load.max_seconds,
    )


async def same_cases(api: Proc, baseline: Proc, token: str, *, first: int, status: list[str] | None) -> bool:
    """Whether both return the same case numbers and total (the baseline really is the same data)."""
    async with httpx.AsyncClient(timeout=30) as client:
        mine = (
            await client.post(
                api.base_url + "/graphql",
                json={"query": INBOX, "variables": _variables(first, status)},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()["data"]["cases"]
        theirs = (
            await client.get(
                baseline.base_url + "/inbox",
                params={"department": DEPARTMENT, "first": str(first), "status": ",".join(status or [])},
            )
        ).json()["data"]["cases"]
    return bool(
        mine["totalCount"] == theirs["totalCount"]
        and [e["node"]["caseNo"] for e in mine["edges"]] == [e["node"]["caseNo"] for e in theirs["edges"]]
    )
