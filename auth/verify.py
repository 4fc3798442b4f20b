"""Bearer token → Principal, for tokens of the embedded issuer or of an external OIDC issuer (e.g. Keycloak).

Algorithms are pinned to asymmetric ones and checked against the header before any key is chosen, so
`alg: none` and HMAC tokens (including one keyed with our public key) never reach signature verification.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError

from auth.errors import (
    AlgorithmNotAllowed,
    AuthError,
    InvalidToken,
    NoDepartment,
    NoRole,
    TokenExpired,
    TokenNotYetValid,
    WrongAudience,
    WrongIssuer,
)
from auth.keys import ASYMMETRIC_ALGORITHMS, SIGNING_ALGORITHMS, AsymmetricKey, KeyRing
from auth.principal import Principal, Role
from auth.sources import JwksKey, JwksSource, KeyRingSource, KeySource, parse_jwks
from auth.tokens import TOKEN_ROLES

DEFAULT_ALGORITHMS: Final[tuple[str, ...]] = ("RS256", "ES256")
MAX_TOKEN_LENGTH: Final = 16 * 1024
_ACCEPTED_HEADER_TYPES: Final = frozenset({"jwt", "at+jwt", "application/at+jwt"})


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None if absent, InvalidToken if malformed."""
    if authorization_header is None or not authorization_header.strip():
        return None
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidToken("the Authorization header is not a bearer token")
    return token


def _b64url_json(segment: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidToken() from None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class TokenVerifier:
    """Verifies bearer tokens against one issuer and turns them into Principals."""

    def __init__(
        self,
        source: KeySource,
        *,
        issuer: str,
        audience: str,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: int = 30,
        department_claim: str = "department",
        resource_access_client: str | None = None,
        role_prefix: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        algs = tuple(dict.fromkeys(algorithms))
        bad = [a for a in algs if a not in ASYMMETRIC_ALGORITHMS]
        if bad or not algs:
            raise ValueError(f"only asymmetric algorithms can be allowed, not {bad or 'none'}")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        self.source = source
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algs
        self.leeway = leeway
        self.department_claim = department_claim
        self.resource_access_client = resource_access_client or audience
        self.role_prefix = role_prefix
        self._clock = clock

    @classmethod
    def for_keyring(cls, keyring: KeyRing, *, issuer: str, audience: str, **options: Any) -> TokenVerifier:
        """A verifier for tokens of the embedded issuer."""
        options.setdefault("algorithms", SIGNING_ALGORITHMS)
        return cls(KeyRingSource(keyring), issuer=issuer, audience=audience, **options)

    @classmethod
    def for_oidc(
        cls,
        *,
        issuer: str,
        jwks_url: str,
        audience: str,
        timeout: float = 5.0,
        cache_ttl: float = 300.0,
        min_refetch_interval: float = 10.0,
        **options: Any,
    ) -> TokenVerifier:
        """A verifier for an external OIDC issuer (e.g. a Keycloak realm) whose keys are at `jwks_url`."""
        source = JwksSource(jwks_url, timeout=timeout, cache_ttl=cache_ttl, min_refetch_interval=min_refetch_interval)
        return cls(source, issuer=issuer, audience=audience, **options)

    async def verify(self, token: str) -> Principal:
        """The Principal a bearer token stands for, or an AuthError."""
        kid, alg = self._header(token)
        key = await self.source.get_key(kid, alg)
        return self._principal(self._claims(token, key, alg))

    def verify_sync(self, token: str) -> Principal:
        """Blocking variant of verify (may fetch the JWKS with a blocking HTTP call)."""
        kid, alg = self._header(token)
        key = self.source.get_key_sync(kid, alg)
        return self._principal(self._claims(token, key, alg))

    def _header(self, token: object) -> tuple[str | None, str]:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken()
        header = _b64url_json(parts[0])
        if not isinstance(header, dict):
            raise InvalidToken()
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise AlgorithmNotAllowed()
        typ, kid = header.get("typ"), header.get("kid")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_HEADER_TYPES):
            raise InvalidToken("the token is not an access token")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken()
        return kid, alg

    def _claims(self, token: str, key: AsymmetricKey, alg: str) -> dict[str, Any]:
        try:
            claims = dict(jwt.decode(token, key, algorithms=[alg]).claims)
        except BadSignatureError:
            raise InvalidToken("the token's signature does not verify") from None
        except (JoseError, ValueError, TypeError):
            raise InvalidToken() from None
        # Issuer and audience first: a token meant for someone else is reported as such.
        if claims.get("iss") != self.issuer:
            raise WrongIssuer()
        aud = claims.get("aud")
        if not (aud == self.audience or (isinstance(aud, list) and self.audience in aud)):
            raise WrongAudience()
        for name in ("exp", "sub"):
            if claims.get(name) is None:
                raise InvalidToken(f"the token lacks the required claim {name!r}")
        registry = jwt.JWTClaimsRegistry(now=int(self._clock()), leeway=self.leeway)
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise TokenExpired() from None
        except InvalidClaimError as exc:
            if exc.claim in ("nbf", "iat") and _is_number(claims.get(exc.claim)):
                raise TokenNotYetValid() from None
            raise InvalidToken(f"the token's claim {exc.claim!r} is invalid") from None
        except JoseError:
            raise InvalidToken() from None
        if not claims["sub"]:
            raise InvalidToken("the token's claim 'sub' is invalid")
        typ = claims.get("typ")  # Keycloak marks ID and refresh tokens in the payload
        if typ is not None and (not isinstance(typ, str) or typ.lower() != "bearer"):
            raise InvalidToken("the token is not an access token")
        return claims

    def _role_names(self, claims: Mapping[str, Any]) -> list[object]:
        names: list[object] = []
        direct = claims.get("roles")
        if isinstance(direct, str):
            names.append(direct)
        elif isinstance(direct, list):
            names.extend(direct)
        realm = claims.get("realm_access")
        if isinstance(realm, Mapping) and isinstance(realm.get("roles"), list):
            names.extend(realm["roles"])
        resource = claims.get("resource_access")
        client = resource.get(self.resource_access_client) if isinstance(resource, Mapping) else None
        if isinstance(client, Mapping) and isinstance(client.get("roles"), list):
            names.extend(client["roles"])
        return names

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        by_name = {self.role_prefix + r.value: r for r in TOKEN_ROLES}
        return frozenset(by_name[n] for n in self._role_names(claims) if isinstance(n, str) and n in by_name)

    def _department(self, claims: Mapping[str, Any]) -> str | None:
        value = claims.get(self.department_claim)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]  # a Keycloak attribute mapper marked multivalued
        if isinstance(value, str) and value.strip():
            return value.strip()
        return None

    def _principal(self, claims: dict[str, Any]) -> Principal:
        roles = self._roles(claims)
        if not roles:
            raise NoRole()
        department = self._department(claims)
        if Role.HANDLER in roles and department is None:
            raise NoDepartment()
        client_id = claims.get("client_id")
        return Principal(
            subject=str(claims["sub"]),
            roles=roles,
            department=department,
            client_id=client_id if isinstance(client_id, str) and client_id else None,
            claims=claims,
        )


__all__ = [
    "DEFAULT_ALGORITHMS",
    "AuthError",
    "JwksKey",
    "JwksSource",
    "KeyRingSource",
    "KeySource",
    "TokenVerifier",
    "bearer_token",
    "parse_jwks",
]
