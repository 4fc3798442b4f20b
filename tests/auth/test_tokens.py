"""The embedded issuer: claims, header, refusals and the discovery document."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from auth.keys import KeyRing
from auth.principal import Principal, Role
from auth.tokens import TokenIssuer

NOW = 1_750_000_000
ISSUER = "https://hub.nanhai.example"  # as in conftest
AUDIENCE = "case-hub"


def _part(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def test_staff_token_claims(issuer: TokenIssuer) -> None:
    token = issuer.issue(
        {"subject": "li.na", "roles": ["handler", "auditor"], "department": "zjj"}, now=NOW
    )
    claims = _part(token, 1)
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE and claims["sub"] == "li.na"
    assert claims["iat"] == claims["nbf"] == NOW and claims["exp"] == NOW + 600
    assert claims["roles"] == ["auditor", "handler"]
    assert claims["department"] == "zjj"
    assert "client_id" not in claims
    assert len(claims["jti"]) >= 16


def test_service_client_token_claims(issuer: TokenIssuer) -> None:
    claims = _part(issuer.issue({"client_id": "wechat-connector", "roles": [Role.CONNECTOR]}, now=NOW), 1)
    assert claims["sub"] == "wechat-connector" and claims["client_id"] == "wechat-connector"
    assert claims["roles"] == ["connector"] and "department" not in claims


def test_issue_from_a_principal(issuer: TokenIssuer) -> None:
    p = Principal(subject="wang", roles=frozenset({Role.DISPATCHER}))
    claims = _part(issuer.issue(p, now=NOW), 1)
    assert claims["sub"] == "wang" and claims["roles"] == ["dispatcher"] and "department" not in claims


def test_header_names_current_key(issuer: TokenIssuer, keyring: KeyRing) -> None:
    header = _part(issuer.issue({"subject": "a", "roles": ["admin"]}), 0)
    current = keyring.current_private()
    assert header == {"alg": "ES256", "kid": current.kid, "typ": "at+jwt"}
    new = keyring.rotate()
    assert _part(issuer.issue({"subject": "a", "roles": ["admin"]}), 0)["kid"] == new.kid


def test_rsa_keyring_signs_rs256(rsa_keyring: KeyRing) -> None:
    token = TokenIssuer(rsa_keyring, ISSUER, AUDIENCE, 60).issue({"subject": "a", "roles": ["admin"]})
    assert _part(token, 0)["alg"] == "RS256"


def test_every_token_has_its_own_jti(issuer: TokenIssuer) -> None:
    fields = {"subject": "a", "roles": ["admin"]}
    assert _part(issuer.issue(fields, now=NOW), 1)["jti"] != _part(issuer.issue(fields, now=NOW), 1)["jti"]


def test_ttl_can_be_overridden_per_token(issuer: TokenIssuer) -> None:
    claims = _part(issuer.issue({"subject": "a", "roles": ["admin"]}, now=NOW, ttl_seconds=30), 1)
    assert claims["exp"] == NOW + 30


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "a", "roles": []},
        {"subject": "a"},
        {"subject": "a", "roles": ["citizen"]},
        {"subject": "a", "roles": ["system"]},  # the hub itself is never a bearer
        {"subject": "a", "roles": "admin"},  # a bare string is not a collection of roles
        {"subject": "a", "roles": ["handler"]},  # handlers are bound to a department
        {"roles": ["admin"]},
        {"subject": "", "roles": ["admin"]},
        {"subject": "a", "roles": ["admin"], "department": 7},
    ],
)
def test_issuer_refuses_bad_fields(issuer: TokenIssuer, fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        issuer.issue(fields)


def test_issuer_refuses_system_principal(issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError):
        issuer.issue(Principal(subject="system", roles=frozenset({Role.SYSTEM})))


def test_issuer_settings_are_checked(keyring: KeyRing) -> None:
    with pytest.raises(ValueError):
        TokenIssuer(keyring, ISSUER, AUDIENCE, 0)
    with pytest.raises(ValueError):
        TokenIssuer(keyring, "", AUDIENCE, 60)


def test_token_response(issuer: TokenIssuer) -> None:
    body = issuer.token_response({"client_id": "portal", "roles": ["connector"]})
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert _part(body["access_token"], 1)["client_id"] == "portal"


def test_openid_configuration(issuer: TokenIssuer) -> None:
    doc = issuer.openid_configuration("https://hub.nanhai.example/")
    assert doc["issuer"] == ISSUER
    assert doc["jwks_uri"] == "https://hub.nanhai.example/.well-known/jwks.json"
    assert doc["token_endpoint"] == "https://hub.nanhai.example/oauth/token"
    assert doc["grant_types_supported"] == ["client_credentials"]
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
