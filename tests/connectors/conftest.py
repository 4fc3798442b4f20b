"""Shared fixtures for the connector tests: the channel fixtures, a drivable clock, an HTTP client."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

FIXTURES = Path(__file__).parent / "fixtures"  # copied from shared/channels/fixtures (synthetic values)


class ChannelFixtures:
    """Reads the channel fixtures by path relative to ``fixtures/``."""

    root = FIXTURES

    def bytes(self, relative: str) -> bytes:
        """Raw bytes (BOM kept)."""
        return (FIXTURES / relative).read_bytes()

    def text(self, relative: str) -> str:
        """UTF-8 text."""
        return (FIXTURES / relative).read_text(encoding="utf-8")

    def json(self, relative: str) -> Any:
        """Parsed JSON."""
        return json.loads(self.text(relative))


class Clock:
    """A clock tests move by hand, shared by a connector and its fake."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by a timedelta given as keywords."""
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def fx() -> ChannelFixtures:
    """The channel fixture files."""
    return ChannelFixtures()


@pytest.fixture
def clock() -> Clock:
    """A fresh drivable clock at the current second."""
    return Clock()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a short timeout (the fakes are local)."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client
