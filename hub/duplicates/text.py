"""What a message is about, as comparable features: channel boilerplate removed, problem words and concepts.

The words come from the category suggester's jieba tokenizer (its user dictionary of government-service terms)
and are weighted by the idf the suggester learned from the message board; character bigrams catch paraphrases
the tokenizer splits differently. A small lexicon maps the ways citizens name one problem (电梯坏了 / 困人 /
停运) to one concept, so a hotline operator's summary and a WeChat one-liner still meet.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

from hub.routing.suggester import MODEL_PATH, char_ngrams, default_suggester

# Channel furniture: operator formulas, Weibo mentions and emoticons, salutations, closing requests.
_MENTION = re.compile(r"@[^\s@，。：:！!？?、,；;]+")
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_EXCEL_CR = re.compile(r"_x000d_", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
BOILERPLATE = tuple(
    "市民来电反映 来电人反映 来电人称 来电反映 市民来电 来电人 诉求人反映 诉求人 市民反映 "
    "网友反映 网民反映 尊敬的领导 领导您好 您好 你好 请相关部门 相关部门 请有关部门 有关部门 "
    "尽快处理 核实处理 跟进处理 及时处理 依法查处 帮忙解决 谢谢 麻烦 转发微博 求扩散 求关注 "
    "南海发布 南海12345 12345 来电要求 要求处理 请求处理 ".split()
)
_BOILERPLATE = re.compile("|".join(re.escape(b) for b in sorted(BOILERPLATE, key=len, reverse=True)))

# Words every complaint has: they say nothing about which problem it is.
STOPWORDS = frozenset(
    "反映 来电 市民 请 相关 部门 处理 尽快 希望 问题 情况 要求 请求 谢谢 领导 尊敬 严重 现在 目前 一直 已经 多次 "
    "没有 不 也 都 就 还 又 了 的 是 在 有 和 与 及 我 我们 他们 你们 大家 其 该 这个 那个 这 那 一个 一下 什么 "
    "怎么 为什么 如何 是否 可以 能 能否 会 要 让 给 被 把 对 从 到 向 很 非常 太 真的 根本 一些 导致 造成 影响 "
    "居民 业主 住户 群众 老百姓 网友 附近 周边 旁边 门口 楼下 每天 天天 经常 最近 近期 今天 昨天 晚上 白天 "
    "解决 管理 整改 督促 查处 调查 核实 反馈 回复 答复 投诉 举报 咨询 建议 求助 关注 重视 希望 恳请 麻烦 "
    "小区 社区 村 街道 镇 路 路段 位置 地方 地址 一带 片区 号 栋 楼 单元".split()
)

# One problem, many wordings. Each concept is a stable key; its words are matched as substrings.
_CONCEPT_WORDS: dict[str, str] = {
    "电梯故障": "电梯 升降梯 困人 被困 关人 梯停运 电梯停运",
    "油烟": "油烟 排烟 烟味 烧烤 炒菜 烟熏 烟雾",
    "噪音": "噪音 噪声 太吵 很吵 吵得 吵闹 吵到 轰鸣 喧哗 唱歌 打桩 音响 喇叭 广场舞",
    "夜间施工": "夜间施工 半夜施工 深夜施工 通宵施工 凌晨 半夜 深夜 通宵 夜间作业 晚上施工",
    "施工工地": "工地 施工 打桩 泥头车 渣土",
    "路灯": "路灯 不亮 照明 黑灯瞎火 漆黑 灯坏",
    "路面破损": "路面 坑洼 坑槽 破损 塌陷 沉降 烂路 大坑 坑坑洼洼 地砖 人行道砖",
    "积水内涝": "积水 水浸 内涝 水淹 排水不畅 下水道 渠道堵 水浸街",
    "水体污染": "河涌 污水 排污 发黑 黑臭 偷排 直排 废水 死鱼",
    "垃圾": "垃圾 清运 堆放 没人清理 无人清理 垃圾站 垃圾桶 垃圾房",
    "异味": "臭味 异味 恶臭 刺鼻 发臭 臭气",
    "停水": "停水 没水 断水 水压 自来水 无水 供水",
    "水质": "黄水 水质 浑浊 有沙 水发黄",
    "停电": "停电 断电 跳闸 供电 没电",
    "燃气": "燃气 天然气 煤气 漏气 管道气",
    "漏水渗水": "漏水 渗水 渗漏 天花 墙体发霉 水管爆",
    "欠薪": "拖欠 工资 欠薪 讨薪 欠工资 血汗钱 克扣",
    "社保": "社保 养老保险 医保 参保 缴费基数 灵活就业",
    "停车收费": "停车费 车位费 月租车位 停车收费 临停 停车场收费 收停车",
    "乱停车": "乱停 违停 乱放 占用消防通道 堵住 堵塞通道 共享单车",
    "消防": "消防通道 消防栓 消防 火灾隐患 飞线充电",
    "占道经营": "占道 乱摆 摆卖 摊档 流动摊贩 摆摊 占用人行道",
    "违建": "违建 违章搭建 搭建 铁皮房 铁皮屋 加建 加盖 僭建 违法建设 天台 楼顶加",
    "物业收费": "物业费 涨价 乱收费 多收 收费 提价 上涨",
    "物业服务": "物业不作为 物业不管 保安 保洁 维修基金",
    "公交": "公交 班次 发车 接驳 候车 公交站 站点 撤站",
    "交通信号": "红绿灯 信号灯 斑马线 人行横道 交通灯",
    "交通拥堵": "拥堵 堵车 塞车 车流",
    "车辆违法": "超速 飙车 炸街 大货车 泥头车 撒漏 抛洒",
    "扬尘": "扬尘 粉尘 灰尘 尘土 洒水",
    "废气": "废气 烟囱 黑烟 焚烧 烧垃圾",
    "流浪动物": "流浪狗 流浪犬 流浪猫 狗 犬 咬人 咬伤",
    "食品安全": "过期 变质 发霉 食物中毒 吃坏 食品安全 三无",
    "价格": "标价 价格 欺诈 宰客 多收钱 明码标价 价签",
    "学位入学": "学位 入学 招生 积分入学 插班 报名 转学",
    "校外培训": "培训机构 补课 培训班 学科类",
    "幼儿园": "幼儿园 保育费 托育 园费",
    "医疗": "医院 看病 医生 挂号 药品 缺药 缺货 卫生服务站 卫生院 门诊",
    "树木绿化": "树木 树枝 倒伏 修剪 绿化 大树 树根",
    "井盖": "井盖 窨井 沙井",
    "房屋安全": "危房 开裂 外墙脱落 墙皮脱落 坠落 高空抛物 裂缝",
    "病媒": "蚊子 蚊虫 老鼠 蟑螂 消杀 苍蝇",
    "房产证": "房产证 不动产证 产权证 办证",
    "拆迁征地": "拆迁 补偿款 征地 安置",
    "出租车网约车": "出租车 网约车 拒载 绕路 的士",
    "电动车": "电动车 电瓶车 充电桩",
    "网络通信": "信号差 宽带 网络信号 基站",
    "门禁治安": "门禁 陌生人 外来人员 小偷 盗窃 被偷 治安",
    "游乐健身设施": "滑梯 游乐设施 秋千 健身器材 健身路径",
    "装修扰民": "装修 电钻 敲打 砸墙",
    "快递": "快递 驿站 丢件 快递柜",
    "公厕": "公厕 厕所 卫生间",
    "水电费": "电费 水费 抄表 电表 水表",
}
CONCEPTS: dict[str, tuple[str, ...]] = {name: tuple(words.split()) for name, words in _CONCEPT_WORDS.items()}


@lru_cache(maxsize=1)
def idf_tables() -> tuple[dict[str, float], dict[str, float], float]:
    """(word idf, character n-gram idf, idf of an unseen term) learned by the category suggester."""
    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as fh:
        recipe = json.load(fh)["recipe"]
    blocks = {b["name"]: dict(zip(b["vocabulary"], map(float, b["idf"]), strict=True)) for b in recipe["blocks"]}
    words, chars = blocks["words"], blocks["chars"]
    unseen = max(max(words.values(), default=1.0), max(chars.values(), default=1.0))
    return words, chars, unseen


def word_idf() -> dict[str, float]:
    """The idf of the words the suggester saw on the message board (absent: a word citizens rarely write)."""
    return idf_tables()[0]


def normalize(text: str | None) -> str:
    """NFKC-fold and lower-case; drop Weibo mentions, emoticons, hashtags' marks and operator formulas."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _EXCEL_CR.sub(" ", text).lower()
    text = _MENTION.sub(" ", text)
    text = _EMOTICON.sub(" ", text).replace("#", " ")
    text = _BOILERPLATE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def remove_spans(text: str, spans: Iterable[str]) -> str:
    """The text with every occurrence of the given strings blanked out (place names before comparing problems)."""
    for span in sorted(set(spans), key=len, reverse=True):
        if span:
            text = text.replace(span, " ")
    return text


def concepts_of(text: str) -> frozenset[str]:
    """The problem concepts a text names."""
    return frozenset(name for name, words in CONCEPTS.items() if any(w in text for w in words))


def word_vector(text: str) -> dict[str, float]:
    """jieba words of a text (stopwords dropped), weighted 1 + ln(tf) times idf and l2-normalised."""
    words, _chars, unseen = idf_tables()
    counts = Counter(w for w in default_suggester().analyzer.words(text) if w not in STOPWORDS)
    return _normalised({w: (1.0 + math.log(c)) * words.get(w, unseen) for w, c in counts.items()})


def bigram_vector(text: str) -> dict[str, float]:
    """Character bigrams of a text, weighted like the words and l2-normalised."""
    _words, chars, unseen = idf_tables()
    counts = Counter(char_ngrams(text, (2,)))
    return _normalised({g: (1.0 + math.log(c)) * chars.get(g, unseen) for g, c in counts.items()})


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm > 0 else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two l2-normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())
