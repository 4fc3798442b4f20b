"""Signing keys: generation, stores, rotation and the published JWKS."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auth.keys import (
    FileKeyStore,
    InMemoryKeyStore,
    KeyRing,
    SigningKey,
    generate_signing_key,
)

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k", "created_at"}


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_generated_key_round_trips_through_its_stored_form(alg: str) -> None:
    key = generate_signing_key(alg, now=1_700_000_000)
    stored = key.private_jwk()
    assert stored["kid"] == key.kid and stored["alg"] == alg and stored["created_at"] == 1_700_000_000
    again = SigningKey.from_jwk(json.loads(json.dumps(stored)))
    assert again.kid == key.kid and again.alg == alg and again.key.is_private
    assert again.public_jwk() == key.public_jwk()


def test_unsupported_algorithms_are_refused() -> None:
    with pytest.raises(ValueError):
        generate_signing_key("HS256")
    with pytest.raises(ValueError):
        KeyRing(InMemoryKeyStore(), alg="none")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("kid"),
        lambda d: d.update(alg="HS256"),
        lambda d: d.pop("d"),  # a public key cannot sign
        lambda d: d.update(alg="RS256"),  # an EC key labelled RSA
        lambda d: d.update(x="not-base64!"),
    ],
)
def test_unusable_stored_keys_are_refused(mutate: Callable[[dict[str, Any]], object]) -> None:
    stored = generate_signing_key("ES256").private_jwk()
    mutate(stored)
    with pytest.raises(ValueError):
        SigningKey.from_jwk(stored)


def test_keyring_creates_a_key_once_and_reuses_it() -> None:
    store = InMemoryKeyStore()
    first = KeyRing(store).current_private()
    assert len(store.load()) == 1
    assert KeyRing(store).current_private().kid == first.kid
    assert len(store.load()) == 1


def test_rotation_keeps_previous_keys_up_to_keep_and_publishes_them() -> None:
    ring = KeyRing(InMemoryKeyStore(), keep=3)
    k1 = ring.current_private()
    k2 = ring.rotate()
    assert ring.current_private().kid == k2.kid != k1.kid
    assert [k["kid"] for k in ring.public_jwks()["keys"]] == [k2.kid, k1.kid]  # current first
    k3 = ring.rotate()
    k4 = ring.rotate()
    assert [k.kid for k in ring.keys()] == [k2.kid, k3.kid, k4.kid]  # k1 retired
    assert ring.find(k1.kid) is None and ring.find(k2.kid) is not None


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_jwks_has_public_members_only(alg: str) -> None:
    ring = KeyRing(InMemoryKeyStore(), alg=alg)
    ring.current_private()
    ring.rotate()
    jwks = ring.public_jwks()
    assert len(jwks["keys"]) == 2
    for jwk in jwks["keys"]:
        assert not PRIVATE_MEMBERS & set(jwk)
        assert jwk["use"] == "sig" and jwk["alg"] == alg and jwk["kid"]
        expected = {"kty", "kid", "alg", "use"} | ({"n", "e"} if alg == "RS256" else {"crv", "x", "y"})
        assert set(jwk) == expected
    assert ring.algorithms() == [alg]


def test_file_store_is_private_atomic_and_reloadable(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.json"
    ring = KeyRing(FileKeyStore(path))
    kid = ring.current_private().kid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring.rotate()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["signing.json"]  # no temp files left over
    reloaded = KeyRing(FileKeyStore(path))
    assert [k.kid for k in reloaded.keys()] == [k.kid for k in ring.keys()]
    assert reloaded.keys()[0].kid == kid


def test_rotation_in_another_process_is_seen_after_refresh(tmp_path: Path) -> None:
    path = tmp_path / "signing.json"
    server, cli = KeyRing(FileKeyStore(path)), KeyRing(FileKeyStore(path))
    assert server.current_private().kid == cli.current_private().kid
    new = cli.rotate()
    assert server.find(new.kid) is None
    assert server.refresh() is True
    assert server.current_private().kid == new.kid
    assert server.refresh() is False


def test_rotate_builds_on_what_the_store_holds(tmp_path: Path) -> None:
    path = tmp_path / "signing.json"
    a, b = KeyRing(FileKeyStore(path)), KeyRing(FileKeyStore(path))
    k0 = a.current_private()
    k1 = b.rotate()
    k2 = a.rotate()  # a's cache is stale, but the rotation must not drop b's key
    assert [k.kid for k in a.keys()] == [k0.kid, k1.kid, k2.kid]


def test_corrupt_key_file_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "signing.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        KeyRing(FileKeyStore(path)).current_private()
    path.write_text('{"keys": 3}')
    with pytest.raises(ValueError, match="'keys' list"):
        FileKeyStore(path).load()


def test_missing_file_loads_as_empty(tmp_path: Path) -> None:
    assert FileKeyStore(tmp_path / "absent.json").load() == []


def test_rotating_an_empty_store_just_creates_the_first_key() -> None:
    ring = KeyRing(InMemoryKeyStore())
    new = ring.rotate()
    assert [k.kid for k in ring.keys()] == [new.kid]


def test_in_memory_store_hands_out_copies() -> None:
    store = InMemoryKeyStore()
    store.save([{"kid": "a"}])
    store.load()[0]["kid"] = "changed"
    assert store.load() == [{"kid": "a"}]
