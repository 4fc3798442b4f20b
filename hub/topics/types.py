"""What a hot-topics call returns."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class TopicKind(enum.StrEnum):
    CATEGORY = "CATEGORY"
    PLACE = "PLACE"
    KEYWORD = "KEYWORD"


@dataclass(frozen=True)
class HotTopic:
    """A rising term: cases mentioning it in the window and in the window before.

    growth = (count - previous_count) / previous_count, a term new in the window counting as if it had been
    seen once before; score = (count - previous_count) / sqrt(previous_count + 1) ranks a rise by how unlikely
    it is as chance (a Poisson z-score), so 0 → 2 does not outrank 40 → 90.
    """

    term: str
    kind: TopicKind
    count: int
    previous_count: int
    growth: float
    score: float


@dataclass(frozen=True)
class HotTopics:
    """The window [window_start, window_end), the one before it [previous_start, window_start), and the topics."""

    window_start: dt.datetime
    window_end: dt.datetime
    previous_start: dt.datetime
    items: list[HotTopic]  # up to `limit` of each kind, categories first, each kind by score

    def of(self, kind: TopicKind) -> list[HotTopic]:
        """The items of one kind, best first."""
        return [item for item in self.items if item.kind is kind]
