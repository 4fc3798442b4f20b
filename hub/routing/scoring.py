"""Where the category suggester runs: in the calling process, or in a helper process beside it.

Scoring a message (jieba, n-grams, the linear model) is pure CPU and the largest part of storing a pulled page.
A pull pass hands the next page's texts to a helper process while it stores the current one, so the two
halves use two cores. The helper is only an accelerator: when it cannot start or dies, the texts are scored in
the calling process and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from hub.routing.suggester import Suggestion, default_suggester

log = logging.getLogger("hub.routing")

Text = tuple[str, str]  # (title, content), as the suggester takes them


class Scorer(Protocol):
    """Suggests categories for a batch of texts."""

    async def suggest_many(self, texts: Sequence[Text]) -> list[Suggestion]:
        """One suggestion per (title, content), in order."""
        ...


def suggest_texts(texts: Sequence[Text]) -> list[Suggestion]:
    """Score texts with this process's suggester."""
    suggester = default_suggester()
    return [suggester.suggest(title, content) for title, content in texts]


class InlineScorer:
    """Scores in the calling process (one core; the default on a one-core machine)."""

    async def suggest_many(self, texts: Sequence[Text]) -> list[Suggestion]:
        """One suggestion per text, computed here."""
        return suggest_texts(texts)


def _warm() -> None:
    default_suggester().suggest("小区", "")  # loads the model and jieba's dictionary once per helper


class ProcessScorer:
    """Scores in helper processes; falls back to the calling process when they are gone."""

    MAX_RESTARTS = 3  # a helper that cannot even start (say, a script without a __main__ guard) is not retried

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self.broken = 0

    def _pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and self.broken < self.MAX_RESTARTS:
                # spawn, not fork: the caller runs an event loop and threads a forked child must not inherit
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.processes, mp_context=context, initializer=_warm)
            return self._executor

    async def suggest_many(self, texts: Sequence[Text]) -> list[Suggestion]:
        """One suggestion per text, computed in a helper process (here if the helper broke)."""
        if not texts:
            return []
        executor = self._pool()
        if executor is None:
            return suggest_texts(texts)
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, suggest_texts, list(texts))
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:
                    self._executor = None
                    self.broken += 1
                retry = self.broken < self.MAX_RESTARTS
            log.warning("the suggester's helper process stopped; scoring in this process%s",
                        " and starting a new one" if retry else ", from now on")
            executor.shutdown(wait=False, cancel_futures=True)
            return suggest_texts(texts)

    def close(self) -> None:
        """Stop the helper processes."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared_lock = threading.Lock()
_shared: dict[int, Scorer] = {}


def shared_scorer(processes: int | None = None) -> Scorer:
    """This process's scorer for pull passes: ``processes`` helpers (default: one when there are two cores)."""
    if processes is None:
        processes = 1 if (os.cpu_count() or 1) > 1 else 0
    with _shared_lock:
        scorer = _shared.get(processes)
        if scorer is None:
            scorer = _shared[processes] = ProcessScorer(processes) if processes > 0 else InlineScorer()
        return scorer
