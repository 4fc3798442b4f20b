"""`hub import hotline FILE.csv`: UTF-8 with BOM or GB18030, bad rows reported by line and skipped, re-import free."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from channel_kit import cases, count, hub_command

from hub.cases.models import Case
from hub.ingest.imports import import_export

EXPORT = Path(__file__).parents[2] / "connectors" / "fixtures" / "hotline12345" / "workorders_export.csv"


def _with_bad_row(encoding: str) -> bytes:
    text = EXPORT.read_bytes().decode("utf-8-sig").rstrip("\n")
    header = text.splitlines()[0].split(",")
    bad = ["GD20240603009999", "电话", "昨天下午"] + [""] * (len(header) - 3)  # an unreadable 来电时间
    data = (text + "\n" + ",".join(bad) + "\n").encode(encoding)
    return (b"\xef\xbb\xbf" + data) if encoding == "utf-8" else data


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
async def test_import_skips_bad_rows_and_repeats_nothing(db: Any, encoding: str) -> None:
    data = _with_bad_row(encoding)
    first = await import_export(sessions=db.sessions, settings=db.settings, channel="hotline", data=data)
    assert (first.imported, first.repeated) == (3, 0)
    assert len(first.bad) == 1 and first.bad[0][0] == "line 5" and "来电时间" in first.bad[0][1]
    again = await import_export(sessions=db.sessions, settings=db.settings, channel="hotline", data=data)
    assert (again.imported, again.repeated, len(again.bad)) == (0, 3, 1)
    stored = await cases(db)
    assert [case.channel.value for case in stored] == ["HOTLINE"] * 3
    assert stored[0].external_id == "GD20240603000123" and "路灯" in stored[0].title


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # a subprocess per run: one backend is enough here
async def test_the_command_reports_lines_and_a_summary(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(_with_bad_row("gb18030"))
    env = {"HUB_DATABASE_URL": db.url}
    done = await asyncio.to_thread(hub_command, ["import", "hotline", str(path)], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "imported 3, repeated 0, bad 1"
    assert "skipped line 5" in done.stderr and "3/3 rows" in done.stderr
    again = await asyncio.to_thread(hub_command, ["import", "hotline", str(path)], env, tmp_path)
    assert again.stdout.strip().splitlines()[-1] == "imported 0, repeated 3, bad 1"
    missing = await asyncio.to_thread(hub_command, ["import", "hotline", str(tmp_path / "nope.csv")], env, tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert await count(db, Case) == 3
