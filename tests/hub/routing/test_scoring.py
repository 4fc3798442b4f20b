"""Where suggestions are scored: a helper process gives what the calling process would, and survives its helper."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from hub.routing.scoring import InlineScorer, ProcessScorer, shared_scorer, suggest_texts

TEXTS = [
    ("某地小区楼下餐馆油烟扰民", "小区一楼的餐馆排烟管道直接对着住户窗户，每天中午和晚上油烟很大，请环保部门查处。"),
    ("咨询孩子入学需要哪些材料", "孩子今年满六岁，户口在某地，房子是租的，请问报名上小学需要准备哪些材料？"),
    ("某路公交车班次太少", "某路公交车早高峰二十多分钟才来一班，车上非常拥挤，希望增加班次。"),
    ("", "单位拖欠三个月工资不发，劳动监察能不能帮忙讨薪？"),
]


@pytest.fixture
def helper() -> Iterator[ProcessScorer]:
    scorer = ProcessScorer(1)
    yield scorer
    scorer.close()


async def test_a_helper_process_scores_as_this_process_does(helper: ProcessScorer) -> None:
    here = suggest_texts(TEXTS)
    there = await helper.suggest_many(TEXTS)
    assert [(s.category, s.confidence, s.ranked) for s in there] == [(s.category, s.confidence, s.ranked) for s in here]
    assert await helper.suggest_many([]) == []


async def test_a_killed_helper_costs_no_suggestion_and_is_replaced(helper: ProcessScorer) -> None:
    await helper.suggest_many(TEXTS[:1])
    [first] = list(helper._pool()._processes.values())  # the helper that is running now
    os.kill(first.pid, signal.SIGKILL)
    first.join(10)
    expected = [s.category for s in suggest_texts(TEXTS)]
    assert [s.category for s in await helper.suggest_many(TEXTS)] == expected  # scored here this time
    assert [s.category for s in await helper.suggest_many(TEXTS)] == expected  # by a new helper
    [second] = list(helper._pool()._processes.values())
    assert second.pid != first.pid and second.is_alive()


async def test_inline_scorer_and_shared_scorers() -> None:
    assert [s.category for s in await InlineScorer().suggest_many(TEXTS)] == [s.category for s in suggest_texts(TEXTS)]
    assert isinstance(shared_scorer(0), InlineScorer)
    assert shared_scorer(1) is shared_scorer(1)
    assert isinstance(shared_scorer(1), ProcessScorer)
