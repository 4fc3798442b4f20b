"""The hub's vocabulary (DESIGN §2): one place for every enumerated value."""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    HOTLINE = "HOTLINE"
    WEBSITE = "WEBSITE"
    WEIBO = "WEIBO"
    WECHAT = "WECHAT"


class CaseKind(enum.StrEnum):
    CONSULTATION = "CONSULTATION"
    HELP = "HELP"
    COMPLAINT = "COMPLAINT"
    REPORT = "REPORT"
    SUGGESTION = "SUGGESTION"
    PRAISE = "PRAISE"
    OTHER = "OTHER"


class CaseStatus(enum.StrEnum):
    RECEIVED = "RECEIVED"
    DISPATCHED = "DISPATCHED"
    CLAIMED = "CLAIMED"
    ANSWERED = "ANSWERED"
    CLOSED = "CLOSED"
    MERGED = "MERGED"


FINAL_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.MERGED})


class Urgency(enum.StrEnum):
    NORMAL = "NORMAL"
    URGENT = "URGENT"


class Satisfaction(enum.StrEnum):
    SATISFIED = "SATISFIED"
    BASICALLY_SATISFIED = "BASICALLY_SATISFIED"
    DISSATISFIED = "DISSATISFIED"


class ExtensionStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    WINDOW_CLOSED = "WINDOW_CLOSED"


class SupervisionStatus(enum.StrEnum):
    OPEN = "OPEN"
    RESPONDED = "RESPONDED"


class CaseAction(enum.StrEnum):
    """What a trail event records."""

    SUBMITTED = "SUBMITTED"
    DISPATCHED = "DISPATCHED"
    CLAIMED = "CLAIMED"
    RETURNED = "RETURNED"
    ANSWERED = "ANSWERED"
    EXTENSION_REQUESTED = "EXTENSION_REQUESTED"
    EXTENSION_DECIDED = "EXTENSION_DECIDED"
    SUPERVISED = "SUPERVISED"
    SUPERVISION_RESPONDED = "SUPERVISION_RESPONDED"
    CALLBACK_RECORDED = "CALLBACK_RECORDED"
    REOPENED = "REOPENED"
    CLOSED = "CLOSED"
    MERGED = "MERGED"
    NOTE_ADDED = "NOTE_ADDED"
    WARNED = "WARNED"
    URGED = "URGED"
    OVERDUE = "OVERDUE"


class CalendarDayKind(enum.StrEnum):
    HOLIDAY = "HOLIDAY"
    WORKDAY = "WORKDAY"
