"""Combinatorial citizen messages for the benchmark district (in the style of hub/demo/texts.py, far more varied)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.problems import PROBLEMS, Problem

# street office code → (town/street name, communities)
STREETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "NH-GC": ("桂城街道", ("平洲夏北社区", "千灯湖社区", "南约社区", "叠滘社区", "东二社区", "海五社区", "石肯社区")),
    "NH-DL": ("大沥镇", ("黄岐泌冲社区", "盐步河东村", "凤池社区", "太平社区", "钟边村", "大镇社区")),
    "NH-SS": ("狮山镇", ("小塘社区", "官窑社区", "罗村社区", "松岗社区", "大圃村", "塘头村")),
    "NH-LS": ("里水镇", ("和顺社区", "里水社区", "大冲村", "沙涌村", "甘蕉村")),
    "NH-JJ": ("九江镇", ("儒林社区", "沙头社区", "烟南村", "河清村", "下西村")),
    "NH-XQ": ("西樵镇", ("官山社区", "百西村", "民乐社区", "上金瓯村", "太平村")),
    "NH-DZ": ("丹灶镇", ("金沙社区", "仙岗村", "西联社区", "罗行社区")),
}
STREET_WEIGHTS = {"NH-GC": 30, "NH-DL": 22, "NH-SS": 20, "NH-LS": 10, "NH-JJ": 7, "NH-XQ": 6, "NH-DZ": 5}
ESTATES = tuple(
    a + b
    for a in (
        "锦绣",
        "碧水",
        "怡翠",
        "金域",
        "海逸",
        "万科",
        "新城",
        "南湖",
        "保利",
        "中海",
        "时代",
        "雅居乐",
        "招商",
        "星汇",
    )
    for b in ("花园", "华庭", "豪庭", "雅苑", "家园", "悦府", "山庄", "名苑", "广场", "公馆")
)
ROADS = (
    "海八路",
    "南海大道",
    "桂澜路",
    "灯湖东路",
    "广佛路",
    "黄岐大道",
    "盐步大道",
    "南桂东路",
    "佛平路",
    "桂和路",
    "南海大道北",
    "狮山大道",
    "博爱路",
    "里和路",
    "九江大道",
    "樵金路",
    "丹灶大道",
    "广云路",
    "环镇路",
    "季华路",
)
SHOPS = ("烧烤店", "大排档", "快餐店", "火锅店", "粥粉面店", "茶餐厅", "烤鱼店", "夜宵档", "烧腊店")
TIMES = ("每天晚上", "最近半个月", "这几天", "连续一周", "每逢周末", "近两个月以来", "从上个月开始", "每天早上六点多")
IMPACTS = (
    "严重影响附近居民的正常生活",
    "老人小孩都睡不好觉",
    "已经影响到我们的身体健康",
    "周边住户意见很大",
    "存在较大的安全隐患",
    "给出行带来很大不便",
    "大家都很苦恼",
)
TRIED = (
    "已经多次找过物业和社区，但问题一直没有解决。",
    "之前打过电话反映，至今没有人处理。",
    "和当事人沟通过，对方置之不理。",
    "社区工作人员来看过一次，之后就没有下文了。",
    "",
)
ASKS = (
    "请相关部门尽快处理。",
    "恳请政府部门督促整改。",
    "希望有关部门能够重视，早日解决。",
    "请派人到现场核实并依法处理。",
    "麻烦尽快给予答复。",
)
REPLY_OPENERS = ("您好，您反映的问题已收悉。", "来电人您好：", "网友您好！", "感谢您对我区工作的关心和支持。")
REPLY_CLOSERS = ("感谢您的监督。", "如有疑问，可拨打12345热线咨询。", "我们将持续跟进。", "")


@dataclass(frozen=True)
class Message:
    """One citizen message: its problem, texts, place and the answer a department would give."""

    problem: Problem
    kind: str
    title: str
    content: str
    answer: str
    street: str  # street office code of the place
    address: str


def pick_street(rng: random.Random) -> str:
    """A street office code, weighted by population."""
    return rng.choices(tuple(STREET_WEIGHTS), weights=tuple(STREET_WEIGHTS.values()))[0]


_WEIGHTS = tuple(p.weight for p in PROBLEMS)


def make_message(rng: random.Random) -> Message:
    """A message on a weighted random problem at a random place."""
    problem = rng.choices(PROBLEMS, weights=_WEIGHTS)[0]
    street = pick_street(rng)
    town, communities = STREETS[street]
    community, estate = rng.choice(communities), rng.choice(ESTATES)
    road, road2 = rng.sample(ROADS, 2)
    fields = {
        "place": town + community,
        "community": community,
        "estate": estate,
        "road": road,
        "road2": road2,
        "shop": rng.choice(SHOPS),
        "time": rng.choice(TIMES),
    }
    body = rng.choice(problem.bodies).format(**fields)
    if not body.endswith(("？", "。")):
        body += rng.choice(IMPACTS) + "，" + rng.choice(TRIED) + rng.choice(ASKS)
    answer = rng.choice(REPLY_OPENERS) + rng.choice(problem.answers) + rng.choice(REPLY_CLOSERS)
    kind = problem.kinds[0] if len(problem.kinds) == 1 or rng.random() < 0.75 else rng.choice(problem.kinds[1:])
    return Message(
        problem,
        kind,
        rng.choice(problem.titles).format(**fields),
        body,
        answer,
        street,
        f"{town}{community}{estate if rng.random() < 0.5 else road}",
    )


SURNAMES = "陈李黄梁何张王林吴刘罗冯邓谭麦区关潘郭周叶杨"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲志文辉"


def citizen_name(rng: random.Random) -> str:
    """A citizen as a channel records them: often only surname + title, sometimes a full name."""
    if rng.random() < 0.6:
        return rng.choice(SURNAMES) + rng.choice(("女士", "先生"))
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


_PHONE_PREFIXES = ("138", "139", "135", "136", "137", "150", "186", "189", "131", "177")


def phone_for(citizen_id: int, salt: int) -> str:
    """A synthetic mobile number, unique per citizen id (a bijection on the last eight digits)."""
    digits = (citizen_id * 7_919 + salt) % 10**8
    return _PHONE_PREFIXES[(citizen_id + salt) % len(_PHONE_PREFIXES)] + f"{digits:08d}"
