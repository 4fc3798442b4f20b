"""Inputs of the case read side: the filter and ordering an inbox or an auditor asks for."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from hub.enums import CaseKind, CaseStatus, Channel


class CaseOrder(enum.StrEnum):
    RECEIVED_AT_DESC = "RECEIVED_AT_DESC"
    RECEIVED_AT_ASC = "RECEIVED_AT_ASC"
    DUE_AT_ASC = "DUE_AT_ASC"


@dataclass(frozen=True)
class CaseFilter:
    """Every field optional; lists mean any of."""

    status: tuple[CaseStatus, ...] = ()
    channel: tuple[Channel, ...] = ()
    kind: tuple[CaseKind, ...] = ()
    category: tuple[str, ...] = ()
    lead_department: str | None = None
    co_department: str | None = None
    department: str | None = None  # leads or co-handles
    overdue: bool | None = None
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    search: str | None = None
    citizen_id: int | None = None
    case_no: str | None = None
