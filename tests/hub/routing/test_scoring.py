"""Where suggestions are scored: a helper process gives what the calling process would, and survives its helper."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

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


def _helper_process(scorer: ProcessScorer) -> Any:
    pool = scorer._pool()
    assert pool is not None
    [process] = list(pool._processes.values())  # type: ignore[attr-defined]
    return process


async def test_a_killed_helper_costs_no_suggestion_and_is_replaced_a_few_times(helper: ProcessScorer) -> None:
    expected = [s.category for s in suggest_texts(TEXTS)]
    killed: set[int] = set()
    for _ in range(ProcessScorer.MAX_RESTARTS):
        assert [s.category for s in await helper.suggest_many(TEXTS)] == expected
        process = _helper_process(helper)
        assert process.pid not in killed and process.is_alive()  # a new helper after each death
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        killed.add(process.pid)
        assert [s.category for s in await helper.suggest_many(TEXTS)] == expected  # scored here this time
    assert helper._pool() is None  # a helper that keeps dying is not started again: this process scores
    assert [s.category for s in await helper.suggest_many(TEXTS)] == expected


async def test_inline_scorer_and_shared_scorers() -> None:
    assert [s.category for s in await InlineScorer().suggest_many(TEXTS)] == [s.category for s in suggest_texts(TEXTS)]
    assert isinstance(shared_scorer(0), InlineScorer)
    assert shared_scorer(1) is shared_scorer(1)
    assert isinstance(shared_scorer(1), ProcessScorer)
