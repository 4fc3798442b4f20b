"""Who writes what, where: new issues on every channel, the same place and problem reported again on other
channels by other citizens, and citizens writing again about what they reported before."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from dataclasses import dataclass, field

from hub.demo.texts import DemoMessage, Issue, compose, compose_again, new_issue
from hub.simulate.channels import Citizen, new_citizen

CHANNEL_WEIGHTS: dict[str, int] = {"hotline": 40, "website": 20, "weibo": 15, "wechat": 25}
REPEAT_CHANNELS = ("hotline", "weibo", "wechat")  # where a hot issue is reported again, as in real life


@dataclass(frozen=True)
class Outgoing:
    """One message about to be written: channel, text, who, and why (``new``, ``repeat`` or ``again``)."""

    channel: str
    message: DemoMessage
    citizen: Citizen
    why: str


@dataclass
class _Reported:
    issue: Issue
    channels: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Written:
    channel: str
    citizen: Citizen
    message: DemoMessage
    at: dt.datetime


class Traffic:
    """A stream of citizen messages with a realistic mix of channels, kinds, categories, repeats and follow-ups."""

    def __init__(self, rng: random.Random, *, weights: dict[str, int] | None = None, repeat_share: float = 0.15,
                 again_share: float = 0.08, memory: int = 50) -> None:
        self.rng = rng
        self.weights = weights or CHANNEL_WEIGHTS
        self.repeat_share = repeat_share
        self.again_share = again_share
        self._issues: deque[_Reported] = deque(maxlen=memory)
        self._written: deque[_Written] = deque(maxlen=memory * 2)

    def _channel(self) -> str:
        return self.rng.choices(list(self.weights), list(self.weights.values()))[0]

    def next(self, now: dt.datetime) -> Outgoing:
        """The next message, written at ``now``."""
        roll = self.rng.random()
        if roll < self.again_share and self._written:
            first = self.rng.choice(self._written)
            message = compose_again(self.rng, first.message, first.at, first.channel)
            return self._keep(Outgoing(first.channel, message, first.citizen, "again"), now)
        if roll < self.again_share + self.repeat_share and self._issues:
            reported = self.rng.choice(self._issues)
            fresh = [c for c in REPEAT_CHANNELS if c not in reported.channels and c in self.weights]
            channel = self.rng.choice(fresh) if fresh else self._channel()
            reported.channels.add(channel)
            message = compose(self.rng, reported.issue, channel, repeat=True)
            return self._keep(Outgoing(channel, message, new_citizen(self.rng), "repeat"), now)
        channel = self._channel()
        issue = new_issue(self.rng)
        self._issues.append(_Reported(issue, {channel}))
        return self._keep(Outgoing(channel, compose(self.rng, issue, channel), new_citizen(self.rng), "new"), now)

    def _keep(self, outgoing: Outgoing, now: dt.datetime) -> Outgoing:
        if outgoing.why != "again":
            self._written.append(_Written(outgoing.channel, outgoing.citizen, outgoing.message, now))
        return outgoing
