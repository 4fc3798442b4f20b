"""Place names in a citizen's message: estates, roads, villages, firms, towns, found by their Chinese suffixes.

No gazetteer: a place is the two to four characters of whole words before a suffix such as 花园/小区/路/大道/村/
社区/厂/镇, cut at function words and at words jieba tags as verbs, pronouns or time words (我家住在…, 位于…,
为什么医院…), and kept only if a word in it names something (a proper noun or a word the board's citizens rarely
use), so 人寿保险公司 or 职业学校 are kinds of places, not places. Two messages share a place when a name of one
begins, ends or equals the name of the other in the same kind of place, or when one message's estate/village name
appears bare in the other (平洲夏北社区 … 夏北那边). Building numbers (3栋) tell two blocks of one estate apart.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from hub.duplicates.text import word_idf
from hub.routing.suggester import default_suggester


class PlaceKind(enum.StrEnum):
    """How specific a kind of place is; the weight says how much a shared one tells."""

    ESTATE = "estate"  # 小区, 花园, 大厦 …
    UNIT = "unit"  # a firm, shop, school or hospital
    ROAD = "road"
    COMMUNITY = "community"  # 社区, 村, 片区, 市场, 公园
    TOWN = "town"  # 街道, 镇: a whole sub-district


WEIGHT: dict[PlaceKind, float] = {
    PlaceKind.ESTATE: 1.0,
    PlaceKind.UNIT: 1.0,
    PlaceKind.ROAD: 0.8,
    PlaceKind.COMMUNITY: 0.75,
    PlaceKind.TOWN: 0.15,
}
# Both messages name a place of this kind and none is shared: they are probably about different places.
CONFLICTING = frozenset({PlaceKind.ESTATE, PlaceKind.UNIT, PlaceKind.COMMUNITY, PlaceKind.TOWN})
# A bare name (夏北, 锦绣) found in the other message counts for these kinds.
BARE_OK = frozenset({PlaceKind.ESTATE, PlaceKind.UNIT, PlaceKind.COMMUNITY, PlaceKind.ROAD})

# Suffixes of each kind; "路!面灯" means 路 not followed by 面 or 灯 (路面, 路灯 are not roads).
_SUFFIX_SPEC: dict[PlaceKind, str] = {
    PlaceKind.ESTATE: "花园 小区 家园 山庄 华庭 豪庭 雅苑 花苑 名苑 公寓 大厦 广场!舞 公馆 名都 华府 新城 星城 "
    "商城 绿洲 苑 庭!院审 湾!区 府",
    PlaceKind.UNIT: "实验学校 实验中学 实验小学 有限公司 公司 卫生服务站 卫生院 医院 诊所 幼儿园 小学!生 中学!生 学校 "
    "超市 酒楼 饭店 餐馆 餐厅 商场 地铁站 停车场 公交站 加油站 厂!家房区长商 店!家主员铺面",
    PlaceKind.ROAD: "大道 大街 公路 大桥 隧道 路!面灯段边况线过人费由径途基牌网演子旁 街!道坊头边面区 巷",
    PlaceKind.COMMUNITY: "社区 村委会 居委会 新村 村!民委里口道庄落镇级组干 片区 工业区 工业园 开发区 农贸市场 "
    "市场!监价化主经 公园 码头 风景区 景区 古村",
    PlaceKind.TOWN: "街道!办 镇!长政级上",
}


def _suffix_table() -> list[tuple[str, PlaceKind, str]]:
    table: list[tuple[str, PlaceKind, str]] = []
    for kind, spec in _SUFFIX_SPEC.items():
        for item in spec.split():
            suffix, _, not_followed = item.partition("!")
            table.append((suffix, kind, not_followed))
    return sorted(table, key=lambda t: -len(t[0]))  # longest first: 有限公司 before 公司, 村委会 before 村


_SUFFIXES = _suffix_table()
_PATTERN = re.compile(
    "|".join(
        f"(?P<s{i}>{'(?<!政)' if s == '府' else ''}{re.escape(s)}{f'(?![{re.escape(nf)}])' if nf else ''})"
        for i, (s, _kind, nf) in enumerate(_SUFFIXES)
    )
)
_KIND_OF = {f"s{i}": (s, k) for i, (s, k, _nf) in enumerate(_SUFFIXES)}

# Characters that end a place name when walking back from its suffix (反映的…, 我们…, 这个…).
STOP_CHARS = frozenset("的是了为我你他她它们这那被把给让请问说每各某该其很经已等个条段些处位项次种读找买看叫用做")
# Function words that end a name when jieba leaves them standing alone (住在锦绣…, 和碧水湾…), but not inside a
# word (和顺大道, 在水一方大厦, 太平社区).
FUNCTION_SINGLES = frozenset("在住于和与及到从往向对有就都也还又本去来近")
# A character before a suffix that makes an ordinary word rather than a place (马路, 农村, 工厂, 家庭 …).
COMMON_WORDS = frozenset(
    "马路 道路 线路 铁路 走路 修路 出路 电路 水路 一路 上路 过路 小路 山路 网路 思路 套路 让路 带路 绕路 问路 拦路 "
    "进路 堵路 挖路 封路 烂路 新路 老路 大路 土路 上街 逛街 临街 沿街 满街 整街 农村 乡村 本村 全村 该村 进村 出村 "
    "回村 邻村 各村 城镇 乡镇 本镇 全镇 小镇 各镇 村镇 工厂 该厂 本厂 这厂 进厂 回厂 出厂 建厂 办厂 全厂 商店 门店 "
    "开店 进店 本店 该店 分店 总店 小店 网店 家庭 法庭 开庭 台湾 港湾 海湾 学府 王府 官府 首府 菜市场".split()
)
# Names that are ordinary words, not places (附近小区, 老旧小区, 物业公司, 农村 …).
GENERIC = frozenset(
    "附近 周边 周围 旁边 对面 隔壁 门口 这个 那个 一个 整个 各个 多个 所在 居住 住宅 商品 新建 老旧 高档 "
    "我们 你们 他们 本地 当地 同一 其他 其它 全市 全区 本区 这里 那里 哪里 物业 有限 一家 这家 那家 农 乡 本 "
    "全 该 进 出 回 城中 道 马 线 铁 走 修 电 水 一 上 过 小 山 网 思 套 让 带 绕 城 乡 小吃 便利 五金 工 "
    "房地产 开发 建筑 施工 保安 快递 外卖 培训 网约 地产 科技 发展 管理 服务 市政 人民 区 市 县 孩子 老人 业主 "
    "居民 市民 投诉 反映 举报 关于 请问 咨询 建议 希望 国际 中小学 中小学校 中心 公办 民营 附属 职工 代课 工程 "
    "建设 乡镇 员工 附近村 附近的 楼下 楼上 隔壁的 小区 社区 公立 私立 民办 实验 大型 小型 一所 一间 这所 那所".split()
)
# Part-of-speech tags (jieba's dictionary) of words that cannot end a place name: verbs, pronouns, conjunctions,
# adverbs, time and position words (为什么医院, 当时公司, 合同要求公司, 附近小区 …). Only words of two characters
# and more are trusted: jieba does not know local names (叠滘, 泌冲) and tags their characters at random.
_NOT_NAME_TAGS = frozenset("v vd vn c d p r t u uj ul uz ud ug uv y e o q m f l".split())
# A name needs a word that names something: a proper noun, a word jieba does not know (most local names), a single
# character of a local name, an idiom (在水一方) — or, for estates, whose names are poetic, a word citizens rarely
# use otherwise (锦绣, 翡翠). 人寿保险公司, 职业学校 and 行政村 name kinds of places, not places.
_PROPER_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz", "i", "j"})
_RARE_IDF = 6.3  # seen in at most two messages of the board
_COMMON_IDF = 5.5  # seen in about four messages or more
_COMMON_SINGLES = frozenset("家大小中老新上下前后内外里边头多少高低好坏一二三四五六七八九十个们着过地得所之")
_ADMIN_CHARS = "省市县区镇乡"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_BUILDING = re.compile(r"([0-9]{1,3}|[一二三四五六七八九十]{1,3})(?:号楼|栋|座|幢)")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九", start=0)}


@dataclass(frozen=True)
class Place:
    """One place named in a text: the name before the suffix, the suffix, and its kind."""

    name: str
    suffix: str
    kind: PlaceKind

    @property
    def full(self) -> str:
        """The name with its suffix (锦绣花园)."""
        return self.name + self.suffix

    def endings(self) -> tuple[str, ...]:
        """The name's tails of two characters and more, longest first (万科金色 → 万科金色, 科金色, 金色)."""
        return tuple(self.name[-k:] for k in range(len(self.name), 1, -1) if self.name[-k:] not in GENERIC)


@lru_cache(maxsize=1)
def _tags() -> dict[str, str]:
    from jieba import posseg  # loads jieba's part-of-speech table (~0.4 s): only when first needed

    tags: dict[str, str] = posseg.dt.word_tag_tab
    return tags


def _names_something(word: str, kind: PlaceKind, single_run: bool) -> bool:
    if len(word) == 1:
        return single_run and word not in _COMMON_SINGLES  # 叠 滘: a local name jieba split into characters
    idf = word_idf().get(word)
    if word in _user_words() or (idf is not None and idf < _COMMON_IDF):
        return False  # a topic term (物业管理, 社保) or a word many citizens write (杜绝, 国家)
    tag = _tags().get(word)
    if tag is None and all(ch in _COMMON_SINGLES for ch in word):
        return False  # 5家大公司: ordinary characters jieba did not join
    if tag is None or tag in _PROPER_TAGS:
        return True
    return kind is PlaceKind.ESTATE and (idf is None or idf >= _RARE_IDF)


@lru_cache(maxsize=1)
def _user_words() -> frozenset[str]:
    return frozenset(default_suggester().analyzer.user_words)


@lru_cache(maxsize=8192)
def proper_name(run: str, kind: PlaceKind) -> str:
    """The whole words before a place suffix that can be a name (about four characters), or ""."""
    tags = _tags()
    kept: list[str] = []
    for word in reversed(default_suggester().analyzer.words(run)):
        if (len(word) >= 2 and tags.get(word) in _NOT_NAME_TAGS) or word in FUNCTION_SINGLES:
            break
        if kept and sum(map(len, kept)) + len(word) > 4:
            break
        kept.append(word)
    kept.reverse()
    name = "".join(kept).lstrip(_ADMIN_CHARS)
    if len(name) < 2 or name in GENERIC:
        return ""
    if kind is PlaceKind.TOWN:
        return name
    single = [len(w) == 1 for w in kept] + [False]
    in_run = [single[i] and ((i > 0 and single[i - 1]) or single[i + 1]) for i in range(len(kept))]
    return name if any(_names_something(w, kind, r) for w, r in zip(kept, in_run, strict=True)) else ""


def _name_before(text: str, end: int, start_limit: int, kind: PlaceKind) -> str:
    chars: list[str] = []
    i = end - 1
    while i >= start_limit and len(chars) < 6:
        ch = text[i]
        if not _CJK.fullmatch(ch) or ch in STOP_CHARS:
            break
        chars.append(ch)
        i -= 1
    return proper_name("".join(reversed(chars)), kind) if chars else ""


def extract_places(text: str) -> tuple[Place, ...]:
    """Every place named in a (normalised) text, in order, without repeats."""
    found: dict[tuple[str, str], Place] = {}
    boundary = 0
    for match in _PATTERN.finditer(text):
        key = match.lastgroup
        if key is None:
            continue
        suffix, kind = _KIND_OF[key]
        name = _name_before(text, match.start(), boundary, kind)
        if len(name) < 2 or name in GENERIC or name[-1] + suffix[:1] in COMMON_WORDS:
            continue
        if kind is PlaceKind.COMMUNITY and suffix in ("村委会", "居委会"):
            suffix = "村" if suffix == "村委会" else "社区"
        found.setdefault((name, suffix), Place(name, suffix, kind))
        boundary = match.end()
    return tuple(found.values())


def _number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if "十" in token:
        tens, _, ones = token.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(token[-1], 0)


def extract_buildings(text: str) -> frozenset[int]:
    """Building numbers named in a text (3栋, 十二座 → {3, 12})."""
    return frozenset(_number(m.group(1)) for m in _BUILDING.finditer(text))


def places_match(a: Place, b: Place) -> bool:
    """Whether two named places are the same: same kind and one name begins, ends or equals the other."""
    if a.kind is not b.kind:
        return False
    short, long = (a.name, b.name) if len(a.name) <= len(b.name) else (b.name, a.name)
    return len(short) >= 2 and (long.endswith(short) or long.startswith(short))


def bare_mention(place: Place, text: str) -> str | None:
    """The longest tail of a place's name that a text mentions without the suffix, if any."""
    if place.kind not in BARE_OK:
        return None
    return next((ending for ending in place.endings() if ending in text), None)


def search_terms(places: Iterable[Place], *, limit: int = 10) -> list[str]:
    """Strings worth a LIKE search for other cases at the same places: names of specific places first."""
    order = sorted(places, key=lambda p: -WEIGHT[p.kind])
    terms: list[str] = []
    for place in order:
        if place.kind is PlaceKind.TOWN:
            continue
        tail = place.endings()[-1] if place.endings() else None
        for term in (place.full, tail):
            if term and term not in terms:
                terms.append(term)
    return terms[:limit]
