"""The department side over the hub's GraphQL API: the dispatch centre routes and answers, handlers sign for
and answer their department's cases, each with a bearer token from the embedded issuer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from auth.principal import Principal, Role
from hub.demo.district import lead_for

DISPATCHER = Principal("dispatcher", frozenset({Role.DISPATCHER}), "NH-DC")

CASE = "query($id: ID) { case(id: $id) { id caseNo status channel kind category address leadDepartment { code } } }"
DISPATCH = "mutation($id: ID!, $lead: String!) { dispatchCase(caseId: $id, leadDepartment: $lead) { status } }"
CLAIM = "mutation($id: ID!) { claimCase(caseId: $id) { status } }"
ANSWER = "mutation($id: ID!, $content: String!) { answerCase(caseId: $id, content: $content) { status } }"


def handler_of(department: str) -> Principal:
    """The demo handler of a department (``handler-zj`` for NH-ZJ)."""
    return Principal(f"handler-{department.split('-')[-1].lower()}", frozenset({Role.HANDLER}), department)


class DeskError(Exception):
    """A GraphQL call answered with errors; ``code`` is the first error's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class Answered:
    """An answer the hub committed: the case, its channel, and when the mutation returned (perf_counter)."""

    case_id: int
    case_no: str
    channel: str
    committed_at: float
    direct: bool


class StaffDesk:
    """Answers cases the way staff do in the portal: read, dispatch when needed, sign for, answer."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, headers: Callable[[Principal], dict[str, Any]]) -> None:
        self.http = http
        self.url = f"{base_url}/graphql"
        self._headers = headers

    async def call(self, actor: Principal, query: str, **variables: Any) -> dict[str, Any]:
        """Run one GraphQL operation as ``actor``; DeskError on errors."""
        response = await self.http.post(self.url, json={"query": query, "variables": variables},
                                        headers=self._headers(actor))
        body = response.json()
        if body.get("errors"):
            first = body["errors"][0]
            raise DeskError(str((first.get("extensions") or {}).get("code", "ERROR")), str(first.get("message")))
        data: dict[str, Any] = body["data"]
        return data

    async def answer(self, case_id: int, content: Callable[[str], str], *, direct: bool = True) -> Answered | None:
        """Bring a case to ANSWERED with ``content(case_no)``; None if it is past that already."""
        # with direct, the centre answers a RECEIVED consultation itself; anything else goes to the lead department,
        # whose handler signs for it and answers
        case = (await self.call(DISPATCHER, CASE, id=str(case_id)))["case"]
        status, case_no = case["status"], case["caseNo"]
        lead = (case.get("leadDepartment") or {}).get("code")
        if status == "RECEIVED" and case["kind"] == "CONSULTATION" and direct:
            await self.call(DISPATCHER, ANSWER, id=str(case_id), content=content(case_no))
            return Answered(case_id, case_no, case["channel"], time.perf_counter(), direct=True)
        if status == "RECEIVED":
            lead = lead_for(case.get("category"), case.get("address"))
            await self.call(DISPATCHER, DISPATCH, id=str(case_id), lead=lead)
            status = "DISPATCHED"
        if status not in ("DISPATCHED", "CLAIMED") or not lead:
            return None
        staff = handler_of(lead)
        if status == "DISPATCHED":
            await self.call(staff, CLAIM, id=str(case_id))
        await self.call(staff, ANSWER, id=str(case_id), content=content(case_no))
        return Answered(case_id, case_no, case["channel"], time.perf_counter(), direct=False)
