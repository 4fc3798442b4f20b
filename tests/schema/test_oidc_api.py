"""With HUB_OIDC_* set, the API accepts a Keycloak realm's tokens and refuses everything else."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from auth.keys import public_jwk
from hub.app import create_app
from hub.settings import load_settings

REALM_PATH = "/realms/nanhai"


@pytest.fixture(scope="module")
def realm() -> Iterator[tuple[str, RSAKey]]:
    key = RSAKey.generate_key(2048)
    body = json.dumps({"keys": [public_jwk(key, kid="realm-1", alg="RS256")]}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", key
    server.shutdown()


def _token(issuer: str, key: RSAKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": ["case-hub", "account"],
        "sub": str(uuid.uuid4()),
        "typ": "Bearer",
        "exp": now + 300,
        "iat": now,
        "realm_access": {"roles": ["offline_access", "handler"]},
        "department": "NH-ZJ",
        **overrides,
    }
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": "realm-1"}, claims, key, algorithms=["RS256"])


async def test_keycloak_tokens_are_accepted_and_others_refused(district, realm) -> None:  # type: ignore[no-untyped-def]
    base, key = realm
    issuer = base + REALM_PATH
    settings = load_settings(
        database_url=district.url,
        oidc_issuer=issuer,
        oidc_jwks_url=base + REALM_PATH + "/protocol/openid-connect/certs",
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:

        async def me(token: str) -> dict[str, Any]:
            response = await http.post(
                "/graphql", json={"query": "{ me { roles department } }"}, headers={"Authorization": f"Bearer {token}"}
            )
            return dict(response.json())

        assert (await me(_token(issuer, key)))["data"]["me"] == {"roles": ["handler"], "department": "NH-ZJ"}
        for bad in (
            _token("https://other.example/realms/x", key),
            _token(issuer, key, exp=int(time.time()) - 600),
            _token(issuer, key, aud="another-app"),
        ):
            assert (await me(bad))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await http.post("/oauth/token", data={"grant_type": "client_credentials"})).status_code == 404
