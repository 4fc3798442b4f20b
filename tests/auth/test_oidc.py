"""Tokens of an external OIDC issuer shaped like a Keycloak realm, whose JWKS a local HTTP server serves."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from auth.errors import AuthError
from auth.keys import public_jwk
from auth.principal import Role
from auth.verify import JwksSource, TokenVerifier

REALM = "nanhai"
CERTS = f"/realms/{REALM}/protocol/openid-connect/certs"
AUDIENCE = "case-hub"
Forge = Callable[[dict[str, Any], dict[str, Any], bytes | None], str]


@dataclass
class FakeKeycloak:
    """A realm's JWKS endpoint: the test swaps keys in and out and counts the fetches."""

    base_url: str = ""
    keys: list[tuple[str, RSAKey]] = field(default_factory=list)
    enc_key: tuple[str, RSAKey] | None = None
    hits: int = 0
    delay: float = 0.0
    status: int = 200

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    @property
    def jwks_url(self) -> str:
        return self.base_url + CERTS

    def jwks(self) -> dict[str, Any]:
        entries = [{**public_jwk(k, kid=kid, alg="RS256"), "x5c": ["MIIC...not-a-cert"]} for kid, k in self.keys]
        if self.enc_key:  # Keycloak also publishes an encryption key; it must never verify a signature
            kid, k = self.enc_key
            entries.append({**public_jwk(k, kid=kid, alg=None), "use": "enc", "alg": "RSA-OAEP"})
        return {"keys": entries}

    def token(self, key_index: int = -1, *, kid: str | None = None, **overrides: Any) -> str:
        kid_, key = self.keys[key_index]
        now = int(time.time())
        claims: dict[str, Any] = {
            "exp": now + 300, "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer,
            "aud": [AUDIENCE, "account"], "sub": str(uuid.uuid4()), "typ": "Bearer", "azp": "dept-portal",
            "session_state": str(uuid.uuid4()), "scope": "openid profile",
            "realm_access": {"roles": ["default-roles-nanhai", "offline_access", "uma_authorization", "handler"]},
            "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
            "department": "zjj", "preferred_username": "zhang.wei",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or kid_}
        return jwt.encode(header, claims, key, algorithms=["RS256"])


@pytest.fixture(scope="module")
def rsa_keys() -> list[RSAKey]:
    return [RSAKey.generate_key(2048) for _ in range(3)]


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[ThreadingHTTPServer, list[FakeKeycloak]]]:
    current: list[FakeKeycloak] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kc = current[0]
            kc.hits += 1
            if kc.delay:
                time.sleep(kc.delay)
            body = json.dumps(kc.jwks()).encode() if self.path == CERTS else b"{}"
            status = kc.status if self.path == CERTS else 404
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, current
    server.shutdown()
    server.server_close()


@pytest.fixture
def keycloak(_server: tuple[ThreadingHTTPServer, list[FakeKeycloak]], rsa_keys: list[RSAKey]) -> FakeKeycloak:
    server, current = _server
    kc = FakeKeycloak(base_url=f"http://127.0.0.1:{server.server_address[1]}")
    kc.keys = [("rsa-2025-1", rsa_keys[0])]
    kc.enc_key = ("rsa-enc-1", rsa_keys[2])
    current[:] = [kc]
    return kc


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _verifier(kc: FakeKeycloak, clock: Clock | None = None, timeout: float = 2.0, **options: Any) -> TokenVerifier:
    source = JwksSource(kc.jwks_url, timeout=timeout, cache_ttl=300, min_refetch_interval=10,
                        clock=clock or Clock())
    return TokenVerifier(source, issuer=kc.issuer, audience=AUDIENCE, **options)


async def _code(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthError) as caught:
        await verifier.verify(token)
    return caught.value.code


async def test_keycloak_token_becomes_a_principal(keycloak: FakeKeycloak) -> None:
    verifier = _verifier(keycloak)
    principal = await verifier.verify(keycloak.token(sub="kc-user-1"))
    assert principal.subject == "kc-user-1"
    assert principal.roles == frozenset({Role.HANDLER})  # Keycloak's default roles are ignored
    assert principal.department == "zjj"
    assert principal.claims["azp"] == "dept-portal"


async def test_roles_from_client_roles_and_roles_claim(keycloak: FakeKeycloak) -> None:
    verifier = _verifier(keycloak)
    token = keycloak.token(realm_access={"roles": ["offline_access"]},
                           resource_access={AUDIENCE: {"roles": ["auditor"]}, "other": {"roles": ["admin"]}},
                           roles=["supervisor"])
    assert (await verifier.verify(token)).roles == frozenset({Role.AUDITOR, Role.SUPERVISOR})


async def test_role_prefix_and_department_claim_are_configurable(keycloak: FakeKeycloak) -> None:
    verifier = _verifier(keycloak, role_prefix="hub-", department_claim="dept_code")
    token = keycloak.token(realm_access={"roles": ["admin", "hub-handler"]}, department=None, dept_code=["zjj"])
    principal = await verifier.verify(token)
    assert principal.roles == frozenset({Role.HANDLER}) and principal.department == "zjj"


async def test_keycloak_token_without_hub_roles_is_refused(keycloak: FakeKeycloak) -> None:
    token = keycloak.token(realm_access={"roles": ["default-roles-nanhai", "offline_access"]})
    assert await _code(_verifier(keycloak), token) == "NO_ROLE"


async def test_keycloak_id_token_is_refused(keycloak: FakeKeycloak) -> None:
    assert await _code(_verifier(keycloak), keycloak.token(typ="ID", aud=AUDIENCE)) == "INVALID_TOKEN"


async def test_other_realm_and_wrong_audience_are_refused(keycloak: FakeKeycloak) -> None:
    verifier = _verifier(keycloak)
    other_realm = keycloak.token(iss=f"{keycloak.base_url}/realms/master")
    assert await _code(verifier, other_realm) == "WRONG_ISSUER"
    assert await _code(verifier, keycloak.token(aud="account")) == "WRONG_AUDIENCE"
    assert await _code(verifier, keycloak.token(exp=int(time.time()) - 120)) == "TOKEN_EXPIRED"


async def test_hmac_with_the_realm_public_key_is_refused(keycloak: FakeKeycloak, forge: Forge) -> None:
    kid, key = keycloak.keys[0]
    claims = jwt.decode(keycloak.token(), key).claims
    token = forge({"alg": "HS256", "kid": kid}, claims, key.as_pem(private=False))
    assert await _code(_verifier(keycloak), token) == "ALG_NOT_ALLOWED"
    assert await _code(_verifier(keycloak), forge({"alg": "none", "kid": kid}, claims, None)) == "ALG_NOT_ALLOWED"
    assert keycloak.hits == 0  # refused before any key was looked up


async def test_jwks_is_cached(keycloak: FakeKeycloak) -> None:
    verifier = _verifier(keycloak)
    for _ in range(3):
        await verifier.verify(keycloak.token())
    assert keycloak.hits == 1


async def test_key_rotation_at_the_idp_triggers_one_refetch(keycloak: FakeKeycloak, rsa_keys: list[RSAKey]) -> None:
    clock = Clock()
    verifier = _verifier(keycloak, clock)
    await verifier.verify(keycloak.token())
    assert keycloak.hits == 1
    clock.now += 60
    keycloak.keys = [("rsa-2025-1", rsa_keys[0]), ("rsa-2025-2", rsa_keys[1])]  # the realm rotates
    principal = await verifier.verify(keycloak.token(-1))
    assert principal.department == "zjj" and keycloak.hits == 2
    await verifier.verify(keycloak.token(0))  # the old key is still published and cached
    assert keycloak.hits == 2


async def test_unknown_kid_refetches_at_most_once_per_interval(keycloak: FakeKeycloak) -> None:
    clock = Clock()
    verifier = _verifier(keycloak, clock)
    await verifier.verify(keycloak.token())
    clock.now += 60
    assert await _code(verifier, keycloak.token(kid="made-up")) == "UNKNOWN_KEY"
    assert keycloak.hits == 2  # one refetch, then refused
    for n in range(5):
        assert await _code(verifier, keycloak.token(kid=f"made-up-{n}")) == "UNKNOWN_KEY"
    assert keycloak.hits == 2  # no hammering of the IdP


async def test_encryption_key_never_verifies_a_signature(keycloak: FakeKeycloak, rsa_keys: list[RSAKey]) -> None:
    keycloak.keys.append(("rsa-enc-1", rsa_keys[2]))
    token = keycloak.token(-1)  # signed with the encryption key, under its kid
    keycloak.keys.pop()
    assert await _code(_verifier(keycloak), token) == "UNKNOWN_KEY"


async def test_stale_cache_survives_an_idp_outage(keycloak: FakeKeycloak) -> None:
    clock = Clock()
    verifier = _verifier(keycloak, clock)
    await verifier.verify(keycloak.token())
    keycloak.status = 503
    clock.now += 600  # past the cache TTL
    assert (await verifier.verify(keycloak.token())).department == "zjj"
    assert keycloak.hits == 2


async def test_unreachable_jwks_is_reported(keycloak: FakeKeycloak) -> None:
    keycloak.status = 500
    assert await _code(_verifier(keycloak), keycloak.token()) == "JWKS_UNAVAILABLE"


async def test_slow_jwks_times_out(keycloak: FakeKeycloak) -> None:
    keycloak.delay = 1.0
    started = time.monotonic()
    assert await _code(_verifier(keycloak, timeout=0.2), keycloak.token()) == "JWKS_UNAVAILABLE"
    assert time.monotonic() - started < 0.9


async def test_malformed_jwks_is_reported() -> None:
    async def fetch(url: str) -> dict[str, Any]:
        return {"keys": "nope"}

    verifier = TokenVerifier(JwksSource("http://unused", fetch=fetch), issuer="https://idp", audience=AUDIENCE)
    with pytest.raises(AuthError) as caught:
        await verifier.verify("eyJhbGciOiJSUzI1NiIsImtpZCI6ImEifQ.e30.AAAA")
    assert caught.value.code == "JWKS_UNAVAILABLE"


async def test_injected_fetcher(keycloak: FakeKeycloak) -> None:
    calls: list[str] = []

    async def fetch(url: str) -> dict[str, Any]:
        calls.append(url)
        return keycloak.jwks()

    source = JwksSource("https://idp.example/certs", fetch=fetch)
    verifier = TokenVerifier(source, issuer=keycloak.issuer, audience=AUDIENCE)
    assert (await verifier.verify(keycloak.token())).roles == frozenset({Role.HANDLER})
    assert calls == ["https://idp.example/certs"] and keycloak.hits == 0


def test_sync_verify_fetches_with_a_blocking_client(keycloak: FakeKeycloak) -> None:
    verifier = TokenVerifier.for_oidc(issuer=keycloak.issuer, jwks_url=keycloak.jwks_url, audience=AUDIENCE)
    assert verifier.verify_sync(keycloak.token()).department == "zjj"
    assert verifier.verify_sync(keycloak.token()).department == "zjj"
    assert keycloak.hits == 1
