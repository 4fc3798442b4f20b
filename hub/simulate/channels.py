"""The four fake channels as one set: started together, wired into the hub's settings, fed citizen messages in
each channel's own wire format, and timed when the hub's answers reach them."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from connectors.fakes import FakeChannel, FakeHotline, FakeWebsite, FakeWeChat, FakeWeibo, Fault
from connectors.fakes.wechat import message_xml
from hub.cases.models import Case
from hub.demo.texts import DemoMessage, citizen_name, phone_number
from hub.settings import Settings

CHANNELS = ("hotline", "website", "weibo", "wechat")
PULL_CHANNELS = ("hotline", "website", "weibo")
CASE_NO = re.compile(r"【([A-Z]{2}\d{14})】")  # how our answers quote the case number


class Timed(FakeChannel):
    """A fake that notes when each answer arrived (monotonic clock) and how many faults it served."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self.faults_served = 0

    def record_reply(self, reply: dict[str, Any]) -> None:
        """Keep the answer and the moment it arrived."""
        with self.lock:
            super().record_reply(reply)
            self.arrivals.append((time.perf_counter(), dict(reply)))

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """Count the fault, then answer as the channel does."""
        with self.lock:
            self.faults_served += 1
        return super().render_fault(fault, request)


class TimedHotline(Timed, FakeHotline):
    """The fake 12345 platform, timed."""


class TimedWebsite(Timed, FakeWebsite):
    """The fake message board, timed."""


class TimedWeibo(Timed, FakeWeibo):
    """The fake Weibo account, timed."""


class TimedWeChat(Timed, FakeWeChat):
    """The fake WeChat official account, timed."""


def reply_text(channel: str, reply: dict[str, Any]) -> str:
    """The answer's text in a reply as the channel recorded it."""
    if channel == "hotline":
        return str(reply.get("replyContent", ""))
    if channel == "wechat":
        return str((reply.get("text") or {}).get("content", ""))
    return str(reply.get("content") if channel == "website" else reply.get("comment", ""))


class FakeSet:
    """The four fakes; ``clock`` makes them follow another clock (the demo's frozen history)."""

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.hotline = TimedHotline(clock=clock)
        self.website = TimedWebsite(clock=clock)
        self.weibo = TimedWeibo(clock=clock)
        self.wechat = TimedWeChat(clock=clock)
        self._msg_ids = itertools.count(24591738402315786)
        self._guard = threading.Lock()

    def __iter__(self) -> Iterator[tuple[str, Timed]]:
        return iter(zip(CHANNELS, (self.hotline, self.website, self.weibo, self.wechat), strict=True))

    def get(self, channel: str) -> Timed:
        """The fake of a channel name."""
        return dict(self)[channel]

    def start(self) -> FakeSet:
        """Serve every fake on 127.0.0.1 (ephemeral ports)."""
        for _name, fake in self:
            fake.start()
        return self

    def stop(self) -> None:
        """Stop every fake."""
        for _name, fake in self:
            fake.stop()

    def urls(self) -> dict[str, str]:
        """Base URL per channel."""
        return {name: fake.base_url for name, fake in self}

    def wire(self, settings: Settings) -> Settings:
        """The settings with each fake's base URL and credentials, as HUB_<CHANNEL>_* would give them."""
        h, s, b, c = self.hotline, self.website, self.weibo, self.wechat
        # the fakes live in this process, so its jobs must too: a worker elsewhere on Redis could not reach them
        return settings.model_copy(update={
            "redis_url": None,
            "hotline_api_base": h.base_url, "hotline_secret": h.secret,
            "website_api_base": s.base_url, "website_api_key": s.api_key,
            "weibo_api_base": b.base_url, "weibo_access_token": b.access_token, "weibo_app_key": b.app_key,
            "weibo_app_secret": b.app_secret,
            "wechat_api_base": c.base_url, "wechat_appid": c.appid, "wechat_appsecret": c.appsecret,
            "wechat_token": c.token, "wechat_aes_key": c.encoding_aes_key,
        })

    async def continue_ids(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Number new messages above every id the database already holds."""
        # an earlier run's fakes started at the same numbers, and the hub would rightly take a reused id for a
        # redelivery of the old message
        async with sessions() as session:
            rows = (await session.execute(select(Case.channel, Case.external_id))).all()
        top: dict[str, int] = {}
        for channel, external_id in rows:
            digits = re.search(r"(\d+)$", external_id)
            if digits is None:
                continue
            text = digits.group(1)
            key = str(channel)
            if key == "HOTLINE" and external_id.startswith("GD") and len(text) > 8:
                text = text[8:]  # GD + yyyymmdd + sequence
            top[key] = max(top.get(key, 0), int(text))
        # the fakes have no public knob for their first id: set their counters (checked by the simulate test)
        with self.hotline.lock:
            self.hotline._sequence = itertools.count(top.get("HOTLINE", 0) + 1)
        with self.website.lock:
            self.website._next_tid = max(self.website._next_tid, top.get("WEBSITE", 0))
        with self.weibo.lock:
            self.weibo._last_id = max(self.weibo._last_id, top.get("WEIBO", 0))
        with self._guard:
            self._msg_ids = itertools.count(max(next(self._msg_ids), top.get("WECHAT", 0) + 1))

    def next_msg_id(self) -> int:
        """A fresh WeChat MsgId."""
        with self._guard:
            return next(self._msg_ids)

    def faults_served(self) -> int:
        """Faults served by all four fakes."""
        return sum(fake.faults_served for _name, fake in self)


@dataclass(frozen=True)
class Citizen:
    """One person and their identity on each channel."""

    name: str
    phone: str
    nick: str
    weibo_uid: str
    weibo_name: str
    openid: str


_OPENID = string.ascii_letters + string.digits + "_-"


def new_citizen(rng: random.Random) -> Citizen:
    """A synthetic citizen."""
    uid = str(rng.randrange(5_000_000_000, 7_999_999_999))
    return Citizen(
        name=citizen_name(rng),
        phone=phone_number(rng),
        nick=f"网友{rng.randrange(16**6):06x}",
        weibo_uid=uid,
        weibo_name=rng.choice(("南海", "佛山", "桂城", "大沥")) + rng.choice(("小市民", "街坊", "居民")) + uid[-4:],
        openid="o" + "".join(rng.choice(_OPENID) for _ in range(27)),
    )


@dataclass(frozen=True)
class Posted:
    """A message a citizen wrote on a channel: the id the hub will store it under, and the payload itself."""

    channel: str
    external_id: str
    payload: dict[str, Any] | str
    message: DemoMessage
    citizen: Citizen
    at: dt.datetime  # when the citizen wrote it (the hub's clock)
    sent_wall: float  # time.time() when it reached the channel
    sent_at: float  # time.perf_counter() when it reached the channel


def post(fakes: FakeSet, channel: str, message: DemoMessage, citizen: Citizen, rng: random.Random, *,
         at: dt.datetime | None = None) -> Posted:
    """Write ``message`` on the channel's fake in its wire format (``at``: when, default now)."""
    payload: dict[str, Any] | str
    written = at or dt.datetime.now(dt.UTC)
    if channel == "hotline":
        # a work order is registered when the call ends; its callTime is when the call began
        start = at or written - dt.timedelta(seconds=rng.uniform(6, 60))
        payload = fakes.hotline.post_message(
            message.content, title=message.title, caller_name=citizen.name, caller_phone=citizen.phone,
            caller_type=message.kind_label, urgency="紧急" if message.issue.urgent else "一般",
            address=message.issue.address, question_name=message.topic.category if rng.random() < 0.7 else None,
            call_time=start, areaName=message.region)
        external_id = str(payload["orderNum"])
    elif channel == "website":
        payload = fakes.website.post_message(
            message.content, title=message.title, nick_name=citizen.nick, type_name=message.kind_label,
            domain_name=message.topic.category if rng.random() < 0.6 else None, created_at=at)
        external_id = str(payload["tid"])
    elif channel == "weibo":
        if rng.random() < 0.35:
            payload = fakes.weibo.post_comment(message.content, status_id=max(fakes.weibo.own_statuses),
                                               uid=citizen.weibo_uid, screen_name=citizen.weibo_name)
            external_id = f"comment:{payload['idstr']}"
        else:
            payload = fakes.weibo.post_message(message.content, uid=citizen.weibo_uid,
                                               screen_name=citizen.weibo_name, created_at=at)
            external_id = f"status:{payload['idstr']}"
    else:
        msg_id = fakes.next_msg_id()
        if rng.random() < 0.15:  # a voice message: WeChat sends its speech recognition along
            fakes.wechat.note_interaction(citizen.openid, written)
            payload = message_xml({"ToUserName": fakes.wechat.account, "FromUserName": citizen.openid,
                                   "CreateTime": int(written.timestamp()), "MsgType": "voice",
                                   "MediaId": f"media_{msg_id}", "Format": "amr",
                                   "Recognition": message.content, "MsgId": msg_id})
        else:
            payload = fakes.wechat.post_message(message.content, openid=citizen.openid, create_time=at, msg_id=msg_id)
        external_id = str(msg_id)
    return Posted(channel, external_id, payload, message, citizen, written, time.time(), time.perf_counter())
