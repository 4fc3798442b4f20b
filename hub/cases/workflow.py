"""The transitions of DESIGN §2 as data: (action, from status) → to status."""

from __future__ import annotations

from hub.enums import FINAL_STATUSES, CaseAction, CaseStatus
from hub.errors import IllegalTransition

S = CaseStatus
A = CaseAction

TRANSITIONS: dict[tuple[CaseAction, CaseStatus], CaseStatus] = {
    (A.DISPATCHED, S.RECEIVED): S.DISPATCHED,
    (A.ANSWERED, S.RECEIVED): S.ANSWERED,  # the centre answers a simple consultation directly
    (A.CLAIMED, S.DISPATCHED): S.CLAIMED,
    (A.RETURNED, S.DISPATCHED): S.RECEIVED,
    (A.ANSWERED, S.CLAIMED): S.ANSWERED,
    (A.CLOSED, S.ANSWERED): S.CLOSED,
    (A.REOPENED, S.ANSWERED): S.CLAIMED,
}
for _status in CaseStatus:
    if _status not in FINAL_STATUSES:
        TRANSITIONS[(A.MERGED, _status)] = S.MERGED

# Actions that keep the status but only make sense while the case is in one of these.
IN_PLACE: dict[CaseAction, frozenset[CaseStatus]] = {
    A.EXTENSION_REQUESTED: frozenset({S.CLAIMED}),
    A.EXTENSION_DECIDED: frozenset({S.CLAIMED}),
    A.SUPERVISED: frozenset(set(CaseStatus) - FINAL_STATUSES),
    A.NOTE_ADDED: frozenset(CaseStatus),
}


def next_status(action: CaseAction, current: CaseStatus, case_no: str) -> CaseStatus:
    """The status after an action, or IllegalTransition naming what was tried and from where."""
    target = TRANSITIONS.get((action, current))
    if target is not None:
        return target
    if current in IN_PLACE.get(action, frozenset()):
        return current
    allowed = sorted({s.value for (a, s) in TRANSITIONS if a == action} | {s.value for s in IN_PLACE.get(action, ())})
    raise IllegalTransition(
        f"case {case_no} is {current.value}: {action.value} is only allowed from {', '.join(allowed) or 'nowhere'}"
    )
