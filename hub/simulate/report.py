"""What a simulation measured, and its summary: per channel sent vs stored, answers vs deliveries, throughput
and latencies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from hub.simulate.channels import CHANNELS


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(values: Sequence[float]) -> str:
    return f"p50 {percentile(values, 50) * 1000:.0f} ms, p90 {percentile(values, 90) * 1000:.0f} ms"


def _s(values: Sequence[float]) -> str:
    return f"p50 {percentile(values, 50):.2f} s, p90 {percentile(values, 90):.2f} s"


@dataclass
class ChannelTally:
    """One channel's counts."""

    sent: int = 0
    stored: int = 0
    answered: int = 0
    delivered: int = 0
    duplicates: int = 0  # answers that reached the channel more than once
    errors: int = 0  # fault responses the channel served
    undelivered: list[str] = field(default_factory=list)  # case numbers answered but not delivered


@dataclass
class SyncTally:
    """Sync passes over the pull channels."""

    passes: int = 0
    created: int = 0
    busy_seconds: float = 0.0
    stopped: int = 0  # passes that ended on a channel error (retried by the next pass)
    paused: int = 0  # passes skipped while a channel's rate limit lasted


@dataclass
class SimulationReport:
    """Everything the summary prints."""

    duration: float
    rate: float
    seed: int
    faults: bool
    channels: dict[str, ChannelTally] = field(default_factory=lambda: {c: ChannelTally() for c in CHANNELS})
    sync: SyncTally = field(default_factory=SyncTally)
    ingest_latency: list[float] = field(default_factory=list)  # fake → stored case, pull channels
    callback_latency: list[float] = field(default_factory=list)  # WeChat callback round trips
    reply_latency: list[float] = field(default_factory=list)  # answer committed → fake received
    wechat_retries: int = 0
    hotline_pushes: int = 0
    push_failures: int = 0  # callbacks or pushes the hub never acknowledged
    desk_errors: int = 0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """Nothing dropped or duplicated, and every answer delivered exactly once."""
        return all(t.sent == t.stored and t.answered == t.delivered and not t.duplicates
                   for t in self.channels.values())

    @property
    def throughput(self) -> float:
        """Messages stored per second of sync pass time."""
        return self.sync.created / self.sync.busy_seconds if self.sync.busy_seconds else 0.0

    def lines(self) -> list[str]:
        """The final summary."""
        head = f"{'channel':<9}{'sent':>7}{'stored':>8}{'answered':>10}{'delivered':>11}{'duplicates':>12}{'errors':>8}"
        out = [head]
        total = ChannelTally()
        for name, t in self.channels.items():
            out.append(f"{name:<9}{t.sent:>7}{t.stored:>8}{t.answered:>10}{t.delivered:>11}{t.duplicates:>12}"
                       f"{t.errors:>8}")
            for key in ("sent", "stored", "answered", "delivered", "duplicates", "errors"):
                setattr(total, key, getattr(total, key) + getattr(t, key))
        out.append(f"{'total':<9}{total.sent:>7}{total.stored:>8}{total.answered:>10}{total.delivered:>11}"
                   f"{total.duplicates:>12}{total.errors:>8}")
        s = self.sync
        out.append(f"sync throughput: {self.throughput:.0f} msg/s from fake channel to stored case "
                   f"({s.created} messages in {s.busy_seconds:.2f} s over {s.passes} passes; {s.stopped} stopped on "
                   f"a channel error, {s.paused} waited out a rate limit); fake → case {_s(self.ingest_latency)}")
        out.append(f"wechat callbacks: {len(self.callback_latency)} safe-mode ({self.wechat_retries} WeChat retries) "
                   f"{_ms(self.callback_latency)}; hotline orders also pushed: {self.hotline_pushes}")
        out.append(f"reply delivery latency (answer committed → fake received): {_ms(self.reply_latency)} "
                   f"over {len(self.reply_latency)} replies")
        if self.desk_errors:
            out.append(f"department side: {self.desk_errors} GraphQL calls refused")
        if self.push_failures:
            out.append(f"channels gave up on {self.push_failures} callbacks or pushes")
        if self.faults:
            out.append("errors: fault responses the fakes served; the hub retried, waited or refreshed through them")
        missing = [no for t in self.channels.values() for no in t.undelivered]
        if missing:
            out.append(f"not delivered: {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}")
        verdict = ("OK: sent == stored on every channel (nothing dropped or duplicated), every answer delivered once"
                   if self.ok else "FAILED: see the rows where sent != stored or answered != delivered")
        out.append(("interrupted; " if self.interrupted else "") + verdict)
        return out
