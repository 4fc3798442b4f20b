"""When did each answer commit? A probe on SQLAlchemy's session events, for the reply delivery latency."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.cases.models import Reply

_KEY = "simulate.replied_cases"


class CommitProbe:
    """``with CommitProbe() as probe``: ``probe.committed[case_id]`` is the perf_counter moment the transaction
    that wrote the case's first reply committed (every session of this process is watched while it is open)."""

    def __init__(self) -> None:
        self.committed: dict[int, float] = {}

    def _after_flush(self, session: Session, _context: Any) -> None:
        cases = [item.case_id for item in session.new if isinstance(item, Reply)]
        if cases:
            session.info.setdefault(_KEY, []).extend(cases)

    def _after_commit(self, session: Session) -> None:
        now = time.perf_counter()
        for case_id in session.info.pop(_KEY, []):
            self.committed.setdefault(case_id, now)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_KEY, None)

    def __enter__(self) -> CommitProbe:
        event.listen(Session, "after_flush", self._after_flush)
        event.listen(Session, "after_commit", self._after_commit)
        event.listen(Session, "after_rollback", self._after_rollback)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        event.remove(Session, "after_flush", self._after_flush)
        event.remove(Session, "after_commit", self._after_commit)
        event.remove(Session, "after_rollback", self._after_rollback)
