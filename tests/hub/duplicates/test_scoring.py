"""Scoring without a database: places, problems, near-misses, time and the order of suggestions."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.duplicates.places import PlaceKind, extract_buildings, extract_places, places_match, search_terms
from hub.duplicates.scoring import THRESHOLD, rank, score_pair
from hub.duplicates.text import concepts_of, normalize
from hub.duplicates.types import CaseText

T0 = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


def case(
    case_id: int,
    content: str,
    *,
    title: str = "",
    days: float = 0.0,
    citizen: int | None = None,
    category: str | None = None,
    region: str | None = None,
) -> CaseText:
    """A case as scoring sees it."""
    return CaseText(
        id=case_id,
        title=title or content[:40],
        content=content,
        received_at=T0 + dt.timedelta(days=days),
        category=category,
        citizen_id=citizen,
        region=region,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("来电人反映：其居住的桂城街道平洲夏北社区锦绣花园3栋电梯停运", {"桂城街道", "平洲夏北社区", "锦绣花园"}),
        ("我家住在碧水湾，楼下餐馆油烟很大", {"碧水湾"}),
        ("里水镇和顺大道一家KTV深夜扰民", {"里水镇", "和顺大道"}),
        ("大沥镇盐步河东村的作坊偷排废水", {"大沥镇", "盐步河东村"}),
        ("宏达五金厂拖欠工资三个月", {"宏达五金厂"}),
        ("在水一方大厦外墙脱落", {"在水一方大厦"}),
        # Words that only look like places: 道路, 马路, 物业公司, 人寿保险公司, 为什么医院, 附近小区.
        ("这条道路坑洼，过马路很危险", set()),
        ("物业公司乱收费，附近小区也一样", set()),
        ("中国人寿保险公司不给员工发工资", set()),
        ("新生儿为什么医院不给办医保", set()),
    ],
)
def test_places_are_found_by_their_suffixes(text: str, expected: set[str]) -> None:
    assert {p.full for p in extract_places(normalize(text))} == expected


def test_place_names_match_by_head_or_tail_within_a_kind() -> None:
    (long,) = extract_places("平洲夏北社区")
    (short,) = extract_places("夏北社区")
    (estate,) = extract_places("锦绣花园")
    assert places_match(long, short) and not places_match(long, estate)
    assert long.kind is PlaceKind.COMMUNITY and estate.kind is PlaceKind.ESTATE
    assert search_terms([long, estate]) == ["锦绣花园", "锦绣", "平洲夏北社区", "夏北"]
    assert extract_buildings("3栋和十二座，还有5号楼") == {3, 12, 5}


def test_channel_furniture_is_dropped() -> None:
    text = normalize("@南海发布 @南海12345 #桂城身边事# 来电人反映：电梯又坏了[怒][怒]")
    assert "@" not in text and "[" not in text and "#" not in text and "来电人" not in text
    assert concepts_of(text) == {"电梯故障"}


def test_one_matter_on_three_channels_scores_high() -> None:
    hotline = case(1, "来电人反映：桂城碧水湾小区6座电梯经常出故障，昨晚有住户被困，物业维修不及时。")
    weibo = case(2, "@南海12345 碧水湾6座电梯又停了，关了人，物业一问三不知[怒]", days=0.5)
    wechat = case(3, "碧水湾6座电梯今天又困人了，谁来管管", days=1.0)
    for a, b in ((hotline, weibo), (hotline, wechat), (weibo, wechat)):
        score, reasons = score_pair(a, b)
        assert score >= 0.8, (a.id, b.id, score, reasons)
        assert "同一地点：碧水湾" in reasons and "同一楼栋：6号楼" in reasons


@pytest.mark.parametrize(
    ("other", "why"),
    [
        ("锦绣花园物业把停车费从200元涨到350元，没开业主大会", "same estate, another problem"),
        ("碧水湾3栋电梯这个月困人三次，物业不管", "same problem, another estate"),
        ("锦绣花园5栋电梯也坏了两天", "same estate, another block"),
    ],
)
def test_near_misses_score_low(other: str, why: str) -> None:
    lift = case(1, "锦绣花园3栋电梯又坏了，困了人，物业说等配件")
    score, reasons = score_pair(lift, case(2, other))
    assert score < THRESHOLD, (why, score, reasons)


def test_same_street_another_problem_scores_low() -> None:
    noise = case(1, "来电人反映：海八路在建工地连续一周晚上十一点后仍在打桩施工，噪音很大。")
    lamps = case(2, "海八路那段路灯坏了好久了，晚上黑乎乎的，骑车差点摔了")
    score, _ = score_pair(noise, lamps)
    assert score < 0.1


def test_same_citizen_counts_only_with_the_same_problem() -> None:
    leak = case(1, "来电人反映：其居住的保利花园8栋天花板渗水，楼上住户拒绝维修。", citizen=7)
    again = case(2, "上次反映的楼上漏水还是没人处理，天花都发霉了", citizen=7, days=6)
    other = case(3, "请问小孩打疫苗在哪里预约", citizen=7, days=8)
    stranger = case(4, "上次反映的楼上漏水还是没人处理，天花都发霉了", citizen=8, days=6)
    assert score_pair(leak, again)[0] >= THRESHOLD and "同一市民" in score_pair(leak, again)[1]
    assert score_pair(leak, other)[0] < 0.1
    assert score_pair(leak, stranger)[0] < THRESHOLD  # no place, no shared citizen: nothing ties them


def test_time_and_category_lower_the_score_a_little() -> None:
    a = case(1, "石碣村又停电了，这个月第八次", category="城乡建设")
    near = case(2, "来电人反映：大沥镇石碣村近一个月频繁停电，一周停三四次。", days=1, category="城乡建设")
    late = case(3, "来电人反映：大沥镇石碣村近一个月频繁停电，一周停三四次。", days=29, category="城乡建设")
    other = case(4, "来电人反映：大沥镇石碣村近一个月频繁停电，一周停三四次。", days=1, category="其他")
    s_near, s_late, s_other = (score_pair(a, b)[0] for b in (near, late, other))
    assert s_near > s_late >= 0.8 * s_near and s_near > s_other >= 0.85 * s_near
    assert all(0.0 <= s <= 1.0 for s in (s_near, s_late, s_other))


def test_rank_orders_best_first_and_skips_the_case_itself() -> None:
    subject = case(1, "碧水湾6座电梯今天又困人了，谁来管管", days=2)
    strong = case(2, "来电人反映：桂城碧水湾小区6座电梯经常故障，昨晚有住户被困。", days=1)
    weaker = case(3, "碧水湾那边电梯好像也有问题", days=0)
    unrelated = case(4, "海八路路灯不亮")
    ranked = rank(subject, [subject, unrelated, weaker, strong], threshold=0.0)
    assert [s.candidate_id for s in ranked][:2] == [2, 3] and 1 not in [s.candidate_id for s in ranked]
    assert [s.candidate_id for s in rank(subject, [unrelated, weaker, strong], limit=1)] == [2]
    assert all(s.case_id == 1 for s in ranked)
