"""The inbox baseline: the same data as the GraphQL inbox, fetched by one hand-written SQL query, as JSON.

Run by the harness as ``uvicorn bench.baseline_app:app`` with HUB_DATABASE_URL; no auth, no ORM, no GraphQL:
the floor the hub's inbox is compared with.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DEPT = "(SELECT id FROM department WHERE code = $1)"
SCOPE = f"""(c.lead_department_id = {DEPT} OR EXISTS (
    SELECT 1 FROM case_co_department cd WHERE cd.case_id = c.id AND cd.department_id = {DEPT}))
    AND c.status = ANY($3::text[])"""

INBOX_SQL = f"""
WITH page AS (
    SELECT c.id, c.case_no, c.title, c.status, c.due_at, c.received_at, c.citizen_id, c.lead_department_id
    FROM hub_case c WHERE {SCOPE}
    ORDER BY c.received_at DESC, c.id DESC LIMIT $2
)
SELECT p.id, p.case_no, p.title, p.status, p.due_at, p.received_at, ci.name AS citizen_name, ci.phone,
       ld.code AS lead_code, ld.name AS lead_name, pd.code AS parent_code,
       (SELECT count(*) FROM hub_case c WHERE {SCOPE}) AS total,
       (SELECT coalesce(json_agg(json_build_object('code', d.code, 'name', d.name)), '[]')
          FROM case_co_department cd JOIN department d ON d.id = cd.department_id WHERE cd.case_id = p.id) AS co,
       (SELECT coalesce(json_agg(json_build_object('action', e.action, 'at', e.at, 'subject', e.actor_subject,
                                                   'role', e.actor_role, 'department', e.actor_department)
                                 ORDER BY e.seq), '[]')
          FROM (SELECT * FROM case_event WHERE case_id = p.id ORDER BY seq DESC LIMIT 3) e) AS events,
       (SELECT coalesce(json_agg(json_build_object('content', r.content, 'deliveryStatus', r.delivery_status)
                                 ORDER BY r.id), '[]') FROM reply r WHERE r.case_id = p.id) AS replies
FROM page p
LEFT JOIN citizen ci ON ci.id = p.citizen_id
LEFT JOIN department ld ON ld.id = p.lead_department_id
LEFT JOIN department pd ON pd.id = ld.parent_id
ORDER BY p.received_at DESC, p.id DESC
"""


ALL_STATUSES = ["RECEIVED", "DISPATCHED", "CLAIMED", "ANSWERED", "CLOSED", "MERGED"]


def _dsn() -> str:
    url = os.environ["HUB_DATABASE_URL"]
    return "postgresql://" + url.split("://", 1)[1]


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """One pool for the process; JIT off as on the hub's own connections (`hub.db.make_engine`)."""
    app.state.pool = await asyncpg.create_pool(_dsn(), min_size=2, max_size=10, server_settings={"jit": "off"})
    yield
    await app.state.pool.close()


def _node(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "caseNo": row["case_no"],
        "title": row["title"],
        "status": row["status"],
        "dueAt": row["due_at"].isoformat() if row["due_at"] else None,
        "citizen": {"name": row["citizen_name"], "phone": row["phone"]},
        "leadDepartment": {"code": row["lead_code"], "name": row["lead_name"], "parent": {"code": row["parent_code"]}},
        "coDepartments": json.loads(row["co"]),
        "events": [
            {
                "action": e["action"],
                "at": e["at"],
                "actor": {"subject": e["subject"], "role": e["role"], "department": e["department"]},
            }
            for e in json.loads(row["events"])
        ],
        "replies": json.loads(row["replies"]),
    }


async def inbox(request: Request) -> Response:
    """GET /inbox?department=NH-ZJ&first=50&status=DISPATCHED,CLAIMED."""
    department = request.query_params.get("department", "NH-ZJ")
    first = int(request.query_params.get("first", "50"))
    status = [s for s in request.query_params.get("status", "").split(",") if s] or ALL_STATUSES
    rows = await request.app.state.pool.fetch(INBOX_SQL, department, first + 1, status)
    page = rows[:first]
    body = {
        "totalCount": rows[0]["total"] if rows else 0,
        "edges": [{"cursor": str(r["id"]), "node": _node(r)} for r in page],
        "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": str(page[-1]["id"]) if page else None},
    }
    return Response(json.dumps({"data": {"cases": body}}, ensure_ascii=False), media_type="application/json")


async def healthz(_request: Request) -> Response:
    """Liveness."""
    return Response("ok")


app = Starlette(routes=[Route("/inbox", inbox), Route("/healthz", healthz)], lifespan=lifespan)
