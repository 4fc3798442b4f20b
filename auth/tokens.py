"""The embedded issuer: signs access tokens for staff (`hub token`) and service clients (`/oauth/token`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Final

from joserfc import jwt

from auth.keys import KeyRing
from auth.principal import Principal, Role

# Roles a token may carry. SYSTEM is the hub acting on its own behalf, never something a bearer can claim.
TOKEN_ROLES: Final[frozenset[Role]] = frozenset(Role) - {Role.SYSTEM}

JWKS_PATH: Final = "/.well-known/jwks.json"
TOKEN_PATH: Final = "/oauth/token"
TOKEN_TYPE: Final = "at+jwt"  # RFC 9068: an access token is never mistaken for another kind of JWT


def _roles(value: object) -> frozenset[Role]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError("roles must be a collection of role names")
    roles: set[Role] = set()
    for item in value:
        try:
            role = Role(item)
        except ValueError:
            raise ValueError(f"unknown role {item!r}") from None
        if role not in TOKEN_ROLES:
            raise ValueError(f"role {role.value!r} cannot be put in a token")
        roles.add(role)
    if not roles:
        raise ValueError("a token needs at least one role")
    return frozenset(roles)


def _optional_str(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def _principal_from(principal_or_fields: Principal | Mapping[str, Any]) -> Principal:
    if isinstance(principal_or_fields, Principal):
        p = principal_or_fields
        _roles(p.roles)
    else:
        fields = principal_or_fields
        client_id = _optional_str(fields, "client_id")
        subject = _optional_str(fields, "subject") or _optional_str(fields, "sub") or client_id
        if subject is None:
            raise ValueError("a token needs a subject")
        p = Principal(
            subject=subject,
            roles=_roles(fields.get("roles", ())),
            department=_optional_str(fields, "department"),
            client_id=client_id,
        )
    if not p.subject:
        raise ValueError("a token needs a subject")
    if Role.HANDLER in p.roles and not p.department:
        raise ValueError("a handler token needs a department")
    return p


class TokenIssuer:
    """Signs short-lived RFC 9068-style access tokens with the KeyRing's current key."""

    def __init__(self, keyring: KeyRing, issuer: str, audience: str, ttl_seconds: int = 3600) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    def claims_for(
        self,
        principal_or_fields: Principal | Mapping[str, Any],
        *,
        now: float | None = None,
        ttl_seconds: int | None = None,
    ) -> dict[str, Any]:
        """The claims `issue` would sign (iss, aud, sub, iat, nbf, exp, jti, roles, department, client_id)."""
        p = _principal_from(principal_or_fields)
        issued = int(time.time() if now is None else now)
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        if ttl <= 0:
            raise ValueError("ttl_seconds must be positive")
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": p.subject,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl,
            "jti": uuid.uuid4().hex,
            "roles": sorted(r.value for r in p.roles),
        }
        if p.department:
            claims["department"] = p.department
        if p.client_id:
            claims["client_id"] = p.client_id
        return claims

    def issue(
        self,
        principal_or_fields: Principal | Mapping[str, Any],
        *,
        now: float | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """A signed bearer token for a Principal or a mapping with subject/roles/department/client_id."""
        claims = self.claims_for(principal_or_fields, now=now, ttl_seconds=ttl_seconds)
        key = self.keyring.current_private()
        header = {"alg": key.alg, "kid": key.kid, "typ": TOKEN_TYPE}
        return jwt.encode(header, claims, key.key, algorithms=[key.alg])

    def token_response(
        self,
        principal_or_fields: Principal | Mapping[str, Any],
        *,
        now: float | None = None,
        ttl_seconds: int | None = None,
    ) -> dict[str, Any]:
        """The RFC 6749 §5.1 JSON body for a successful /oauth/token request."""
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        token = self.issue(principal_or_fields, now=now, ttl_seconds=ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    def openid_configuration(self, base_url: str) -> dict[str, Any]:
        """The discovery document served at /.well-known/openid-configuration."""
        base = base_url.rstrip("/")
        return {
            "issuer": self.issuer,
            "jwks_uri": base + JWKS_PATH,
            "token_endpoint": base + TOKEN_PATH,
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": self.keyring.algorithms(),
            "subject_types_supported": ["public"],
            "claims_supported": [
                "iss",
                "aud",
                "sub",
                "iat",
                "nbf",
                "exp",
                "jti",
                "roles",
                "department",
                "client_id",
            ],
        }
