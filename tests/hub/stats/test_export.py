"""`GET /stats.csv`: the same figures as the service, in a file Excel opens with its Chinese headers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
from fastapi import FastAPI
from helpers import AUDITOR, handler

from auth.errors import InvalidToken
from auth.principal import Principal
from hub.enums import Channel
from hub.stats.export import FIGURE_COLUMNS, stats_router
from hub.stats.service import stats
from hub.stats.types import StatsDimension, StatsFilter

TOKENS = {"Bearer auditor": AUDITOR, "Bearer hb": handler("NH-HB")}


async def _authenticate(header: str | None) -> Principal | None:
    if header is None:
        return None
    if header not in TOKENS:
        raise InvalidToken()
    return TOKENS[header]


def _client(db: Any) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(stats_router(_authenticate, db.sessions, db.settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


def _parse(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _number(text: str) -> float | None:
    return float(text) if text else None


async def test_csv_matches_the_service(district, seeded) -> None:  # type: ignore[no-untyped-def]
    async with _client(district) as client:
        response = await client.get(
            "/stats.csv",
            params={"groupBy": "department,month", "from": "2026-09-01", "to": "2026-11-30", "channel": "hotline"},
            headers={"Authorization": "Bearer auditor"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="stats-')
    rows = _parse(response.content)
    async with district.ctx(AUDITOR) as ctx:
        report = await stats(
            ctx,
            filter=StatsFilter(
                received_from=dt.date(2026, 9, 1), received_to=dt.date(2026, 11, 30), channel=(Channel.HOTLINE,)
            ),
            group_by=[StatsDimension.DEPARTMENT, StatsDimension.MONTH],
        )
    # HB/09 (A), HB/11 (only D's return), ZJ/11 (D, H), no lead/11 (F)
    assert len(rows) == len(report.rows) == 4
    assert list(rows[0])[:3] == ["部门代码(department)", "部门(departmentName)", "月份(month)"]
    for line, row in zip(rows, report.rows, strict=True):
        assert line["部门代码(department)"] == (row.key.department or "")
        assert line["部门(departmentName)"] == (row.key.department_name or "")
        assert line["月份(month)"] == row.key.period
        for header, attr, kind in FIGURE_COLUMNS:
            value = getattr(row, attr)
            if kind == "count":
                assert int(line[header]) == value, header
            else:
                parsed = _number(line[header])
                assert (parsed is None) == (value is None), header
                if value is not None:
                    assert abs(parsed - value) < 0.01, header  # type: ignore[operator]


async def test_csv_scoping_and_errors(district, seeded) -> None:  # type: ignore[no-untyped-def]
    async with _client(district) as client:
        mine = await client.get("/stats.csv", headers={"Authorization": "Bearer hb"})
        other = await client.get("/stats.csv?department=NH-ZJ", headers={"Authorization": "Bearer hb"})
        anonymous = await client.get("/stats.csv")
        forged = await client.get("/stats.csv", headers={"Authorization": "Bearer forged"})
        bad_group = await client.get("/stats.csv?groupBy=planet", headers={"Authorization": "Bearer auditor"})
        bad_date = await client.get("/stats.csv?from=yesterday", headers={"Authorization": "Bearer auditor"})
        unknown = await client.get("/stats.csv?department=NOPE", headers={"Authorization": "Bearer auditor"})
    total = _parse(mine.content)
    assert mine.status_code == 200 and len(total) == 1
    assert total[0]["受理量(received)"] == "3" and total[0]["退单量(returned)"] == "1"  # HB: A C G, D returned
    assert other.status_code == 403 and other.json()["error"] == "NOT_ALLOWED"
    assert anonymous.status_code == 401 and forged.status_code == 401
    assert forged.json()["error"] == "INVALID_TOKEN"
    assert bad_group.status_code == 400 and bad_date.status_code == 400
    assert unknown.status_code == 400 and unknown.json()["error"] == "UNKNOWN_DEPARTMENT"
