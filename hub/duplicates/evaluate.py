"""Measure duplicate detection: precision, recall and F1 on the labelled pairs, and a threshold sweep.

    python -m hub.duplicates.evaluate                 # the chosen threshold, the sweep, every split and kind
    python -m hub.duplicates.evaluate --errors        # also list the pairs it gets wrong
    python -m hub.duplicates.evaluate --board DIR     # also count suggestions among real message-board posts

The labelled set (``data/labelled_pairs.jsonl``) is our own writing in the style of the hub's demo texts and the
message board: each line is a pair of messages, ``same`` says whether they are one matter, ``kind`` says what
kind of pair it is (cross-channel paraphrase, same citizen again, and near-misses: same street/estate and another
problem, same problem at another place, same citizen about another matter). ``split`` records how each pair was
used: ``dev`` pairs were written first and the scoring was tuned on them; ``review`` pairs were written after
that tuning and measured blind once (P 0.889, R 0.615 on 46 pairs), then their mistakes led to general fixes
(place names cut by word rather than by character, landmark suffixes, more lexicon concepts), so they are no
longer blind; ``blind`` pairs were written after the last change to the scoring and never used to change it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.duplicates.scoring import THRESHOLD, WINDOW_DAYS, Profile, features, profile, weigh
from hub.duplicates.types import CaseText
from hub.enums import Channel

DATA_PATH = Path(__file__).resolve().parent / "data" / "labelled_pairs.jsonl"
BASE_TIME = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


@dataclass(frozen=True)
class LabelledPair:
    """Two messages and whether they are the same matter."""

    id: str
    same: bool
    kind: str
    split: str
    a: CaseText
    b: CaseText


@dataclass(frozen=True)
class Metrics:
    """Counts and rates at one threshold."""

    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        """Of the pairs suggested, the share that are the same matter."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Of the pairs that are the same matter, the share suggested."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_pairs(path: Path = DATA_PATH, *, categorize: bool = True) -> list[LabelledPair]:
    """The labelled pairs; messages get ids, citizens ids by label, times from their day offsets.

    Without a ``category`` in the file, each message gets the category suggester's guess, as at intake.
    """
    ids: dict[str, int] = {}
    citizens: dict[str, int] = {}
    cases: dict[str, CaseText] = {}

    def case_of(raw: dict[str, Any]) -> CaseText:
        ref = str(raw["ref"])
        if ref not in cases:
            title = raw.get("title") or str(raw["content"])[:40]
            category = raw.get("category")
            if category is None and categorize:
                from hub.routing.service import suggest_category

                category = suggest_category(title=title, content=str(raw["content"])).category
            citizen = raw.get("citizen")
            cases[ref] = CaseText(
                id=ids.setdefault(ref, len(ids) + 1),
                title=title,
                content=str(raw["content"]),
                received_at=BASE_TIME + dt.timedelta(days=float(raw.get("day", 0.0))),
                channel=Channel(raw["channel"]) if raw.get("channel") else None,
                address=raw.get("address"),
                region=raw.get("region"),
                category=category,
                citizen_id=citizens.setdefault(str(citizen), len(citizens) + 1) if citizen else None,
            )
        return cases[ref]

    pairs: list[LabelledPair] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            pairs.append(
                LabelledPair(
                    str(row["id"]),
                    bool(row["same"]),
                    str(row["kind"]),
                    str(row.get("split", "dev")),
                    case_of(row["a"]),
                    case_of(row["b"]),
                )
            )
    return pairs


def score_pairs(pairs: Iterable[LabelledPair]) -> list[tuple[LabelledPair, float]]:
    """Every pair with its score (each message profiled once)."""
    profiles: dict[int, Profile] = {}

    def prof(case: CaseText) -> Profile:
        if case.id not in profiles:
            profiles[case.id] = profile(case)
        return profiles[case.id]

    return [(p, weigh(features(prof(p.a), prof(p.b)))) for p in pairs]


def metrics(scored: Sequence[tuple[LabelledPair, float]], threshold: float = THRESHOLD) -> Metrics:
    """Confusion counts at a threshold."""
    tp = sum(1 for p, s in scored if p.same and s >= threshold)
    fp = sum(1 for p, s in scored if not p.same and s >= threshold)
    fn = sum(1 for p, s in scored if p.same and s < threshold)
    return Metrics(threshold, tp, fp, fn, len(scored) - tp - fp - fn)


def _board_rows(directory: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in ("labelled_messages.csv", "messages_with_replies.csv"):
        path = directory / name
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as fh:
                rows.extend(csv.DictReader(fh))
    return rows


def _board_time(text: str) -> dt.datetime:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return BASE_TIME


def board_suggestions(directory: Path, threshold: float = THRESHOLD) -> tuple[int, int, list[tuple[float, str, str]]]:
    """Real message-board posts against each other: (posts, pairs, suggested pairs as (score, title, title)).

    The posts are real and mostly distinct matters, so nearly every suggestion here is a false positive; the few
    true duplicates on the board (one user posting the same message twice) show up too. Users are citizens.
    """
    users: dict[str, int] = {}
    profiles = [
        profile(
            CaseText(
                id=i + 1,
                title=row.get("留言主题", ""),
                content=row.get("留言详情", ""),
                received_at=_board_time(row.get("留言时间", "")),
                category=row.get("一级分类") or None,
                citizen_id=users.setdefault(row.get("留言用户", ""), len(users) + 1),
            )
        )
        for i, row in enumerate(_board_rows(directory))
    ]
    found: list[tuple[float, str, str]] = []
    count = 0
    for a, b in itertools.combinations(profiles, 2):
        count += 1
        score = weigh(features(a, b))
        if score >= threshold:
            found.append((score, a.case.title, b.case.title))
    return len(profiles), count, sorted(found, reverse=True)


def _line(label: str, m: Metrics) -> str:
    return (
        f"{label:<28} {m.tp + m.fn:>4} {m.fp + m.tn:>4}  P {m.precision:.3f}  R {m.recall:.3f}  "
        f"F1 {m.f1:.3f}  (tp {m.tp}, fp {m.fp}, fn {m.fn})"
    )


def report(scored: Sequence[tuple[LabelledPair, float]], threshold: float, *, errors: bool = False) -> str:
    """The text the command prints: headline, splits, sweep, kinds and (optionally) the mistakes."""
    out = [
        f"duplicate detection on {len(scored)} labelled pairs, threshold {threshold:.2f}, window {WINDOW_DAYS} days",
        f"{'':<28} {'same':>4} {'diff':>4}",
    ]
    out.append(_line("all", metrics(scored, threshold)))
    for split in sorted({p.split for p, _ in scored}):
        out.append(_line(f"split {split}", metrics([t for t in scored if t[0].split == split], threshold)))
    out += ["", "threshold sweep (all pairs)", "  thr    P      R      F1     fp  fn"]
    for t in SWEEP:
        m = metrics(scored, t)
        mark = "  <- chosen" if abs(t - threshold) < 1e-9 else ""
        out.append(f"  {t:.2f}  {m.precision:.3f}  {m.recall:.3f}  {m.f1:.3f}  {m.fp:>3} {m.fn:>3}{mark}")
    out += ["", "by kind of pair (correct / pairs)"]
    by_kind: dict[tuple[bool, str], list[bool]] = defaultdict(list)
    for p, s in scored:
        by_kind[(p.same, p.kind)].append((s >= threshold) == p.same)
    for (same, kind), hits in sorted(by_kind.items(), key=lambda kv: (not kv[0][0], kv[0][1])):
        out.append(f"  {'same' if same else 'diff'}  {kind:<30} {sum(hits):>3} / {len(hits)}")
    if errors:
        out += ["", "mistakes"]
        for p, s in sorted(scored, key=lambda t: t[1]):
            if (s >= threshold) != p.same:
                out.append(f"  {'missed' if p.same else 'false '} {s:.3f} {p.id} ({p.kind})")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Print precision, recall and F1 at the threshold and a sweep; optionally check the real board posts."""
    parser = argparse.ArgumentParser(prog="python -m hub.duplicates.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--data", type=Path, default=DATA_PATH)
    parser.add_argument("--errors", action="store_true", help="list the pairs scored on the wrong side")
    parser.add_argument("--board", type=Path, help="a message-board data directory to check for false positives")
    args = parser.parse_args(argv)
    scored = score_pairs(load_pairs(args.data))
    print(report(scored, args.threshold, errors=args.errors))
    if args.board:
        posts, pairs, found = board_suggestions(args.board, args.threshold)
        print(f"\nmessage board: {posts} real posts, {pairs} pairs, {len(found)} scored at or above the threshold")
        if args.errors:
            for score, a, b in found:
                print(f"  {score:.3f}  {a[:40]}  |  {b[:40]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
