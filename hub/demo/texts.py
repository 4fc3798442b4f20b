"""Citizen messages in each channel's own voice: an operator's note on the hotline, a formal letter on the board,
a short post on Weibo, a chat line on WeChat; the same issue reported again elsewhere; a citizen writing again."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from hub.demo.topics import ESTATES, MARKETS, PLACES, ROADS, SCHOOLS, SHOPS, TIMES, TOPICS, Topic

KIND_LABELS = {"CONSULTATION": "咨询", "HELP": "求助", "COMPLAINT": "投诉", "REPORT": "举报", "SUGGESTION": "建议",
               "PRAISE": "表扬", "OTHER": "其他"}
_IMPACTS = ("严重影响附近居民的正常生活。", "老人小孩都休息不好。", "周边住户意见很大。", "存在较大的安全隐患。",
            "给出行带来很大不便。", "")
_TRIED = ("已经找过物业和社区，问题一直没有解决。", "之前反映过，至今没有人处理。",
          "社区来看过一次，之后就没有下文了。", "", "")
_ASKS = ("请相关部门尽快处理。", "恳请督促整改。", "希望有关部门重视，早日解决。", "请派人到现场核实处理。",
         "麻烦尽快给予答复，谢谢！")
_LETTER_OPENERS = ("尊敬的领导：您好！", "领导您好，", "您好！我是{region}的一名居民，", "尊敬的区领导：")
_CHAT_OPENERS = ("你好，", "您好，", "想反映个问题：", "请问一下，", "")
_REPEAT_OPENERS = ("{title}的问题不止一个人反映了，", "我也要反映：", "同样的问题还没解决，", "大家都在说这个事：",
                   "看到有人反映{title}，确实如此，")
_AGAIN = ("我在{date}反映过“{title}”的问题，到现在还没有解决，请尽快处理并答复。",
          "补充一下{date}反映的“{title}”：情况越来越严重了，请加快处理。",
          "{date}反映的“{title}”一直没人联系我，请问处理到哪一步了？")
_REPLY_OPENERS = ("您好，", "感谢您的反映。", "市民您好：", "网友您好！")
_REPLY_CLOSERS = ("感谢您的监督。", "如有疑问可拨打12345。", "")


@dataclass(frozen=True)
class Issue:
    """A problem at one place: the same issue can be reported by several citizens on several channels."""

    topic: Topic
    fields: dict[str, str] = field(hash=False, compare=False)
    region: str
    urgent: bool = False

    @property
    def title(self) -> str:
        """The issue's headline."""
        return self.topic.title.format(**self.fields)

    @property
    def address(self) -> str:
        """Where it happens."""
        return self.fields["place"] + (self.fields["estate"] if "{estate}" in self.topic.body else "")


@dataclass(frozen=True)
class DemoMessage:
    """One citizen message on one channel, and the answer a department would give."""

    issue: Issue
    title: str
    content: str
    follow_up: bool = False

    @property
    def topic(self) -> Topic:
        """The problem's topic."""
        return self.issue.topic

    @property
    def region(self) -> str:
        """The street office's region (桂城 or 大沥)."""
        return self.issue.region

    @property
    def kind_label(self) -> str:
        """The request kind as channels label it (咨询, 投诉 …)."""
        return KIND_LABELS[self.topic.kind]

    @property
    def answer(self) -> str:
        """The department's answer to this issue."""
        return self.topic.answer.format(**self.issue.fields)


def new_issue(rng: random.Random) -> Issue:
    """A problem on a random topic at a random place."""
    topic = rng.choice(TOPICS)
    place, region = rng.choice(PLACES)
    road, road2 = rng.sample(ROADS, 2)
    fields = {"place": place, "estate": rng.choice(ESTATES), "road": road, "road2": road2,
              "shop": rng.choice(SHOPS), "school": rng.choice(SCHOOLS), "market": rng.choice(MARKETS),
              "time": rng.choice(TIMES)}
    return Issue(topic, fields, region, urgent=rng.random() < topic.urgent_share)


def _body(rng: random.Random, issue: Issue) -> str:
    body = issue.topic.body.format(**issue.fields)
    if issue.topic.kind in ("COMPLAINT", "REPORT", "HELP", "OTHER"):
        body += rng.choice(_IMPACTS) + rng.choice(_TRIED) + rng.choice(_ASKS)
    return body


def compose(rng: random.Random, issue: Issue, channel: str, *, repeat: bool = False) -> DemoMessage:
    """The issue as a citizen writes it on ``channel`` (hotline, website, weibo, wechat); ``repeat``: not the first."""
    body = _body(rng, issue)
    title = issue.title
    if repeat:
        body = rng.choice(_REPEAT_OPENERS).format(title=title) + body
    if channel == "hotline":
        content = f"市民来电反映：{body}"
    elif channel == "website":
        content = rng.choice(_LETTER_OPENERS).format(region=issue.region) + body
    elif channel == "weibo":
        content = f"#南海12345# {body[:110]}"
        title = title[:30]
    else:
        content = rng.choice(_CHAT_OPENERS) + body
    return DemoMessage(issue, title, content)


def compose_again(rng: random.Random, first: DemoMessage, when: dt.datetime, channel: str) -> DemoMessage:
    """The same citizen writing again about an issue they reported on ``when``."""
    local = when.astimezone(dt.timezone(dt.timedelta(hours=8)))
    text = rng.choice(_AGAIN).format(date=f"{local.month}月{local.day}日", title=first.issue.title)
    content = f"市民再次来电：{text}" if channel == "hotline" else text
    return DemoMessage(first.issue, f"催办：{first.issue.title}"[:40], content, follow_up=True)


def make_message(rng: random.Random, channel: str = "hotline") -> DemoMessage:
    """A first report of a new issue."""
    return compose(rng, new_issue(rng), channel)


def answer_text(rng: random.Random, message: DemoMessage, case_no: str | None = None) -> str:
    """The department's answer, quoting the case number when given (short enough for one Weibo comment)."""
    head = f"【{case_no}】" if case_no else ""
    if message.follow_up:
        return f"{head}{rng.choice(_REPLY_OPENERS)}您催办的事项已转承办部门加快办理，办理结果将另行答复。"
    return f"{head}{rng.choice(_REPLY_OPENERS)}{message.answer}{rng.choice(_REPLY_CLOSERS)}"


SURNAMES = "陈李黄梁何张王林吴刘罗冯邓谭麦区关潘郭周叶杨"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲志文辉"


def citizen_name(rng: random.Random) -> str:
    """A citizen as a 12345 operator records them: often surname + title, sometimes a full name."""
    if rng.random() < 0.6:
        return rng.choice(SURNAMES) + rng.choice(("女士", "先生"))
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def phone_number(rng: random.Random) -> str:
    """A synthetic mobile number."""
    return rng.choice(("138", "139", "135", "136", "137", "150", "186", "189")) + f"{rng.randrange(10**8):08d}"
