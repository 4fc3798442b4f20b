"""The terms a hot-topics count is made of: places named in a message, and its title's keywords.

Places are found by their suffix (路, 大道, 街道, 社区, 村, 花园, …) as jieba segments the text, joined with
the short words just before it ("南海" + "大道", "灯" + "湖东路"); verbs, adverbs, pronouns and the like stop
that join, so "优化黄岐大道" yields 黄岐大道. Keywords are jieba words of the title without stop words and
without the places already found. Both are heuristics for spotting a rise, not a gazetteer.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

import jieba

jieba.setLogLevel(logging.WARNING)

PLACE_SUFFIXES = (
    "街道", "社区", "大道", "大街", "花园", "小区", "片区", "广场", "公园", "新村", "家园", "山庄",
    "华庭", "豪庭", "雅苑", "花苑", "悦府", "华府", "公馆", "大厦", "村", "镇", "路", "街", "巷",
)  # fmt: skip
# Words that end like a place but are not one.
NOT_PLACES = (
    "马路", "道路", "公路", "线路", "网路", "思路", "出路", "铁路", "水路", "电路", "套路", "门路", "退路",
    "小路", "老路", "城中村", "农村", "乡村", "商业街", "步行街", "美食街", "老街", "路路",
)  # fmt: skip
# Part-of-speech tags (jieba's dictionary) that cannot be the front of a place name.
_NOT_NAME_TAGS = ("v", "d", "p", "c", "r", "m", "q", "u", "f", "t", "a", "y", "e", "o", "z", "l", "i")
# Tags of words that say nothing about a topic: numbers, measures, adverbs, pronouns, times, particles.
_NOT_KEYWORD_TAGS = ("m", "q", "d", "p", "c", "r", "u", "t", "y", "e", "o", "f")
_NOT_NAME_WORDS = frozenset(
    {"老旧", "周边", "附近", "整个", "各个", "多个", "新建", "部分", "所在", "这个", "那个", "某"}
)
STOP_WORDS = frozenset(
    """
    请问 咨询 投诉 举报 建议 求助 表扬 感谢 反映 关于 问题 相关 部门 处理 解决 希望 要求 情况 严重 一直 长期 多次
    经常 最近 近期 今天 昨天 现在 目前 我们 我家 本人 市民 居民 群众 业主 住户 有关 如何 怎么 什么 是否 能否 可以
    需要 没有 不能 无法 进行 一下 一个 一些 这个 那个 还是 已经 仍然 依然 尽快 及时 存在 出现 导致 造成 影响 对于
    以及 或者 因为 所以 但是 而且 并且 如果 为什么 怎么办 谁管 何时 多久 附近 周边 一带 地方 这里 那里 每天 晚上
    白天 早上 时间 非常 特别 十分 比较 太 很 请 的 了 在 是 和 与 及 到 从 往 向 对 把 被 给 为 于 由 某 该 本 有
    """.split()
)
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tools() -> tuple[Any, dict[str, str]]:
    """jieba's shared tokenizer and its word → part-of-speech table, loaded once per process."""
    with _lock:
        import jieba.posseg

        jieba.dt.initialize()
        return jieba.dt, jieba.posseg.dt.word_tag_tab


def _suffix(word: str) -> str | None:
    return next((s for s in PLACE_SUFFIXES if word.endswith(s)), None)


def _may_front_a_name(word: str, tags: dict[str, str]) -> bool:
    if not _CJK.match(word) or _suffix(word) or word in _NOT_NAME_WORDS or word in STOP_WORDS:
        return False
    tag = tags.get(word)
    # A single character's dictionary tag says little about its use inside a name (泌冲, 叠滘).
    return len(word) == 1 or tag is None or not tag.startswith(_NOT_NAME_TAGS)


def places(text: str) -> list[str]:
    """Place names in a text, in order of appearance, each once."""
    tokenizer, tags = _tools()
    words = tokenizer.lcut(text or "")
    found: list[str] = []
    for i, word in enumerate(words):
        suffix = _suffix(word) if _CJK.match(word) else None
        if suffix is None or word.endswith(NOT_PLACES):
            continue
        # A bare suffix takes up to four characters of name before it; a word with its own name only a
        # stray character the segmenter split off ("灯" + "湖东路").
        bare = word == suffix
        front: list[str] = []
        room = 4 if bare else 1
        j = i - 1
        while j >= 0 and _may_front_a_name(words[j], tags) and (bare or len(words[j]) == 1):
            if sum(map(len, front)) + len(words[j]) > room:
                break
            front.insert(0, words[j])
            j -= 1
        name = "".join(front) + word
        if len(name) >= 3 and name not in found:
            found.append(name)
    return found


def keywords(title: str, *, exclude: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The title's jieba words of two or more Chinese characters, without stop words and excluded terms."""
    tokenizer, tags = _tools()
    found: list[str] = []
    for word in tokenizer.lcut(title or ""):
        if len(word) < 2 or not _CJK.match(word) or word in STOP_WORDS or word in found:
            continue
        if tags.get(word, "n").startswith(_NOT_KEYWORD_TAGS):
            continue
        if any(word in term for term in exclude):
            continue
        found.append(word)
    return found
