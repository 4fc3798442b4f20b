"""Service clients (connector jobs, portal back-ends): secrets and client authentication at /oauth/token.

Secrets are hashed with scrypt; verification is CPU-bound (tens of milliseconds), so an async endpoint
should run `verify_secret` in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Final
from urllib.parse import unquote_plus

from auth.errors import InvalidClient

_SCHEME: Final = "scrypt"
_N: Final = 2**14
_R: Final = 8
_P: Final = 1
_SALT_BYTES: Final = 16
_HASH_BYTES: Final = 32
_MAX_ID_LENGTH: Final = 200
_MAX_SECRET_LENGTH: Final = 512


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=2**26)


def new_client_secret() -> str:
    """A fresh client secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of a client secret, as `scrypt$n$r$p$salt$hash` (base64url)."""
    if not secret:
        raise ValueError("empty client secret")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _N, _R, _P, _HASH_BYTES)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, hashed: str) -> bool:
    """Whether `secret` matches a hash from hash_secret (constant-time; False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, digest = hashed.split("$")
        if scheme != _SCHEME:
            return False
        expected = _unb64(digest)
        # Bounded parameters: a tampered hash must not make us allocate gigabytes.
        n_i, r_i, p_i = int(n), int(r), int(p)
        if not (2 <= n_i <= 2**20 and 1 <= r_i <= 32 and 1 <= p_i <= 16 and 16 <= len(expected) <= 64):
            return False
        actual = _scrypt(secret, _unb64(salt), n_i, r_i, p_i, len(expected))
    except (ValueError, binascii.Error, MemoryError, AttributeError):
        return False
    return hmac.compare_digest(actual, expected)


def _checked(client_id: str, client_secret: str) -> tuple[str, str]:
    if not client_id or not client_secret:
        raise InvalidClient()
    if len(client_id) > _MAX_ID_LENGTH or len(client_secret) > _MAX_SECRET_LENGTH:
        raise InvalidClient()
    if not client_id.isprintable() or not client_secret.isprintable():
        raise InvalidClient()
    return client_id, client_secret


def _from_basic(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClient() from None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise InvalidClient()
    # RFC 6749 §2.3.1: both parts are form-urlencoded before being joined and base64-encoded.
    return unquote_plus(client_id), unquote_plus(client_secret)


def parse_client_credentials(authorization_header: str | None, form: Mapping[str, str]) -> tuple[str, str]:
    """(client_id, client_secret) from client_secret_basic or client_secret_post; InvalidClient otherwise."""
    form_id = form.get("client_id") or None
    form_secret = form.get("client_secret") or None
    header = (authorization_header or "").strip()
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic" or not credentials.strip():
            raise InvalidClient()
        client_id, client_secret = _from_basic(credentials)
        # RFC 6749 §2.3: a client must not use more than one authentication method in a request.
        if form_secret is not None or (form_id is not None and form_id != client_id):
            raise InvalidClient()
        return _checked(client_id, client_secret)
    if form_id is None or form_secret is None:
        raise InvalidClient()
    return _checked(form_id, form_secret)
