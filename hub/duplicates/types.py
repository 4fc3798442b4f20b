"""The values duplicate detection passes around: a case's text as scoring sees it, a suggestion, a recipient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from hub.enums import Channel


@dataclass(frozen=True)
class CaseText:
    """What scoring reads of a case: its words, place, category, citizen and time (no personal data)."""

    id: int
    title: str
    content: str
    received_at: dt.datetime
    channel: Channel | None = None
    address: str | None = None
    region: str | None = None
    category: str | None = None
    citizen_id: int | None = None


@dataclass(frozen=True)
class DuplicateSuggestion:
    """An open case that is probably the same matter as ``case_id``: a score in [0, 1] and why."""

    case_id: int
    candidate_id: int
    score: float
    reasons: tuple[str, ...]


class Recipient(NamedTuple):
    """Where a merged case's citizen is answered: the case, its channel and the channel's reply target."""

    case_id: int
    channel: Channel
    reply_to: Mapping[str, str]
