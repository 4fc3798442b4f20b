"""Turning a simulated case into table rows: citizen, identities, case, co-departments, trail, replies …"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections import defaultdict, deque
from typing import Any

from bench.lifecycle import Life, Simulator
from bench.texts import STREETS, Message, citizen_name, make_message, phone_for
from hub.cases.models import OPEN_STATUSES
from hub.enums import CaseStatus
from hub.trail.service import GENESIS, chain_hash

CHANNELS = ("HOTLINE", "WEBSITE", "WEIBO", "WECHAT")
CHANNEL_WEIGHTS = (55, 14, 8, 23)
PHONE_SHARE = {"HOTLINE": 0.96, "WEBSITE": 0.8, "WEIBO": 0.08, "WECHAT": 0.35}
EXT_PREFIX = {"HOTLINE": "BH", "WEBSITE": "BW", "WEIBO": "BB", "WECHAT": "BX"}
WECHAT_ACCOUNT = "gh_7c2a9e41b3d5"
KIND_LABELS = {
    "CONSULTATION": "咨询",
    "HELP": "求助",
    "COMPLAINT": "投诉",
    "REPORT": "举报",
    "SUGGESTION": "建议",
    "PRAISE": "表扬",
    "OTHER": "其他",
}
Rows = dict[str, list[dict[str, Any]]]
CITIZEN_POOL = 20_000  # repeat writers come from the newest citizens
RECENT_CASES = 2_000  # duplicates are merged into one of the newest cases


class Ids:
    """Next id per table (explicit ids: the trail's hashes cover case ids)."""

    def __init__(self, start: dict[str, int]) -> None:
        self._next = dict(start)

    def next(self, table: str) -> int:
        """Hand out the next id of a table."""
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def peek(self, table: str) -> int:
        """The id the next call would hand out."""
        return self._next[table]


def _uniform(key: int, salt: int) -> float:
    return ((key * 2_654_435_761 + salt * 40_503) % 4_294_967_296) / 4_294_967_296


def account_for(channel: str, citizen_id: int, salt: int) -> str | None:
    """The channel account of a citizen (openid, uid, site account); derived, so unique per citizen."""
    if channel == "WECHAT":
        return "o" + hashlib.sha1(f"{salt}:{citizen_id}".encode()).hexdigest()[:27]
    if channel == "WEIBO":
        return str(5_000_000_000 + citizen_id * 7 + salt % 7)
    if channel == "WEBSITE":
        return f"nh{salt}u{citizen_id}"
    return None


class CaseFactory:
    """Builds the rows of one case after another, keeping the running state (ids, citizens, day counters)."""

    def __init__(
        self,
        *,
        seed: int,
        ids: Ids,
        departments: dict[str, int],
        simulator: Simulator,
        counters: dict[str, int],
        recent: list[tuple[int, str]],
        citizens: list[tuple[int, str, bool]],
        prefix: str,
    ) -> None:
        self.seed, self.ids, self.dept, self.sim = seed, ids, departments, simulator
        self.counters, self.prefix = counters, prefix
        self.recent: deque[tuple[int, str]] = deque(recent, maxlen=RECENT_CASES)
        self.citizens: deque[tuple[int, str, bool]] = deque(citizens, maxlen=CITIZEN_POOL)  # (id, home, phone?)
        self.bureaus = [c for c in departments if c.startswith("NH-") and c not in STREETS and c != "NH-DC"]

    def _citizen(self, rng: random.Random, channel: str, at: dt.datetime, rows: Rows) -> tuple[int | None, str]:
        # Every draw is made whatever the state, so a history built in steps consumes the RNG as one run does.
        repeat, back, via_phone, anonymous = rng.random(), rng.expovariate(1 / 4000), rng.random(), rng.random()
        if self.citizens and repeat < 0.22:
            cid, home, has_phone = self.citizens[-1 - min(int(back), len(self.citizens) - 1)]
            return cid, "HOTLINE" if has_phone and via_phone < 0.4 else home
        if channel == "HOTLINE" and anonymous < 0.04:
            return None, channel  # an anonymous caller: no phone, no name
        cid = self.ids.next("citizen")
        has_phone = rng.random() < PHONE_SHARE[channel]
        phone = phone_for(cid, self.seed) if has_phone else None
        rows["citizen"].append(
            {"id": cid, "name": citizen_name(rng), "phone": phone, "id_number": None, "created_at": at}
        )
        if phone:
            rows["citizen_identity"].append(
                {
                    "id": self.ids.next("citizen_identity"),
                    "citizen_id": cid,
                    "kind": "PHONE",
                    "value": phone,
                    "bound_at": at,
                }
            )
        account = account_for(channel, cid, self.seed)
        if account:
            rows["citizen_identity"].append(
                {
                    "id": self.ids.next("citizen_identity"),
                    "citizen_id": cid,
                    "kind": channel,
                    "value": account,
                    "bound_at": at,
                }
            )
        self.citizens.append((cid, channel, has_phone))
        return cid, channel

    def _lead(self, rng: random.Random, msg: Message) -> tuple[str, tuple[str, ...], str | None]:
        problem = msg.problem
        lead = msg.street if problem.lead == "STREET" or rng.random() < 0.08 else problem.lead
        co = tuple(c for c in problem.co if c != lead and rng.random() < 0.5)
        wrong = rng.choice([b for b in self.bureaus if b != lead]) if rng.random() < 0.03 else None
        return lead, co, wrong

    def _raw(
        self,
        channel: str,
        ext: str,
        msg: Message,
        local: dt.datetime,
        name: str | None,
        phone: str | None,
        account: str | None,
    ) -> tuple[dict[str, str], str]:
        when = local.strftime("%Y-%m-%d %H:%M:%S")
        if channel == "HOTLINE":
            raw = {
                "orderNum": ext,
                "callTime": when,
                "title": msg.title,
                "majorContent": msg.content,
                "callerName": name,
                "callerPhone": phone,
                "callerType": KIND_LABELS[msg.kind],
                "areaName": STREETS[msg.street][0],
                "address": msg.address,
            }
            return {"orderNum": ext}, json.dumps(raw, ensure_ascii=False, sort_keys=True)
        if channel == "WECHAT":
            xml = (
                f"<xml><ToUserName><![CDATA[{WECHAT_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{account}]]>"
                f"</FromUserName><CreateTime>{int(local.timestamp())}</CreateTime><MsgType><![CDATA[text]]>"
                f"</MsgType><Content><![CDATA[{msg.content}]]></Content><MsgId>{ext[2:]}</MsgId></xml>"
            )
            return {"openid": account or "", "account": WECHAT_ACCOUNT}, xml
        raw = {"id": ext, "text": msg.content, "created_at": when, "user": account, "subject": msg.title}
        key = "tid" if channel == "WEBSITE" else "mid"
        return {key: ext}, json.dumps(raw, ensure_ascii=False, sort_keys=True)

    def build(self, rng: random.Random, received: dt.datetime, rows: Rows) -> None:
        """Append every row of one new case received at ``received`` (UTC)."""
        msg = make_message(rng)
        channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
        citizen_id, channel = self._citizen(rng, channel, received, rows)
        case_id = self.ids.next("hub_case")
        local = received.astimezone(self.sim.tz)
        day = local.strftime("%Y%m%d")
        self.counters[day] = seq = self.counters.get(day, 0) + 1
        case_no = f"{self.prefix}{day}{seq:06d}"
        ext = f"{EXT_PREFIX[channel]}{self.seed}-{case_id}"
        account = account_for(channel, citizen_id, self.seed) if citizen_id else None
        phone = phone_for(citizen_id, self.seed) if citizen_id and channel in ("HOTLINE", "WEBSITE") else None
        reply_to, raw = self._raw(channel, ext, msg, local, None, phone, account)
        confident = rng.random() < 0.9
        suggested = msg.problem.category if confident else rng.choice(("其他", "城乡建设", "环境保护"))
        confidence = round(rng.uniform(0.8, 0.99) if confident else rng.uniform(0.3, 0.79), 4)
        submitted = received + dt.timedelta(seconds=rng.uniform(1, 5 if channel in ("HOTLINE", "WECHAT") else 300))
        case: dict[str, Any] = {
            "id": case_id,
            "case_no": case_no,
            "channel": channel,
            "external_id": ext,
            "kind": msg.kind,
            "status": "RECEIVED",
            "urgency": "URGENT" if rng.random() < 0.03 else "NORMAL",
            "title": msg.title,
            "content": msg.content,
            "category": msg.problem.category,
            "suggested_category": suggested,
            "suggestion_confidence": confidence,
            "address": msg.address,
            "region": STREETS[msg.street][0].removesuffix("街道").removesuffix("镇"),
            "citizen_id": citizen_id,
            "lead": None,
            "merged_into_id": None,
            "received_at": received,
            "dispatched_at": None,
            "claimed_at": None,
            "answered_at": None,
            "closed_at": None,
            "sign_deadline": None,
            "due_at": None,
            "return_deadline": None,
            "overdue": False,
            "satisfaction": None,
            "solved": None,
            "return_count": 0,
            "extension_count": 0,
            "reopen_count": 0,
            "supervised": False,
            "reply_to": reply_to,
            "raw_payload": raw,
            "created_at": submitted,
            "updated_at": submitted,
        }
        life = Life(case)
        if submitted > self.sim.end:
            submitted = self.sim.end
        life.events.append(
            (
                submitted,
                "SUBMITTED",
                (f"connector-{channel.lower()}", "connector", None),
                "RECEIVED",
                "RECEIVED",
                None,
                {
                    "channel": channel,
                    "externalId": ext,
                    "kind": msg.kind,
                    "suggestedCategory": suggested,
                    "confidence": confidence,
                },
            )
        )
        merge_roll, merge_pick = rng.random(), rng.random()
        merge_into = self.recent[int(merge_pick * len(self.recent))] if self.recent and merge_roll < 0.025 else None
        lead, co, wrong = self._lead(rng, msg)
        self.sim.run(rng, life, lead=lead, co=co, wrong=wrong, answer=msg.answer, merge_into=merge_into)
        self._emit(life, rows)
        self.recent.append((case_id, case_no))

    def _emit(self, life: Life, rows: Rows) -> None:
        c, dept = life.case, self.dept
        case_id = c["id"]
        lead = c.pop("lead")
        c["lead_department_id"] = dept[lead] if lead else None
        c["updated_at"] = life.events[-1][0]
        rows["hub_case"].append(c)
        is_open = CaseStatus(c["status"]) in OPEN_STATUSES  # what migration 0008's triggers would write
        rows["case_co_department"].extend(
            {"case_id": case_id, "department_id": dept[code], "case_open": is_open} for code in life.co
        )
        prev = GENESIS
        for seq, (at, action, actor, before, after, note, payload) in enumerate(life.events, start=1):
            fields = {
                "case_id": case_id,
                "seq": seq,
                "action": action,
                "actor_subject": actor[0],
                "actor_role": actor[1],
                "actor_department": actor[2],
                "from_status": before,
                "to_status": after,
                "note": note,
                "payload": payload,
                "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            }
            digest = chain_hash(prev, fields)
            fields.update(id=self.ids.next("case_event"), at=at, prev_hash=prev, hash=digest)
            rows["case_event"].append(fields)
            prev = digest
        for r in life.replies:
            rows["reply"].append(
                {
                    "id": r["id"],
                    "case_id": case_id,
                    "department_id": dept[r["department"]] if r["department"] else None,
                    "author_subject": r["author"],
                    "content": r["content"],
                    "channel": c["channel"],
                    "created_at": r["created_at"],
                    "delivery_status": r["status"],
                    "delivered_at": r["delivered_at"],
                    "idempotency_key": f"b{self.seed}-{r['id']}",
                    "attempts": r["attempts"],
                    "last_error": r["last_error"],
                }
            )
        for side, table in ((life.extensions, "extension_request"), (life.orders, "supervision_order")):
            for row in side:
                code = row.pop("department")
                row.update(case_id=case_id, department_id=dept[code])
                rows[table].append(row)
        for b in life.callbacks:
            rows["callback"].append(
                {
                    "id": b["id"],
                    "case_id": case_id,
                    "recorded_by": b["by"],
                    "satisfaction": b["satisfaction"],
                    "solved": b["solved"],
                    "note": None,
                    "recorded_at": b["at"],
                }
            )


def new_rows() -> Rows:
    """An empty batch of rows per table."""
    return defaultdict(list)
