"""How likely two cases are the same matter: the same place and the same problem, or the same citizen again.

A score is evidence of *where/who* times evidence of *what*, damped by time: a shared estate without a shared
problem (same street, different problem) and a shared problem without a shared place (same problem, another
estate) both stay low, and so does the same citizen writing about something else. Places conflicting outright
(two different estates, two blocks of one estate, two towns) pull the score further down.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from hub.duplicates.places import (
    CONFLICTING,
    WEIGHT,
    Place,
    PlaceKind,
    bare_mention,
    extract_buildings,
    extract_places,
    places_match,
)
from hub.duplicates.text import bigram_vector, concepts_of, cosine, normalize, remove_spans, word_vector
from hub.duplicates.types import CaseText, DuplicateSuggestion

THRESHOLD = 0.5  # chosen on the labelled set (python -m hub.duplicates.evaluate)
WINDOW_DAYS = 30

CITIZEN_WEIGHT = 0.9  # the same person again: as strong as a shared place
BARE_FACTOR = 0.9  # a place named without its suffix in the other message
CONFLICT_FACTOR = 0.3  # two different estates/firms/villages/towns/blocks named
TEXT_LOW, TEXT_HIGH = 0.05, 0.25  # word/bigram cosine mapped linearly onto [0, 1] between these
OTHER_PROBLEM_FACTOR = 0.5  # both name problems of the lexicon and none is shared: the words count for half
OTHER_CATEGORY_FACTOR = 0.9
TIME_FLOOR = 0.8  # the time factor at the end of the window (1.0 within two days)

_KIND_LABEL = {
    PlaceKind.ESTATE: "小区",
    PlaceKind.UNIT: "单位",
    PlaceKind.ROAD: "道路",
    PlaceKind.COMMUNITY: "社区/村",
    PlaceKind.TOWN: "镇街",
}


@dataclass(frozen=True)
class Profile:
    """A case prepared once for comparing with many others."""

    case: CaseText
    text: str
    places: tuple[Place, ...]
    buildings: frozenset[int]
    concepts: frozenset[str]
    words: dict[str, float]
    bigrams: dict[str, float]


@dataclass(frozen=True)
class Features:
    """The evidence about one pair of cases, before it is weighed."""

    place: float
    shared_places: tuple[str, ...]
    shared_buildings: tuple[int, ...]
    conflict: str | None
    same_citizen: bool
    concept: float
    shared_concepts: tuple[str, ...]
    other_concepts: bool
    words: float
    bigrams: float
    same_category: bool | None
    days: float

    @property
    def problem(self) -> float:
        """How alike the two problems are, in [0, 1]: the lexicon's concepts and the words, as independent evidence."""
        text = 0.5 * self.words + 0.5 * self.bigrams
        wording = min(1.0, max(0.0, (text - TEXT_LOW) / (TEXT_HIGH - TEXT_LOW)))
        if self.other_concepts:
            wording *= OTHER_PROBLEM_FACTOR
        return 1.0 - (1.0 - self.concept) * (1.0 - wording)


@lru_cache(maxsize=4096)
def profile(case: CaseText) -> Profile:
    """Normalise a case's text and extract its places, concepts and weighted vectors (cached per case text)."""
    text = normalize(" ".join(p for p in (case.address, case.title, case.content) if p))
    places = extract_places(text)
    problem_text = remove_spans(text, [p.full for p in places] + [e for p in places for e in p.endings()])
    return Profile(
        case=case,
        text=text,
        places=places,
        buildings=extract_buildings(text),
        concepts=concepts_of(problem_text),
        words=word_vector(problem_text),
        bigrams=bigram_vector(problem_text),
    )


def _place_evidence(a: Profile, b: Profile) -> tuple[float, tuple[str, ...], str | None]:
    matched: dict[str, float] = {}
    kinds: set[PlaceKind] = set()
    for pa in a.places:
        for pb in b.places:
            if places_match(pa, pb):
                label = pa.full if len(pa.name) <= len(pb.name) else pb.full
                matched[label] = max(matched.get(label, 0.0), WEIGHT[pa.kind])
                kinds.add(pa.kind)
    for own, other in ((a, b), (b, a)):
        for place in own.places:
            if place.kind in kinds or any(places_match(place, p) for p in other.places):
                continue
            if bare_mention(place, other.text):
                matched[place.full] = max(matched.get(place.full, 0.0), WEIGHT[place.kind] * BARE_FACTOR)
                kinds.add(place.kind)
    strength = 1.0 - math.prod(1.0 - w for w in matched.values())
    conflict = None
    for kind in sorted(CONFLICTING, key=lambda k: -WEIGHT[k]):
        mine = [p for p in a.places if p.kind is kind]
        theirs = [p for p in b.places if p.kind is kind]
        if mine and theirs and kind not in kinds:
            conflict = f"不同{_KIND_LABEL[kind]}：{mine[0].full} / {theirs[0].full}"
            break
    same_site = kinds & {PlaceKind.ESTATE, PlaceKind.UNIT}
    if conflict is None and same_site and a.buildings and b.buildings and not a.buildings & b.buildings:
        conflict = f"不同楼栋：{min(a.buildings)}号楼 / {min(b.buildings)}号楼"
    ra, rb = a.case.region, b.case.region
    if conflict is None and ra and rb and ra != rb:
        conflict = f"不同镇街：{ra} / {rb}"
    return strength, tuple(sorted(matched, key=lambda k: -matched[k])), conflict


def features(a: Profile, b: Profile) -> Features:
    """Every piece of evidence about whether two cases are the same matter."""
    place, shared, conflict = _place_evidence(a, b)
    buildings = tuple(sorted(a.buildings & b.buildings)) if shared else ()
    ca, cb = a.concepts, b.concepts
    concept = len(ca & cb) / math.sqrt(len(ca) * len(cb)) if ca and cb else 0.0
    cat_a, cat_b = a.case.category, b.case.category
    return Features(
        place=place,
        shared_places=shared,
        shared_buildings=buildings,
        conflict=conflict,
        same_citizen=a.case.citizen_id is not None and a.case.citizen_id == b.case.citizen_id,
        concept=concept,
        shared_concepts=tuple(sorted(ca & cb)),
        other_concepts=bool(ca and cb and not ca & cb),
        words=cosine(a.words, b.words),
        bigrams=cosine(a.bigrams, b.bigrams),
        same_category=(cat_a == cat_b) if cat_a and cat_b else None,
        days=abs((a.case.received_at - b.case.received_at).total_seconds()) / 86400.0,
    )


def weigh(f: Features) -> float:
    """The score in [0, 1]: (where or who) × (what) × (when), lowered by conflicts and another category."""
    place = f.place * (CONFLICT_FACTOR if f.conflict else 1.0)
    identity = 1.0 - (1.0 - place) * (1.0 - (CITIZEN_WEIGHT if f.same_citizen else 0.0))
    problem = f.problem
    span = max(0.0, min(1.0, (f.days - 2.0) / (WINDOW_DAYS - 2.0)))
    time = 1.0 - (1.0 - TIME_FLOOR) * span
    category = OTHER_CATEGORY_FACTOR if f.same_category is False else 1.0
    return round(identity * problem * time * category, 4)


def reasons(f: Features) -> tuple[str, ...]:
    """Why a pair scored as it did, in the centre's words."""
    out: list[str] = []
    if f.same_citizen:
        out.append("同一市民")
    if f.shared_places:
        out.append("同一地点：" + "、".join(f.shared_places[:3]))
    if f.shared_buildings:
        out.append("同一楼栋：" + "、".join(f"{n}号楼" for n in f.shared_buildings))
    if f.shared_concepts:
        out.append("同类问题：" + "、".join(f.shared_concepts[:3]))
    out.append(f"内容相似度 {max(f.words, f.bigrams):.2f}")
    if f.same_category:
        out.append("同一分类")
    if f.conflict:
        out.append(f.conflict)
    out.append(f"相隔 {f.days:.1f} 天")
    return tuple(out)


def score_pair(a: CaseText, b: CaseText) -> tuple[float, tuple[str, ...]]:
    """The score and reasons for two cases (profiles them first; use ``rank`` for many)."""
    f = features(profile(a), profile(b))
    return weigh(f), reasons(f)


def rank(
    case: CaseText | Profile,
    candidates: Iterable[CaseText],
    *,
    threshold: float = THRESHOLD,
    limit: int | None = None,
) -> list[DuplicateSuggestion]:
    """Candidates scoring at least the threshold, best first (newest first among equals)."""
    subject = case if isinstance(case, Profile) else profile(case)
    scored: list[tuple[float, CaseText, Features]] = []
    for candidate in candidates:
        if candidate.id == subject.case.id:
            continue
        f = features(subject, profile(candidate))
        s = weigh(f)
        if s >= threshold:
            scored.append((s, candidate, f))
    scored.sort(key=lambda t: (-t[0], -t[1].received_at.timestamp(), -t[1].id))
    chosen: Sequence[tuple[float, CaseText, Features]] = scored if limit is None else scored[:limit]
    return [DuplicateSuggestion(subject.case.id, c.id, s, reasons(f)) for s, c, f in chosen]
