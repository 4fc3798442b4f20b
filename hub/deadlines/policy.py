"""The deadline rules of DESIGN §3 as pure functions over a WorkingCalendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from hub.deadlines.calendar import WorkingCalendar
from hub.enums import CaseKind, Urgency
from hub.errors import ExtensionTooLong, ValidationFailed
from hub.settings import Settings

SHORT_ANSWER_KINDS: frozenset[CaseKind] = frozenset({CaseKind.CONSULTATION, CaseKind.HELP})


@dataclass(frozen=True)
class DeadlinePolicy:
    """The configurable numbers behind every case deadline."""

    sign_working_days: int = 1
    urgent_sign_hours: int = 2
    answer_working_days_short: int = 3
    answer_working_days_long: int = 13
    return_window_working_days: int = 2
    max_extension_working_days: int = 10
    auto_close_working_days: int = 5
    short_answer_kinds: frozenset[CaseKind] = SHORT_ANSWER_KINDS

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{field.name} must not be negative")
        if self.max_extension_working_days < 1:
            raise ValueError("max_extension_working_days must be at least 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> DeadlinePolicy:
        """The policy configured in the settings."""
        return cls(
            sign_working_days=settings.sign_working_days,
            urgent_sign_hours=settings.urgent_sign_hours,
            answer_working_days_short=settings.answer_working_days_short,
            answer_working_days_long=settings.answer_working_days_long,
            return_window_working_days=settings.return_window_working_days,
            max_extension_working_days=settings.max_extension_working_days,
            auto_close_working_days=settings.auto_close_working_days,
        )

    def sign_deadline(self, calendar: WorkingCalendar, dispatched_at: dt.datetime, urgency: Urgency) -> dt.datetime:
        """When the department must sign for (claim) a dispatched case; URGENT counts clock hours."""
        if urgency == Urgency.URGENT:
            return calendar.local(dispatched_at).astimezone(dt.UTC) + dt.timedelta(hours=self.urgent_sign_hours)
        return calendar.add_working_days(dispatched_at, self.sign_working_days)

    def answer_working_days(self, kind: CaseKind) -> int:
        """How many working days a non-urgent case of this kind has for its answer."""
        if kind in self.short_answer_kinds:
            return self.answer_working_days_short
        return self.answer_working_days_long

    def answer_deadline(
        self, calendar: WorkingCalendar, dispatched_at: dt.datetime, kind: CaseKind, urgency: Urgency
    ) -> dt.datetime:
        """When the answer is due; URGENT cases are due by 23:59:59 of the local dispatch day."""
        if urgency == Urgency.URGENT:
            local = calendar.local(dispatched_at)
            end_of_day = dt.datetime.combine(local.date(), dt.time(23, 59, 59), tzinfo=calendar.tz)
            return end_of_day.astimezone(dt.UTC)
        return calendar.add_working_days(dispatched_at, self.answer_working_days(kind))

    def return_window_end(self, calendar: WorkingCalendar, dispatched_at: dt.datetime) -> dt.datetime:
        """Until when the department may return (退单) a dispatched case."""
        return calendar.add_working_days(dispatched_at, self.return_window_working_days)

    def extend(self, calendar: WorkingCalendar, due_at: dt.datetime, working_days: int) -> dt.datetime:
        """The new due time after an approved extension of 1..max working days."""
        if working_days < 1:
            raise ValidationFailed("an extension must add at least 1 working day")
        if working_days > self.max_extension_working_days:
            raise ExtensionTooLong(
                f"an extension adds at most {self.max_extension_working_days} working days, not {working_days}"
            )
        return calendar.add_working_days(due_at, working_days)

    def auto_close_at(self, calendar: WorkingCalendar, answered_at: dt.datetime) -> dt.datetime:
        """When an answered case without a callback closes by itself."""
        return calendar.add_working_days(answered_at, self.auto_close_working_days)
