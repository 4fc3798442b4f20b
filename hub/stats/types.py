"""Inputs and results of the statistics: dimensions, the filter, one row per group."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from hub.enums import CaseKind, Channel


class StatsDimension(enum.StrEnum):
    """What a statistics row can be grouped by; periods are of `received_at` in the district's timezone."""

    DEPARTMENT = "DEPARTMENT"  # the lead department (主办)
    CHANNEL = "CHANNEL"
    KIND = "KIND"
    CATEGORY = "CATEGORY"
    DAY = "DAY"  # "2026-11-25"
    WEEK = "WEEK"  # the Monday that starts the week, "2026-11-23"
    MONTH = "MONTH"  # "2026-11"


PERIODS: frozenset[StatsDimension] = frozenset({StatsDimension.DAY, StatsDimension.WEEK, StatsDimension.MONTH})


@dataclass(frozen=True)
class StatsFilter:
    """Every field optional; tuples mean any of; the date range is of local receipt dates, both ends included."""

    received_from: dt.date | None = None
    received_to: dt.date | None = None
    department: str | None = None  # lead department code
    channel: tuple[Channel, ...] = ()
    kind: tuple[CaseKind, ...] = ()
    category: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatsKey:
    """The group a row describes; only the grouped dimensions are set (None there means none: 未派单, 未分类)."""

    department: str | None = None
    department_name: str | None = None
    channel: Channel | None = None
    kind: CaseKind | None = None
    category: str | None = None
    period: str | None = None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class StatsRow:
    """The figures of one group.

    Each case counts once, in the group of its current lead department, channel, kind, category and local
    receipt date. `returned` counts returns (退单), and by department it counts them for the department that
    returned the case. `callbacks`, `resolved` and `satisfied` count callback records (回访), so a reopened
    case's first, dissatisfied callback still counts. Handling time is dispatch → (latest) answer in working hours.
    """

    key: StatsKey
    received: int = 0
    dispatched: int = 0
    signed: int = 0
    signed_on_time: int = 0
    answered: int = 0
    answered_on_time: int = 0
    callbacks: int = 0
    resolved: int = 0
    satisfied: int = 0  # satisfied + basically satisfied
    returned: int = 0
    extended: int = 0  # cases with at least one approved extension
    reopened: int = 0  # cases reopened at least once (重办)
    overdue_now: int = 0  # open, not yet answered, and past dueAt or marked overdue
    supervised: int = 0
    handled: int = 0  # cases with both a dispatch and an answer time
    handling_hours_median: float | None = None
    handling_hours_p90: float | None = None

    @property
    def response_rate(self) -> float | None:
        """响应率: signed on time / signed."""
        return _ratio(self.signed_on_time, self.signed)

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: answered by dueAt / answered."""
        return _ratio(self.answered_on_time, self.answered)

    @property
    def resolution_rate(self) -> float | None:
        """解决率: callbacks saying solved / callbacks."""
        return _ratio(self.resolved, self.callbacks)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: satisfied and basically satisfied callbacks / callbacks."""
        return _ratio(self.satisfied, self.callbacks)


@dataclass(frozen=True)
class StatsReport:
    """One statistics call: how it was grouped, the moment `overdue_now` refers to, and the rows in key order.

    Handling-time percentiles read every handled case up to MAX_HANDLING_SAMPLE of them, and beyond that every
    `handling_sample_stride`-th case by id (1: all of them; 0: handling time was not asked for).
    """

    group_by: tuple[StatsDimension, ...]
    filter: StatsFilter
    as_of: dt.datetime
    rows: list[StatsRow]
    handling_sample_stride: int = 1
