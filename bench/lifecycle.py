"""One case's life as the workflow would have written it: events in time order, cut off at the history's end."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from bench.workcal import FastCalendar
from hub.deadlines.calendar import WorkingCalendar
from hub.deadlines.policy import DeadlinePolicy
from hub.enums import CaseKind, Urgency

Actor = tuple[str, str, str | None]  # subject, role, department code
SYSTEM: Actor = ("system", "system", None)
SUPERVISOR: Actor = ("supervisor", "supervisor", None)
DISPATCHERS: tuple[Actor, ...] = tuple((f"dispatcher{s}", "dispatcher", "NH-DC") for s in ("", "-2", "-3", "-4"))
RETURN_REASONS = ("不属于我单位职责范围，请改派。", "该事项属属地管理，建议转街道办理。", "诉求地址不在我辖区。")
EXTENSION_REASONS = ("涉及多部门协调，需延期办理。", "需现场勘查及检测，时间较长。", "当事人暂时联系不上，申请延期。")


def handler(code: str) -> Actor:
    """The demo staff subject of a department's handler."""
    return (f"handler-{code.split('-')[1].lower()}", "handler", code)


def iso(moment: dt.datetime | None) -> str | None:
    """As hub.cases.steps.iso writes timestamps into payloads."""
    return moment.astimezone(dt.UTC).isoformat() if moment else None


class _Stop(Exception):
    """The next step would happen after the end of the history."""


@dataclass
class Life:
    """What the simulation produced for one case; side rows are plain dicts the loader serialises."""

    case: dict[str, Any]
    events: list[tuple[dt.datetime, str, Actor, str | None, str, str | None, dict[str, Any]]] = field(
        default_factory=list
    )
    co: list[str] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    extensions: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)


class Simulator:
    """Plays a case through the DESIGN §2 transitions with realistic delays and rates."""

    def __init__(self, calendar: WorkingCalendar, policy: DeadlinePolicy, end: dt.datetime, ids: Any) -> None:
        self.cal: Any = FastCalendar(calendar)
        self.policy, self.end, self.ids = policy, end, ids
        self.tz = calendar.tz

    # --- time helpers ------------------------------------------------------------------------------------
    def work(self, rng: random.Random, moment: dt.datetime, hours: float) -> dt.datetime:
        """``hours`` later, moved into office hours (09:00–18:00 local) of a working day."""
        t = (moment + dt.timedelta(hours=hours)).astimezone(self.tz)
        if not self.cal.is_working_day(t.date()) or t.hour >= 18:
            day = self.cal.next_working_day(t.date())
            t = dt.datetime.combine(day, dt.time(9), tzinfo=self.tz) + dt.timedelta(minutes=rng.uniform(0, 150))
        elif t.hour < 9:
            t = t.replace(hour=9, minute=rng.randrange(60))
        return t.astimezone(dt.UTC)

    def _event(
        self,
        life: Life,
        at: dt.datetime,
        action: str,
        actor: Actor,
        to: str | None = None,
        note: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> dt.datetime:
        if at > self.end:
            raise _Stop
        before = life.case["status"]
        life.case["status"] = to or before
        life.events.append((at, action, actor, before, to or before, note, payload or {}))
        return at

    def _deadline_events(
        self, life: Life, which: str, deadline: dt.datetime, done_at: dt.datetime | None, hours_before: float
    ) -> None:
        """Warnings, urgings and overdue marks the scheduler writes while a deadline runs."""
        warn_at = deadline - dt.timedelta(hours=hours_before)
        key = f"{which}:{iso(deadline)}"
        payload = {"deadline": which, "at": iso(deadline), "key": key}
        for action, at in (("WARNED", warn_at), ("URGED", deadline), ("OVERDUE", deadline)):
            at += dt.timedelta(seconds=37 if action == "OVERDUE" else 31)
            if done_at is not None and at >= done_at:
                return
            if at <= life.events[-1][0]:
                continue  # the scheduler wrote it before the last step we have: keep the trail in time order
            self._event(life, at, action, SYSTEM, payload=payload)
            life.case["overdue"] = life.case["overdue"] or action == "OVERDUE"

    # --- the life ----------------------------------------------------------------------------------------
    def run(
        self,
        rng: random.Random,
        life: Life,
        *,
        lead: str,
        co: tuple[str, ...],
        wrong: str | None,
        answer: str,
        merge_into: tuple[int, str] | None,
    ) -> Life:
        """Fill ``life`` from its SUBMITTED event on; stops silently at the end of the history."""
        try:
            self._life(rng, life, lead=lead, co=co, wrong=wrong, answer=answer, merge_into=merge_into)
        except _Stop:
            pass
        return life

    def _life(
        self,
        rng: random.Random,
        life: Life,
        *,
        lead: str,
        co: tuple[str, ...],
        wrong: str | None,
        answer: str,
        merge_into: tuple[int, str] | None,
    ) -> None:
        c = life.case
        t = c["received_at"]
        dispatcher = rng.choice(DISPATCHERS)
        if merge_into is not None:
            t = self.work(rng, t, rng.uniform(0.2, 4))
            self._event(
                life, t, "MERGED", dispatcher, "MERGED", "与已受理工单为同一事项，并案处理。", {"into": merge_into[1]}
            )
            c["merged_into_id"] = merge_into[0]
            return
        if c["kind"] == "CONSULTATION" and rng.random() < 0.4:
            t = self.work(rng, t, rng.uniform(0.1, 3))
            self._answer(rng, life, t, dispatcher, None, answer, direct=True)
            self._callback_or_close(rng, life, t, dispatcher, lead=None, answer=answer)
            return
        auto = rng.random() < 0.55
        for attempt, target in enumerate((wrong, lead) if wrong else (lead,)):
            if auto and attempt == 0:
                t = t + dt.timedelta(seconds=rng.uniform(1, 20))
            else:
                t = self.work(rng, t, rng.expovariate(1 / 1.5))
            self._dispatch(
                life, t, SYSTEM if auto and attempt == 0 else dispatcher, target, co if target == lead else ()
            )
            if target != lead:
                t = self.work(rng, t, rng.uniform(1, 12))
                if t > c["return_deadline"]:
                    t = c["return_deadline"] - dt.timedelta(minutes=rng.uniform(5, 120))
                self._event(
                    life, t, "RETURNED", handler(target), "RECEIVED", rng.choice(RETURN_REASONS), {"from": target}
                )
                c.update(
                    lead=None,
                    return_count=c["return_count"] + 1,
                    dispatched_at=None,
                    sign_deadline=None,
                    due_at=None,
                    return_deadline=None,
                )
                life.co = []
        # sign (签收)
        late_sign = rng.random() < 0.06
        sign_by = c["sign_deadline"]
        claimed = (
            sign_by + dt.timedelta(hours=rng.uniform(0.5, 20))
            if late_sign
            else self.work(rng, c["dispatched_at"], rng.expovariate(1 / 2.5))
        )
        if not late_sign and claimed > sign_by:
            claimed = sign_by - dt.timedelta(minutes=rng.uniform(1, 60))
        self._deadline_events(life, "sign", sign_by, claimed, 2.0)
        self._event(life, claimed, "CLAIMED", handler(lead), "CLAIMED", None, {"onTime": claimed <= sign_by})
        c["claimed_at"] = t = claimed
        self._handle(rng, life, t, lead=lead, answer=answer, dispatcher=dispatcher)

    def _dispatch(self, life: Life, t: dt.datetime, actor: Actor, target: str, co: tuple[str, ...]) -> None:
        c = life.case
        urgency, kind = Urgency(c["urgency"]), CaseKind(c["kind"])
        sign = self.policy.sign_deadline(self.cal, t, urgency)
        due = self.policy.answer_deadline(self.cal, t, kind, urgency)
        ret = self.policy.return_window_end(self.cal, t)
        note = "auto-dispatched: keyword; rule 自动分派" if actor is SYSTEM else None
        self._event(
            life,
            t,
            "DISPATCHED",
            actor,
            "DISPATCHED",
            note,
            {"lead": target, "co": list(co), "category": c["category"], "signDeadline": iso(sign), "dueAt": iso(due)},
        )
        c.update(lead=target, dispatched_at=t, claimed_at=None, sign_deadline=sign, due_at=due, return_deadline=ret)
        life.co = list(co)

    def _handle(
        self, rng: random.Random, life: Life, t: dt.datetime, *, lead: str, answer: str, dispatcher: Actor
    ) -> None:
        c = life.case
        staff = handler(lead)
        if rng.random() < (0.07 if c["kind"] not in ("CONSULTATION", "HELP") else 0.02):
            t = self._extension(rng, life, t, staff, dispatcher)
        if rng.random() < 0.015:
            t = self._supervision(rng, life, t, staff)
        late = rng.random() < 0.08
        span = (c["due_at"] - t).total_seconds() / 3600
        answered = (
            c["due_at"] + dt.timedelta(hours=rng.uniform(2, 72))
            if late
            else self.work(rng, t, max(0.2, span * rng.uniform(0.05, 0.8)))
        )
        self._deadline_events(life, "answer", c["due_at"], answered, 24.0)
        self._answer(rng, life, answered, staff, lead, answer, direct=False)
        self._callback_or_close(rng, life, answered, dispatcher, lead=lead, answer=answer)

    def _extension(
        self, rng: random.Random, life: Life, t: dt.datetime, staff: Actor, dispatcher: Actor
    ) -> dt.datetime:
        c = life.case
        days = rng.choice((3, 5, 5, 10))
        t = self.work(rng, t, rng.uniform(4, 40))
        reason = rng.choice(EXTENSION_REASONS)
        ext = {
            "id": self.ids.next("extension_request"),
            "department": staff[2],
            "requested_by": staff[0],
            "working_days": days,
            "reason": reason,
            "status": "PENDING",
            "requested_at": t,
            "decided_by": None,
            "decided_at": None,
            "decision_note": None,
            "old_due_at": None,
            "new_due_at": None,
        }
        self._event(
            life, t, "EXTENSION_REQUESTED", staff, None, reason, {"extensionId": ext["id"], "workingDays": days}
        )
        life.extensions.append(ext)
        t = self.work(rng, t, rng.uniform(0.5, 6))
        approve = rng.random() < 0.85
        note = None if approve else "理由不充分，请按期办结。"
        old = c["due_at"]
        new = self.policy.extend(self.cal, old, days) if approve else None
        self._event(
            life,
            t,
            "EXTENSION_DECIDED",
            dispatcher,
            None,
            note,
            {
                "extensionId": ext["id"],
                "approved": approve,
                "workingDays": days,
                "oldDueAt": iso(old) if approve else None,
                "newDueAt": iso(new),
            },
        )
        ext.update(
            status="APPROVED" if approve else "REJECTED",
            decided_by=dispatcher[0],
            decided_at=t,
            decision_note=note,
            old_due_at=old if approve else None,
            new_due_at=new,
        )
        if approve:
            c["due_at"], c["extension_count"] = new, c["extension_count"] + 1
        return t

    def _supervision(self, rng: random.Random, life: Life, t: dt.datetime, staff: Actor) -> dt.datetime:
        t = self.work(rng, t, rng.uniform(2, 48))
        deadline = self.policy.extend(self.cal, t, self.policy.answer_working_days_short)
        note = "请加快办理进度，按期反馈办理结果。"
        order = {
            "id": self.ids.next("supervision_order"),
            "department": staff[2],
            "issued_by": SUPERVISOR[0],
            "note": note,
            "deadline": deadline,
            "status": "OPEN",
            "issued_at": t,
            "response": None,
            "responded_by": None,
            "responded_at": None,
        }
        self._event(life, t, "SUPERVISED", SUPERVISOR, None, note, {"orderId": order["id"], "deadline": iso(deadline)})
        life.orders.append(order)
        life.case["supervised"] = True
        t = self.work(rng, t, rng.uniform(2, 30))
        response = "已安排专人跟进，正在加快办理。"
        self._event(life, t, "SUPERVISION_RESPONDED", staff, None, response, {"orderId": order["id"]})
        order.update(status="RESPONDED", response=response, responded_by=staff[0], responded_at=t)
        return t

    def _answer(
        self,
        rng: random.Random,
        life: Life,
        t: dt.datetime,
        actor: Actor,
        lead: str | None,
        answer: str,
        *,
        direct: bool,
    ) -> None:
        c = life.case
        on_time = c["due_at"] is None or t <= c["due_at"]
        reply_id = self.ids.next("reply")
        self._event(
            life, t, "ANSWERED", actor, "ANSWERED", None, {"onTime": on_time, "replyId": reply_id, "direct": direct}
        )
        c["answered_at"] = t
        if not on_time:
            c["overdue"] = True
        delivered = t + dt.timedelta(seconds=rng.uniform(2, 600))
        status = "DELIVERED" if delivered <= self.end else "PENDING"
        if status == "DELIVERED" and rng.random() < 0.02:
            status = "WINDOW_CLOSED" if c["channel"] == "WECHAT" else "FAILED"
        life.replies.append(
            {
                "id": reply_id,
                "department": lead,
                "author": actor[0],
                "content": answer,
                "created_at": t,
                "status": status,
                "delivered_at": delivered if status == "DELIVERED" else None,
                "attempts": 0 if status == "PENDING" else 1,
                "last_error": None if status in ("DELIVERED", "PENDING") else "渠道拒绝投递",
            }
        )

    def _callback_or_close(
        self, rng: random.Random, life: Life, t: dt.datetime, dispatcher: Actor, *, lead: str | None, answer: str
    ) -> None:
        c = life.case
        if rng.random() < 0.65:
            t = self.work(rng, t, rng.uniform(4, 60))
            roll = rng.random()
            satisfaction = "SATISFIED" if roll < 0.72 else "BASICALLY_SATISFIED" if roll < 0.91 else "DISSATISFIED"
            reopen = satisfaction == "DISSATISFIED" and lead is not None and c["reopen_count"] == 0
            if satisfaction == "DISSATISFIED" and not reopen:
                satisfaction = "BASICALLY_SATISFIED"
            solved = satisfaction == "SATISFIED" or (satisfaction == "BASICALLY_SATISFIED" and rng.random() < 0.7)
            payload: dict[str, Any] = {"satisfaction": satisfaction, "solved": solved, "reopened": reopen}
            due = self.policy.answer_deadline(self.cal, t, CaseKind(c["kind"]), Urgency(c["urgency"]))
            if reopen:
                payload["dueAt"] = iso(due)
            self._event(life, t, "CALLBACK_RECORDED", dispatcher, "CLAIMED" if reopen else "CLOSED", None, payload)
            life.callbacks.append(
                {
                    "id": self.ids.next("callback"),
                    "by": dispatcher[0],
                    "satisfaction": satisfaction,
                    "solved": solved,
                    "at": t,
                }
            )
            c.update(satisfaction=satisfaction, solved=solved)
            if not reopen:
                c["closed_at"] = t
                return
            c.update(reopen_count=1, answered_at=None, overdue=False, due_at=due)
            assert lead is not None
            self._handle(rng, life, t, lead=lead, answer=answer, dispatcher=dispatcher)
            return
        t = self.policy.auto_close_at(self.cal, t) + dt.timedelta(minutes=rng.uniform(0, 15))
        self._event(life, t, "CLOSED", SYSTEM, "CLOSED", "回访期满未回访，系统自动办结")
        c["closed_at"] = t
