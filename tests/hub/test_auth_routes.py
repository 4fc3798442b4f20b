"""The embedded issuer over real HTTP: /oauth/token (client credentials), discovery and the JWKS."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from auth.principal import Principal, Role
from hub.accounts.models import ServiceClient
from hub.accounts.service import create_service_client
from hub.auth_routes import auth_router
from hub.security import Security, build_security
from hub.settings import load_settings

ADMIN = Principal(subject="admin", roles=frozenset({Role.ADMIN}))
FORM = {"grant_type": "client_credentials"}


@dataclass
class Hub:
    http: httpx.AsyncClient
    security: Security
    secret: str
    db: Any  # the conftest's Db


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.fixture
async def hub(district) -> AsyncIterator[Hub]:  # type: ignore[no-untyped-def]
    async with district.sessions() as session, session.begin():
        _, secret = await create_service_client(
            session, actor=ADMIN, client_id="hotline-job", name="12345热线接入", roles=["connector"]
        )
    security = build_security(district.settings)
    app = FastAPI()
    app.include_router(auth_router(security, district.sessions))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield Hub(http, security, secret, district)
    security.close()


async def _assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["error_description"]
    assert set(body) == {"error", "error_description"}
    assert response.headers["cache-control"] == "no-store"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic ")
    return dict(body)


async def test_client_secret_basic(hub: Hub) -> None:
    response = await hub.http.post("/oauth/token", data=FORM, headers=_basic("hotline-job", hub.secret))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == hub.db.settings.token_ttl_seconds
    principal = await hub.security.verifier.verify(body["access_token"])
    assert principal == Principal(subject="hotline-job", roles=frozenset({Role.CONNECTOR}), client_id="hotline-job")
    claims = _claims(body["access_token"])
    assert claims["iss"] == hub.db.settings.issuer_url and claims["aud"] == "case-hub"


async def test_client_secret_post(hub: Hub) -> None:
    form = {**FORM, "client_id": "hotline-job", "client_secret": hub.secret, "scope": "ignored"}
    response = await hub.http.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    principal = await hub.security.authenticate("Bearer " + response.json()["access_token"])
    assert principal is not None and principal.roles == frozenset({Role.CONNECTOR})


async def test_handler_client_gets_its_department(hub: Hub) -> None:
    async with hub.db.sessions() as session, session.begin():
        _, secret = await create_service_client(
            session, actor=ADMIN, client_id="zj-portal", name="住建局门户", roles=["handler"], department="NH-ZJ"
        )
    response = await hub.http.post("/oauth/token", data=FORM, headers=_basic("zj-portal", secret))
    principal = await hub.security.verifier.verify(response.json()["access_token"])
    assert principal.roles == frozenset({Role.HANDLER}) and principal.department == "NH-ZJ"


async def test_wrong_secret_unknown_and_inactive_clients_look_alike(hub: Hub) -> None:
    async with hub.db.sessions() as session, session.begin():
        _, secret = await create_service_client(
            session, actor=ADMIN, client_id="old-job", name="停用的接入", roles=["connector"]
        )
        await session.execute(update(ServiceClient).where(ServiceClient.client_id == "old-job").values(active=False))
    bodies = []
    for client_id, attempt in [("hotline-job", hub.secret[:-1]), ("nobody", hub.secret), ("old-job", secret)]:
        basic = await hub.http.post("/oauth/token", data=FORM, headers=_basic(client_id, attempt))
        bodies.append(await _assert_oauth_error(basic, 401, "invalid_client"))
        post = await hub.http.post("/oauth/token", data={**FORM, "client_id": client_id, "client_secret": attempt})
        bodies.append(await _assert_oauth_error(post, 401, "invalid_client"))
    assert all(b == bodies[0] for b in bodies)
    assert hub.secret not in json.dumps(bodies)


async def test_no_client_authentication(hub: Hub) -> None:
    await _assert_oauth_error(await hub.http.post("/oauth/token", data=FORM), 401, "invalid_client")
    no_secret = await hub.http.post("/oauth/token", data={**FORM, "client_id": "hotline-job"})
    await _assert_oauth_error(no_secret, 401, "invalid_client")
    bearer = await hub.http.post("/oauth/token", data=FORM, headers={"Authorization": "Bearer abc"})
    await _assert_oauth_error(bearer, 401, "invalid_client")
    garbled = await hub.http.post("/oauth/token", data=FORM, headers={"Authorization": "Basic %%%"})
    await _assert_oauth_error(garbled, 401, "invalid_client")


async def test_missing_grant_type(hub: Hub) -> None:
    response = await hub.http.post("/oauth/token", data={"scope": "x"}, headers=_basic("hotline-job", hub.secret))
    body = await _assert_oauth_error(response, 400, "invalid_request")
    assert "grant_type" in body["error_description"]


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"])
async def test_unsupported_grant(hub: Hub, grant: str) -> None:
    response = await hub.http.post(
        "/oauth/token", data={"grant_type": grant}, headers=_basic("hotline-job", hub.secret)
    )
    await _assert_oauth_error(response, 400, "unsupported_grant_type")


async def test_two_authentication_methods_at_once(hub: Hub) -> None:
    form = {**FORM, "client_id": "hotline-job", "client_secret": hub.secret}
    response = await hub.http.post("/oauth/token", data=form, headers=_basic("hotline-job", hub.secret))
    body = await _assert_oauth_error(response, 400, "invalid_request")
    assert "one client authentication method" in body["error_description"]


async def test_malformed_requests(hub: Hub) -> None:
    auth = _basic("hotline-job", hub.secret)
    as_json = await hub.http.post("/oauth/token", json=FORM, headers=auth)
    await _assert_oauth_error(as_json, 400, "invalid_request")
    repeated = await hub.http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    await _assert_oauth_error(repeated, 400, "invalid_request")
    huge = await hub.http.post("/oauth/token", data={**FORM, "pad": "x" * 20_000}, headers=auth)
    await _assert_oauth_error(huge, 400, "invalid_request")
    not_utf8 = await hub.http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&x=\xff",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    await _assert_oauth_error(not_utf8, 400, "invalid_request")
    get = await hub.http.get("/oauth/token")
    assert get.status_code == 405


async def test_jwks_publishes_public_keys_only(hub: Hub) -> None:
    token = (await hub.http.post("/oauth/token", data=FORM, headers=_basic("hotline-job", hub.secret))).json()
    response = await hub.http.get("/.well-known/jwks.json")
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    header = json.loads(base64.urlsafe_b64decode(token["access_token"].split(".")[0] + "=="))
    assert [k["kid"] for k in keys] == [header["kid"]]
    assert set(keys[0]) == {"kty", "crv", "x", "y", "kid", "alg", "use"} and keys[0]["alg"] == "ES256"


async def test_jwks_follows_a_rotation(hub: Hub) -> None:
    assert hub.security.keyring is not None
    first = (await hub.http.get("/.well-known/jwks.json")).json()["keys"]
    rotated = hub.security.keyring.rotate()
    keys = (await hub.http.get("/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in keys] == [rotated.kid, first[0]["kid"]]


async def test_discovery_document(hub: Hub) -> None:
    response = await hub.http.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.json()
    base = hub.db.settings.issuer_url
    assert doc["issuer"] == base
    assert doc["jwks_uri"] == base + "/.well-known/jwks.json" and doc["token_endpoint"] == base + "/oauth/token"
    assert doc["grant_types_supported"] == ["client_credentials"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]


async def test_external_issuer_mounts_nothing(district) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        database_url=district.url,
        oidc_issuer="https://sso.example/realms/nanhai",
        oidc_jwks_url="https://sso.example/realms/nanhai/protocol/openid-connect/certs",
    )
    app = FastAPI()
    app.include_router(auth_router(build_security(settings), district.sessions))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        assert (await http.post("/oauth/token", data=FORM)).status_code == 404
        assert (await http.get("/.well-known/jwks.json")).status_code == 404
        assert (await http.get("/.well-known/openid-configuration")).status_code == 404
