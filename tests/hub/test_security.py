"""Building the hub's issuer and verifier from settings, and signing keys shared through the database."""

from __future__ import annotations

import json
import os
import stat

import pytest
from sqlalchemy import select

from auth.errors import InvalidToken, UnknownKey
from auth.keys import FileKeyStore, KeyRing, generate_signing_key
from auth.principal import Principal, Role
from auth.sources import JwksSource
from hub.accounts.keystore import DatabaseKeyStore
from hub.accounts.models import SigningKey as KeyRow
from hub.errors import SettingsError
from hub.security import KEYS_REFRESH_SECONDS, Security, build_security
from hub.settings import load_settings

AUDITOR = Principal(subject="auditor-1", roles=frozenset({Role.AUDITOR}))


def _replica(db) -> Security:  # type: ignore[no-untyped-def]
    """One API process: its own key store (own engine) on the shared database."""
    security = build_security(db.settings)
    assert security.keyring is not None and isinstance(security.keyring.store, DatabaseKeyStore)
    return security


def _kid(token: str) -> str:
    import base64

    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


async def test_embedded_issuer_by_default(db) -> None:  # type: ignore[no-untyped-def]
    security = _replica(db)
    try:
        assert security.embedded and security.issuer is not None
        assert security.issuer.issuer == db.settings.issuer_url and security.issuer.audience == "case-hub"
        await security.warm_up()
        token = security.issuer.issue(AUDITOR)
        principal = await security.authenticate(f"Bearer {token}")
        assert principal == AUDITOR
    finally:
        security.close()


async def test_authenticate_without_header_or_with_a_bad_one(db) -> None:  # type: ignore[no-untyped-def]
    security = _replica(db)
    try:
        assert await security.authenticate(None) is None
        assert await security.authenticate("  ") is None
        for header in ("Bearer not.a.token", "Basic dXNlcjpwdw==", "Bearer"):
            with pytest.raises(InvalidToken):
                await security.authenticate(header)
    finally:
        security.close()


async def test_key_file_setting_uses_a_file_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys" / "hub-keys.json"
    security = build_security(load_settings(key_file=str(path), issuer_url="https://hub.example/"))
    assert security.keyring is not None and isinstance(security.keyring.store, FileKeyStore)
    assert security.issuer is not None and security.issuer.issuer == "https://hub.example"
    await security.warm_up()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = security.issuer.issue(AUDITOR)
    assert await security.verifier.verify(token) == AUDITOR


async def test_a_corrupt_key_file_is_a_settings_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hub-keys.json"
    path.write_text("{not json", encoding="utf-8")
    security = build_security(load_settings(key_file=str(path)))
    with pytest.raises(SettingsError, match="signing keys"):
        await security.warm_up()


async def test_an_explicit_key_store_wins() -> None:
    from auth.keys import InMemoryKeyStore

    store = InMemoryKeyStore()
    security = build_security(load_settings(), key_store=store)
    assert security.keyring is not None and security.keyring.store is store


def test_external_issuer_needs_both_settings() -> None:
    with pytest.raises(SettingsError) as only_issuer:
        build_security(load_settings(oidc_issuer="https://sso.example/realms/nanhai"))
    assert "HUB_OIDC_JWKS_URL" in only_issuer.value.message and "\n" not in only_issuer.value.message
    with pytest.raises(SettingsError) as only_jwks:
        build_security(load_settings(oidc_jwks_url="https://sso.example/realms/nanhai/certs"))
    assert "HUB_OIDC_ISSUER" in only_jwks.value.message and "\n" not in only_jwks.value.message


def test_external_issuer_urls_must_be_http() -> None:
    with pytest.raises(SettingsError, match="HUB_OIDC_JWKS_URL"):
        build_security(load_settings(oidc_issuer="https://sso.example/realms/nanhai", oidc_jwks_url="certs.json"))


async def test_external_issuer_issues_nothing() -> None:
    settings = load_settings(
        oidc_issuer="https://sso.example/realms/nanhai",
        oidc_jwks_url="https://sso.example/realms/nanhai/protocol/openid-connect/certs",
        oidc_department_claim="dept",
    )
    security = build_security(settings)
    assert not security.embedded and security.issuer is None and security.keyring is None
    verifier = security.verifier
    assert verifier.issuer == "https://sso.example/realms/nanhai" and verifier.audience == "case-hub"
    assert verifier.department_claim == "dept"
    assert isinstance(verifier.source, JwksSource) and verifier.source.jwks_url.endswith("/certs")
    await security.warm_up()  # nothing to load
    security.close()


def test_bad_issuer_settings_are_one_line() -> None:
    with pytest.raises(SettingsError, match="HUB_TOKEN_TTL_SECONDS"):
        build_security(load_settings(token_ttl_seconds=0))
    with pytest.raises(SettingsError, match="HUB_ISSUER_URL"):
        build_security(load_settings(issuer_url="hub.example"))


async def test_replicas_share_keys_and_see_each_others_rotation(db) -> None:  # type: ignore[no-untyped-def]
    a, b = _replica(db), _replica(db)
    assert a.keyring is not None and b.keyring is not None and a.issuer is not None
    try:
        await a.warm_up()
        await b.warm_up()
        first = a.keyring.current_private().kid
        assert b.keyring.current_private().kid == first  # b adopted a's key, made none of its own
        old_token = a.issuer.issue(AUDITOR)
        assert await b.verifier.verify(old_token) == AUDITOR

        rotated = a.keyring.rotate()
        new_token = a.issuer.issue(AUDITOR)
        assert _kid(new_token) == rotated.kid != first
        # b has never seen the new kid: its verifier reloads the shared store once and accepts the token.
        assert await b.verifier.verify(new_token) == AUDITOR
        assert b.keyring.current_private().kid == rotated.kid
        assert await b.verifier.verify(old_token) == AUDITOR  # the previous key stays live
        assert [k["kid"] for k in (await b.jwks())["keys"]] == [rotated.kid, first]
    finally:
        a.close()
        b.close()


async def test_a_replica_publishes_and_signs_with_another_replicas_rotation(db) -> None:  # type: ignore[no-untyped-def]
    now = [1000.0]
    a, b = _replica(db), _replica(db)
    b.clock = lambda: now[0]
    assert a.keyring is not None
    try:
        await a.warm_up()
        await b.warm_up()
        first = a.keyring.current_private().kid
        rotated = a.keyring.rotate()
        now[0] += KEYS_REFRESH_SECONDS - 1
        assert [k["kid"] for k in (await b.jwks())["keys"]] == [first]  # within the window: cached keys
        assert _kid((await b.token_response(AUDITOR))["access_token"]) == first
        now[0] += 2
        assert [k["kid"] for k in (await b.jwks())["keys"]] == [rotated.kid, first]
        token = (await b.token_response(AUDITOR))["access_token"]
        assert _kid(token) == rotated.kid and await a.verifier.verify(token) == AUDITOR
    finally:
        a.close()
        b.close()


async def test_rotation_retires_the_oldest_key_everywhere(db) -> None:  # type: ignore[no-untyped-def]
    a, b = _replica(db), _replica(db)
    assert a.keyring is not None and b.keyring is not None and a.issuer is not None
    try:
        oldest_token = a.issuer.issue(AUDITOR)
        oldest = _kid(oldest_token)
        for _ in range(a.keyring.keep):
            a.keyring.rotate()
        assert oldest not in {k.kid for k in a.keyring.keys()}
        b.keyring.refresh()
        assert oldest not in {k.kid for k in b.keyring.keys()} and len(b.keyring.keys()) == a.keyring.keep
        with pytest.raises(UnknownKey):
            await b.verifier.verify(oldest_token)
    finally:
        a.close()
        b.close()
    async with db.sessions() as session:
        rows = {r.kid: r for r in (await session.execute(select(KeyRow))).scalars()}
    retired = rows[oldest]
    assert retired.retired_at is not None
    assert "d" not in json.loads(retired.private_jwk)  # the private part of a retired key is erased
    assert all(r.retired_at is None and "d" in json.loads(r.private_jwk) for k, r in rows.items() if k != oldest)


def test_store_keeps_creation_order_within_one_second(db) -> None:  # type: ignore[no-untyped-def]
    store = DatabaseKeyStore(db.settings.sync_database_url)
    try:
        keys = [generate_signing_key("ES256", now=1_800_000_000).private_jwk() for _ in range(3)]
        store.save(keys)
        assert [k["kid"] for k in store.load()] == [k["kid"] for k in keys]
        assert store.load() == keys  # the JWKs come back exactly, created_at included
        later = generate_signing_key("ES256", now=1_800_000_000).private_jwk()
        store.save([*keys[1:], later])
        assert [k["kid"] for k in store.load()] == [k["kid"] for k in [*keys[1:], later]]
    finally:
        store.dispose()


def test_concurrent_first_start_keeps_both_keys(db) -> None:  # type: ignore[no-untyped-def]
    one, two = DatabaseKeyStore(db.settings.sync_database_url), DatabaseKeyStore(db.settings.sync_database_url)
    try:
        # Both replicas found the table empty and each saved a key of its own: neither may retire the other's.
        key_one = generate_signing_key(now=1_800_000_000).private_jwk()
        key_two = generate_signing_key(now=1_800_000_001).private_jwk()
        one.save([key_one])
        two.save([key_two])
        assert [k["kid"] for k in one.load()] == [key_one["kid"], key_two["kid"]]
        ring = KeyRing(one)
        assert ring.current_private().kid == key_two["kid"]
    finally:
        one.dispose()
        two.dispose()


def test_concurrent_rotations_keep_both_new_keys(db) -> None:  # type: ignore[no-untyped-def]
    store = DatabaseKeyStore(db.settings.sync_database_url)
    try:
        base = [generate_signing_key(now=1_800_000_000 + i).private_jwk() for i in range(3)]
        store.save(base)
        new_a = generate_signing_key(now=1_800_000_010).private_jwk()
        new_b = generate_signing_key(now=1_800_000_011).private_jwk()
        store.save([*base[1:], new_a])  # replica a rotated
        store.save([*base[1:], new_b])  # replica b rotated from the same stale view
        assert [k["kid"] for k in store.load()] == [base[1]["kid"], base[2]["kid"], new_a["kid"], new_b["kid"]]
    finally:
        store.dispose()


def test_store_rejects_a_key_without_kid(db) -> None:  # type: ignore[no-untyped-def]
    store = DatabaseKeyStore(db.settings.sync_database_url)
    try:
        with pytest.raises(ValueError, match="kid"):
            store.save([{"kty": "EC"}])
        assert store.load() == []
    finally:
        store.dispose()
