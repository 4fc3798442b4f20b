"""Filling the demo district with realistic cases on all four channels, each with a consistent trail."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import Principal, Role
from connectors.base import CaseDraft, CitizenDraft
from hub.cases import followup
from hub.cases import service as workflow
from hub.cases.intake import submit_case
from hub.cases.models import Case
from hub.clock import FrozenClock, set_clock, utcnow
from hub.context import ServiceContext
from hub.demo.district import seed_district
from hub.demo.texts import DemoMessage, citizen_name, make_message, phone_number
from hub.enums import CaseStatus, Satisfaction
from hub.settings import Settings

CHANNEL_WEIGHTS = (("HOTLINE", 45), ("WEBSITE", 20), ("WEIBO", 15), ("WECHAT", 20))
DISPATCHER = Principal("dispatcher", frozenset({Role.DISPATCHER}), "NH-DC")
SUPERVISOR = Principal("supervisor", frozenset({Role.SUPERVISOR}))
CONNECTOR = Principal("connector-demo", frozenset({Role.CONNECTOR}), client_id="demo")


@dataclass
class DemoSummary:
    """What the demo made."""

    cases: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)


def _draft(rng: random.Random, message: DemoMessage, channel: str, seq: int, at: dt.datetime) -> CaseDraft:
    """A draft shaped as its channel delivers it (ids, reply targets, raw payload)."""
    name, phone = citizen_name(rng), phone_number(rng)
    local = at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    if channel == "HOTLINE":
        ext = f"GD{local:%Y%m%d}{seq:06d}"
        raw: dict[str, object] | str = {
            "orderNum": ext,
            "callTime": f"{local:%Y-%m-%d %H:%M:%S}",
            "callerName": name,
            "callerPhone": phone,
            "title": message.title,
            "majorContent": message.content,
        }
        citizen = CitizenDraft(name=name, phone=phone)
        reply_to = {"orderNum": ext}
    elif channel == "WEBSITE":
        ext = str(300000 + seq)
        raw = {
            "留言编号": ext,
            "留言用户": f"A{rng.randrange(10**8):08d}",
            "留言主题": message.title,
            "留言时间": f"{local:%Y/%m/%d %H:%M:%S}",
            "留言详情": message.content,
        }
        citizen = CitizenDraft(name=name, phone=phone if rng.random() < 0.5 else None, account_id=str(raw["留言用户"]))
        reply_to = {"messageId": ext}
    elif channel == "WEIBO":
        ext = str(4_900_000_000_000_000 + seq)
        uid = str(rng.randrange(10**9, 10**10))
        raw = {"idstr": ext, "text": f"@南海发布 {message.title}。{message.content}", "user": {"idstr": uid}}
        citizen = CitizenDraft(name=None, account_id=uid)
        reply_to = {"statusId": ext, "uid": uid}
    else:
        ext = str(23_000_000_000_000_000 + seq)
        openid = "oDemo" + "".join(rng.choice("abcdefghijkLMNOPQ0123456789_-") for _ in range(23))
        raw = (
            f"<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(at.timestamp())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{message.title}。{message.content}]]></Content><MsgId>{ext}</MsgId></xml>"
        )
        citizen = CitizenDraft(name=None, phone=phone if rng.random() < 0.3 else None, account_id=openid)
        reply_to = {"openid": openid}
    return CaseDraft(
        channel=channel,
        external_id=ext,
        title=message.title,
        content=message.content,
        received_at=at,
        citizen=citizen,
        kind=message.topic.kind,
        region=message.region,
        reply_to=reply_to,
        raw=raw,
    )


def _target_status(rng: random.Random, age_days: float) -> CaseStatus:
    """Older cases are further along; a few stay open late, as in real life."""
    roll = rng.random()
    if age_days < 2:
        return rng.choice((CaseStatus.RECEIVED, CaseStatus.DISPATCHED, CaseStatus.CLAIMED))
    if age_days < 10:
        return (
            CaseStatus.DISPATCHED
            if roll < 0.1
            else CaseStatus.CLAIMED
            if roll < 0.45
            else CaseStatus.ANSWERED
            if roll < 0.75
            else CaseStatus.CLOSED
        )
    return CaseStatus.CLAIMED if roll < 0.08 else CaseStatus.ANSWERED if roll < 0.18 else CaseStatus.CLOSED


async def seed_demo(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    cases: int = 240,
    days: int = 60,
    seed: int = 20261128,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Create the district and `cases` cases received over the last `days` days, driven through the workflow."""
    rng = random.Random(seed)
    end = utcnow()
    clock = FrozenClock(end)

    def ctx_for(session: AsyncSession, actor: Principal) -> ServiceContext:
        return ServiceContext(session, actor, settings)

    async with sessions() as session, session.begin():
        codes = {d.id: code for code, d in (await seed_district(ctx_for(session, DISPATCHER))).items()}
    moments = sorted(end - dt.timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(cases))
    summary = DemoSummary()
    set_clock(clock)
    try:
        primaries: list[Case] = []
        for seq, moment in enumerate(moments, start=1):
            clock.set(moment)
            channel = rng.choices([c for c, _ in CHANNEL_WEIGHTS], [w for _, w in CHANNEL_WEIGHTS])[0]
            message = make_message(rng)
            async with sessions() as session, session.begin():
                result = await submit_case(
                    ctx_for(session, CONNECTOR), draft=_draft(rng, message, channel, seq, moment)
                )
            case = result.case
            age = (end - moment).total_seconds() / 86400
            if primaries and rng.random() < 0.04 and case.status is CaseStatus.RECEIVED:
                async with sessions() as session, session.begin():
                    await workflow.merge_cases(
                        ctx_for(session, DISPATCHER),
                        primary_id=rng.choice(primaries).id,
                        duplicate_ids=[case.id],
                        note="同一事项多渠道反映，并案处理",
                    )
                status = CaseStatus.MERGED
            else:
                lead = codes.get(case.lead_department_id or 0)
                status = await _progress(
                    sessions, ctx_for, rng, case, lead, message, _target_status(rng, age), clock, end
                )
                if status in (CaseStatus.DISPATCHED, CaseStatus.CLAIMED):
                    primaries.append(case)
            summary.cases += 1
            summary.by_channel[channel] += 1
            summary.by_status[status.value] += 1
            if progress:
                progress(seq, cases)
    finally:
        set_clock(None)
    return summary


async def _progress(
    sessions: async_sessionmaker[AsyncSession],
    ctx_for: Callable[[AsyncSession, Principal], ServiceContext],
    rng: random.Random,
    case: Case,
    lead: str | None,
    message: DemoMessage,
    target: CaseStatus,
    clock: FrozenClock,
    end: dt.datetime,
) -> CaseStatus:
    """Walk one case toward its target status, advancing the clock a plausible time per step."""
    order = [CaseStatus.RECEIVED, CaseStatus.DISPATCHED, CaseStatus.CLAIMED, CaseStatus.ANSWERED, CaseStatus.CLOSED]
    status = case.status

    def step(hours: float) -> bool:
        moment = clock.current + dt.timedelta(hours=hours * rng.uniform(0.5, 1.5))
        if moment >= end:
            return False
        clock.set(moment)
        return True

    while order.index(status) < order.index(target):
        async with sessions() as session, session.begin():
            if status is CaseStatus.RECEIVED:
                if not step(1):
                    break
                if message.topic.kind == "CONSULTATION" and rng.random() < 0.4:
                    await workflow.answer_case(ctx_for(session, DISPATCHER), case_id=case.id, content=message.answer)
                    status = CaseStatus.ANSWERED
                    continue
                lead = _lead_for(message)
                await workflow.dispatch_case(ctx_for(session, DISPATCHER), case_id=case.id, lead_department=lead)
                status = CaseStatus.DISPATCHED
            elif status is CaseStatus.DISPATCHED:
                if not step(5):
                    break
                await workflow.claim_case(ctx_for(session, _handler_of(lead)), case_id=case.id)
                status = CaseStatus.CLAIMED
            elif status is CaseStatus.CLAIMED:
                if not step(40):
                    break
                actor = _handler_of(lead)
                if rng.random() < 0.08:
                    request = await followup.request_extension(
                        ctx_for(session, actor), case_id=case.id, working_days=5, reason="需协调多个部门现场核查"
                    )
                    await followup.decide_extension(
                        ctx_for(session, DISPATCHER), extension_id=request.id, approve=True, note="同意延期"
                    )
                if rng.random() < 0.05:
                    await followup.supervise_case(
                        ctx_for(session, SUPERVISOR), case_id=case.id, note="群众反映强烈，请加快办理"
                    )
                await workflow.answer_case(ctx_for(session, actor), case_id=case.id, content=message.answer)
                status = CaseStatus.ANSWERED
            else:
                if not step(24):
                    break
                satisfaction = rng.choices(list(Satisfaction), [70, 20, 10])[0]
                if satisfaction is Satisfaction.DISSATISFIED:
                    satisfaction = Satisfaction.BASICALLY_SATISFIED
                await followup.record_callback(
                    ctx_for(session, DISPATCHER), case_id=case.id, satisfaction=satisfaction, solved=rng.random() < 0.9
                )
                status = CaseStatus.CLOSED
    return status


_LEADS = {
    "城乡建设": "NH-ZJ",
    "环境保护": "NH-HB",
    "交通运输": "NH-JT",
    "教育文体": "NH-JY",
    "劳动和社会保障": "NH-RS",
    "商贸旅游": "NH-SC",
    "卫生计生": "NH-WJ",
}


def _lead_for(message: DemoMessage) -> str:
    return _LEADS.get(message.topic.category, "NH-GC" if message.region == "桂城" else "NH-DL")


def _handler_of(lead: str | None) -> Principal:
    """The demo handler of the lead department."""
    code = lead or "NH-X"
    return Principal(f"handler-{code.split('-')[-1].lower()}", frozenset({Role.HANDLER}), code)
