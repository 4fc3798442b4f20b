"""Fixtures for the auth tests: an embedded issuer, its verifier, and a forger of hand-made JWS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from auth.keys import InMemoryKeyStore, KeyRing, SigningKey, generate_signing_key
from auth.tokens import TokenIssuer
from auth.verify import KeyRingSource, TokenVerifier

ISSUER = "https://hub.nanhai.example"
AUDIENCE = "case-hub"

Forge = Callable[[dict[str, Any], dict[str, Any], bytes | None], str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


@pytest.fixture
def forge() -> Forge:
    """Build a compact JWS by hand: HMAC-SHA256 over header.payload with `secret`, or no signature."""

    def make(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
        signature = b"" if secret is None else hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(signature)

    return make


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing(InMemoryKeyStore(), alg="ES256")


@pytest.fixture(scope="session")
def _rsa_key() -> SigningKey:
    return generate_signing_key("RS256")  # RSA generation is slow; one key serves the whole session


@pytest.fixture
def rsa_keyring(_rsa_key: SigningKey) -> KeyRing:
    return KeyRing(InMemoryKeyStore([_rsa_key.private_jwk()]), alg="RS256")


@pytest.fixture
def issuer(keyring: KeyRing) -> TokenIssuer:
    return TokenIssuer(keyring, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=600)


@pytest.fixture
def verifier(keyring: KeyRing) -> TokenVerifier:
    return TokenVerifier(KeyRingSource(keyring, min_refresh_interval=0), issuer=ISSUER, audience=AUDIENCE)
