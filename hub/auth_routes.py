"""The embedded issuer over HTTP: `POST /oauth/token` (client credentials), discovery and the JWKS.

On an external issuer (HUB_OIDC_ISSUER) the hub issues nothing, so these paths are not mounted and answer 404:
clients get their tokens, keys and discovery document from that issuer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.clients import parse_client_credentials
from auth.errors import InvalidClient
from auth.tokens import JWKS_PATH, TOKEN_PATH
from hub.accounts.service import authenticate_client
from hub.security import Security

logger = logging.getLogger(__name__)

DISCOVERY_PATH: Final = "/.well-known/openid-configuration"
GRANT_TYPE: Final = "client_credentials"
MAX_BODY_BYTES: Final = 8 * 1024
MAX_FIELDS: Final = 32
NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_TYPE: Final = "application/x-www-form-urlencoded"


class _BadRequest(Exception):
    """A malformed token request (RFC 6749 `invalid_request`)."""


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="case-hub", charset="UTF-8"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != FORM_TYPE:
        raise _BadRequest(f"send the parameters as {FORM_TYPE}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise _BadRequest("the request body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise _BadRequest("the request body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise _BadRequest("a parameter is repeated")  # RFC 6749 §3.2
        form[name] = value
    return form


async def _token(request: Request, security: Security, sessions: async_sessionmaker[AsyncSession]) -> JSONResponse:
    try:
        form = await _form(request)
    except _BadRequest as exc:
        return _oauth_error(400, "invalid_request", str(exc))
    grant_type = form.get("grant_type")
    if not grant_type:
        return _oauth_error(400, "invalid_request", "the grant_type parameter is required")
    if grant_type != GRANT_TYPE:
        return _oauth_error(400, "unsupported_grant_type", f"only the {GRANT_TYPE} grant is supported")
    authorization = request.headers.get("authorization")
    if authorization and authorization.strip() and "client_secret" in form:
        # RFC 6749 §2.3 / §5.2: more than one client authentication method is a malformed request.
        return _oauth_error(400, "invalid_request", "use one client authentication method, not two")
    try:
        client_id, client_secret = parse_client_credentials(authorization, form)
        async with sessions() as session:
            principal = await authenticate_client(session, client_id=client_id, client_secret=client_secret)
    except InvalidClient as exc:
        logger.info("token request refused: %s", exc.oauth_error)
        return _oauth_error(401, exc.oauth_error, exc.message)
    body = await security.token_response(principal)
    logger.info("token issued to service client %s", principal.client_id)
    return JSONResponse(body, headers=NO_STORE)


def auth_router(security: Security, sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    """The token endpoint, discovery document and JWKS of the embedded issuer (nothing on an external one)."""
    router = APIRouter(tags=["auth"])
    if security.issuer is None:
        return router
    issuer = security.issuer

    @router.post(TOKEN_PATH, summary="Client-credentials token endpoint (RFC 6749 §4.4)")
    async def token(request: Request) -> JSONResponse:
        """Exchange a service client's id and secret (Basic or form) for a bearer token."""
        return await _token(request, security, sessions)

    @router.get(DISCOVERY_PATH, summary="OpenID Provider metadata")
    async def openid_configuration() -> JSONResponse:
        """Where the issuer's keys and token endpoint are, and what it supports."""
        document = await asyncio.to_thread(issuer.openid_configuration, issuer.issuer)
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})

    @router.get(JWKS_PATH, summary="The issuer's public signing keys")
    async def jwks() -> JSONResponse:
        """The public keys (current first) that verify the hub's tokens."""
        return JSONResponse(await security.jwks(), headers={"Cache-Control": "public, max-age=300"})

    return router
