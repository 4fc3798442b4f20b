"""The hashed serialisation is exactly the documented json.dumps form, whichever encoder writes it."""

from __future__ import annotations

import datetime as dt
import enum
import json
import random
from typing import Any

import pytest

from hub.trail.service import canonical_json


def _reference(fields: Any) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class Mood(enum.Enum):
    GOOD = 1


EDGES: list[Any] = [
    {"payload": {"confidence": 0.8731, "tiny": 1e-05, "huge": 1e16, "zero": 0.0, "neg": -0.0}},
    {"b": [1, {"z": None, "a": True}], "a": "x", "é": 1, "A": 2, "_": 3, "中": 4, "😀": 5},
    {"text": "".join(chr(i) for i in range(0x300)) + "\u2028\u2029\ufeff\U0010ffff"},
    {"big": 2**63, "small": -(2**63), "max": 2**63 - 1},
    {"nan": float("nan"), "inf": float("inf")},
    {"at": dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC), "mood": Mood.GOOD, "day": dt.date(2026, 11, 29)},
    {"t": (1, 2), "nested": {"deeper": [[{"k": 1.5}]]}},
    {1: "int keys", 2: "are written as strings"},
]


@pytest.mark.parametrize("fields", EDGES)
def test_edge_values_serialise_as_json_dumps_does(fields: Any) -> None:
    assert canonical_json(fields) == _reference(fields)


def test_random_event_payloads_serialise_as_json_dumps_does() -> None:
    rng = random.Random(6)
    for _ in range(5000):
        number = rng.choice([1, -1]) * 10 ** rng.uniform(-8, 20)
        fields = {
            "case_id": rng.randrange(10**9),
            "note": "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(12))),
            "payload": {
                "confidence": round(rng.random(), rng.randrange(1, 6)),
                "x": float(f"{number:.{rng.randint(1, 17)}g}"),
            },
        }
        assert canonical_json(fields) == _reference(fields), fields
