"""Verifying tokens of the embedded issuer: round trip, rotation and every refusal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt

from auth.errors import ERROR_CODES, AuthError
from auth.keys import FileKeyStore, InMemoryKeyStore, KeyRing
from auth.principal import Role
from auth.tokens import TokenIssuer
from auth.verify import KeyRingSource, TokenVerifier, bearer_token

ISSUER = "https://hub.nanhai.example"  # as in conftest
AUDIENCE = "case-hub"
Forge = Callable[[dict[str, Any], dict[str, Any], bytes | None], str]
HANDLER = {"subject": "zhang.wei", "roles": ["handler"], "department": "zjj"}


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "zhang.wei", "iat": now, "nbf": now,
                              "exp": now + 300, "roles": ["handler"], "department": "zjj"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(keyring: KeyRing, claims: dict[str, Any], **header: Any) -> str:
    key = keyring.current_private()
    return jwt.encode({"alg": key.alg, "kid": key.kid, **header}, claims, key.key, algorithms=[key.alg])


async def _refused(verifier: TokenVerifier, token: str, code: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        await verifier.verify(token)
    assert caught.value.code == code, caught.value
    with pytest.raises(AuthError) as caught_sync:
        verifier.verify_sync(token)
    assert caught_sync.value.code == code
    # Nothing from inside the token may surface in the message.
    for secret in ("zhang.wei", "zjj", "13812345678"):
        assert secret not in str(caught.value) and secret not in repr(caught.value)
    return caught.value


async def test_round_trip_gives_the_principal(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(issuer.issue(HANDLER))
    assert principal.subject == "zhang.wei"
    assert principal.roles == frozenset({Role.HANDLER})
    assert principal.department == "zjj" and principal.client_id is None
    assert principal.claims["iss"] == ISSUER
    assert verifier.verify_sync(issuer.issue(HANDLER)) == principal


async def test_service_client_round_trip(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(issuer.issue({"client_id": "weibo-connector", "roles": ["connector"]}))
    assert principal.client_id == "weibo-connector" and principal.roles == frozenset({Role.CONNECTOR})


async def test_rsa_round_trip(rsa_keyring: KeyRing) -> None:
    token = TokenIssuer(rsa_keyring, ISSUER, AUDIENCE, 60).issue(HANDLER)
    verifier = TokenVerifier.for_keyring(rsa_keyring, issuer=ISSUER, audience=AUDIENCE)
    assert (await verifier.verify(token)).department == "zjj"


async def test_rotation_keeps_old_tokens_valid(
    issuer: TokenIssuer, verifier: TokenVerifier, keyring: KeyRing
) -> None:
    old_kid = keyring.current_private().kid
    old_token = issuer.issue(HANDLER)
    new_kid = keyring.rotate().kid
    new_token = issuer.issue(HANDLER)
    assert {k["kid"] for k in keyring.public_jwks()["keys"]} == {old_kid, new_kid}
    assert (await verifier.verify(old_token)).subject == "zhang.wei"
    assert (await verifier.verify(new_token)).subject == "zhang.wei"


async def test_retired_key_is_refused(issuer: TokenIssuer, verifier: TokenVerifier, keyring: KeyRing) -> None:
    old_token = issuer.issue(HANDLER)
    for _ in range(keyring.keep):
        keyring.rotate()
    await _refused(verifier, old_token, "UNKNOWN_KEY")


async def test_key_rotated_by_another_process_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "signing.json"
    cli_ring, server_ring = KeyRing(FileKeyStore(path)), KeyRing(FileKeyStore(path))
    verifier = TokenVerifier(KeyRingSource(server_ring, min_refresh_interval=0), issuer=ISSUER, audience=AUDIENCE)
    server_ring.current_private()
    cli_ring.rotate()
    token = TokenIssuer(cli_ring, ISSUER, AUDIENCE, 60).issue(HANDLER)
    assert (await verifier.verify(token)).subject == "zhang.wei"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
async def test_alg_none_is_refused(verifier: TokenVerifier, keyring: KeyRing, forge: Forge, alg: str) -> None:
    token = forge({"alg": alg, "kid": keyring.current_private().kid}, _claims(), None)
    await _refused(verifier, token, "ALG_NOT_ALLOWED")


async def test_missing_alg_is_refused(verifier: TokenVerifier, forge: Forge) -> None:
    await _refused(verifier, forge({"typ": "JWT"}, _claims(), None), "ALG_NOT_ALLOWED")


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("secret_form", ["pem", "jwk", "jwks"])
async def test_hmac_signed_with_the_public_key_is_refused(
    rsa_keyring: KeyRing, forge: Forge, alg: str, secret_form: str
) -> None:
    current = rsa_keyring.current_private()
    secret = {
        "pem": current.key.as_pem(private=False),
        "jwk": json.dumps(current.public_jwk()).encode(),
        "jwks": json.dumps(rsa_keyring.public_jwks()).encode(),
    }[secret_form]
    token = forge({"alg": alg, "kid": current.kid, "typ": "JWT"}, _claims(), secret)
    verifier = TokenVerifier.for_keyring(rsa_keyring, issuer=ISSUER, audience=AUDIENCE)
    await _refused(verifier, token, "ALG_NOT_ALLOWED")


@pytest.mark.parametrize("algs", [["HS256"], ["RS256", "HS256"], ["none"], []])
def test_verifier_cannot_be_configured_with_symmetric_or_no_algorithms(keyring: KeyRing, algs: list[str]) -> None:
    with pytest.raises(ValueError):
        TokenVerifier(KeyRingSource(keyring), issuer=ISSUER, audience=AUDIENCE, algorithms=algs)


async def test_algorithm_outside_the_pinned_list_is_refused(keyring: KeyRing, issuer: TokenIssuer) -> None:
    rs_only = TokenVerifier(KeyRingSource(keyring), issuer=ISSUER, audience=AUDIENCE, algorithms=["RS256"])
    await _refused(rs_only, issuer.issue(HANDLER), "ALG_NOT_ALLOWED")


async def test_expired_token_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue(HANDLER, now=time.time() - 700)  # ttl 600, leeway 30
    await _refused(verifier, token, "TOKEN_EXPIRED")


async def test_leeway_tolerates_small_clock_skew(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    assert await verifier.verify(issuer.issue(HANDLER, now=time.time() - 610))  # expired 10 s ago
    assert await verifier.verify(issuer.issue(HANDLER, now=time.time() + 10))  # issued 10 s "ahead"


async def test_token_from_the_future_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    await _refused(verifier, issuer.issue(HANDLER, now=time.time() + 120), "TOKEN_NOT_YET_VALID")


async def test_token_from_another_issuer_is_refused(verifier: TokenVerifier) -> None:
    other = TokenIssuer(KeyRing(InMemoryKeyStore()), "https://evil.example", AUDIENCE, 600)
    await _refused(verifier, other.issue(HANDLER), "UNKNOWN_KEY")


async def test_wrong_issuer_with_our_key_is_refused(keyring: KeyRing, verifier: TokenVerifier) -> None:
    await _refused(verifier, _sign(keyring, _claims(iss="https://evil.example")), "WRONG_ISSUER")
    await _refused(verifier, _sign(keyring, _claims(iss=None)), "WRONG_ISSUER")


async def test_wrong_audience_is_refused(keyring: KeyRing, verifier: TokenVerifier) -> None:
    await _refused(verifier, _sign(keyring, _claims(aud="another-app")), "WRONG_AUDIENCE")
    await _refused(verifier, _sign(keyring, _claims(aud=["another-app", "account"])), "WRONG_AUDIENCE")
    await _refused(verifier, _sign(keyring, _claims(aud=None)), "WRONG_AUDIENCE")


async def test_audience_list_containing_ours_is_accepted(keyring: KeyRing, verifier: TokenVerifier) -> None:
    assert await verifier.verify(_sign(keyring, _claims(aud=["account", AUDIENCE])))


@pytest.mark.parametrize("claim", ["exp", "sub"])
async def test_missing_required_claim_is_refused(keyring: KeyRing, verifier: TokenVerifier, claim: str) -> None:
    await _refused(verifier, _sign(keyring, _claims(**{claim: None})), "INVALID_TOKEN")


@pytest.mark.parametrize("claims", [{"exp": "tomorrow"}, {"nbf": "now"}, {"iat": [1]}, {"sub": 42}])
async def test_malformed_time_and_subject_claims_are_refused(
    keyring: KeyRing, verifier: TokenVerifier, claims: dict[str, Any]
) -> None:
    await _refused(verifier, _sign(keyring, _claims(**claims)), "INVALID_TOKEN")


async def test_unknown_kid_is_refused(keyring: KeyRing, verifier: TokenVerifier) -> None:
    await _refused(verifier, _sign(keyring, _claims(), kid="no-such-key"), "UNKNOWN_KEY")


async def test_token_without_kid_is_refused(keyring: KeyRing, verifier: TokenVerifier) -> None:
    key = keyring.current_private()
    token = jwt.encode({"alg": key.alg}, _claims(), key.key, algorithms=[key.alg])
    await _refused(verifier, token, "UNKNOWN_KEY")


async def test_tampered_payload_is_refused(issuer: TokenIssuer, verifier: TokenVerifier, forge: Forge) -> None:
    header, _, signature = issuer.issue(HANDLER).split(".")
    forged_payload = forge({}, _claims(roles=["admin"]), None).split(".")[1]
    await _refused(verifier, f"{header}.{forged_payload}.{signature}", "INVALID_TOKEN")


@pytest.mark.parametrize(
    "garbage",
    ["", "garbage", "a.b.c", "a.b", "e30.e30.e30.e30.e30", "....", "eyJ.!!!.xx", "x" * 20000],
)
async def test_garbage_is_refused(verifier: TokenVerifier, garbage: str) -> None:
    await _refused(verifier, garbage, "INVALID_TOKEN")


async def test_signed_garbage_payload_is_refused(keyring: KeyRing, verifier: TokenVerifier, forge: Forge) -> None:
    header = forge({"alg": "ES256", "kid": keyring.current_private().kid}, {}, None).split(".")[0]
    await _refused(verifier, f"{header}.bm90IGpzb24.AAAA", "INVALID_TOKEN")


@pytest.mark.parametrize("roles", [[], ["citizen", "superuser"], ["system"], "nobody", None])
async def test_token_without_a_known_role_is_refused(keyring: KeyRing, verifier: TokenVerifier, roles: Any) -> None:
    claims = _claims()
    claims.pop("roles")
    if roles is not None:
        claims["roles"] = roles
    await _refused(verifier, _sign(keyring, claims), "NO_ROLE")


async def test_unknown_roles_are_ignored(keyring: KeyRing, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(_sign(keyring, _claims(roles=["auditor", "root", "system"])))
    assert principal.roles == frozenset({Role.AUDITOR})


async def test_handler_without_department_is_refused(keyring: KeyRing, verifier: TokenVerifier) -> None:
    await _refused(verifier, _sign(keyring, _claims(department=None)), "NO_DEPARTMENT")
    await _refused(verifier, _sign(keyring, _claims(department="  ")), "NO_DEPARTMENT")


async def test_non_access_token_types_are_refused(keyring: KeyRing, verifier: TokenVerifier) -> None:
    await _refused(verifier, _sign(keyring, _claims(), typ="dpop+jwt"), "INVALID_TOKEN")
    await _refused(verifier, _sign(keyring, _claims(typ="Refresh")), "INVALID_TOKEN")


def test_bearer_header_parsing() -> None:
    assert bearer_token(None) is None and bearer_token("  ") is None
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer  abc") == "abc"
    for bad in ("Basic dXNlcjpwdw==", "Bearer", "Bearer a b", "abc.def.ghi"):
        with pytest.raises(AuthError) as caught:
            bearer_token(bad)
        assert caught.value.code == "INVALID_TOKEN"


def test_error_codes_are_stable() -> None:
    assert set(ERROR_CODES) == {
        "UNAUTHENTICATED", "INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_NOT_YET_VALID", "WRONG_ISSUER",
        "WRONG_AUDIENCE", "ALG_NOT_ALLOWED", "UNKNOWN_KEY", "NO_ROLE", "NO_DEPARTMENT", "JWKS_UNAVAILABLE",
        "INVALID_CLIENT",
    }
