"""Service-client secrets and client authentication (client_secret_basic / client_secret_post)."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest

from auth.clients import hash_secret, new_client_secret, parse_client_credentials, verify_secret
from auth.errors import AuthError


def _basic(client_id: str, secret: str, *, encode: bool = True) -> str:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}" if encode else f"{client_id}:{secret}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def test_new_secrets_are_long_and_unique() -> None:
    secrets = {new_client_secret() for _ in range(50)}
    assert len(secrets) == 50 and all(len(s) >= 43 for s in secrets)


def test_hash_and_verify() -> None:
    secret = new_client_secret()
    hashed = hash_secret(secret)
    assert secret not in hashed and hashed.startswith("scrypt$")
    assert verify_secret(secret, hashed)
    assert not verify_secret(secret + "x", hashed)
    assert not verify_secret("", hashed)
    assert hash_secret(secret) != hashed  # salted


def test_empty_secret_cannot_be_hashed() -> None:
    with pytest.raises(ValueError):
        hash_secret("")


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "plain-text-secret",
        "scrypt$16384$8$1$c2FsdA",
        "bcrypt$16384$8$1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$x$8$1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1048576$8$1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",  # would need a gigabyte: refused, not attempted
        "scrypt$16384$8$1$c2FsdA$AA",  # digest too short
        "scrypt$16384$8$1$!!!$AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_malformed_hashes_never_match(hashed: str) -> None:
    assert verify_secret("anything", hashed) is False


def test_client_secret_basic() -> None:
    assert parse_client_credentials(_basic("wechat-connector", "s3cr3t"), {}) == ("wechat-connector", "s3cr3t")


def test_client_secret_basic_is_form_urlencoded_per_rfc_6749() -> None:
    secret = "a:b%c+d é/="
    assert parse_client_credentials(_basic("portal:zjj", secret), {"grant_type": "client_credentials"}) == (
        "portal:zjj",
        secret,
    )


def test_client_secret_basic_accepts_a_matching_client_id_in_the_form() -> None:
    assert parse_client_credentials(_basic("portal", "pw"), {"client_id": "portal"}) == ("portal", "pw")


def test_client_secret_post() -> None:
    form = {"grant_type": "client_credentials", "client_id": "hotline-connector", "client_secret": "pw"}
    assert parse_client_credentials(None, form) == ("hotline-connector", "pw")
    assert parse_client_credentials("", form) == ("hotline-connector", "pw")


@pytest.mark.parametrize(
    ("header", "form"),
    [
        (None, {}),
        (None, {"client_id": "portal"}),
        (None, {"client_secret": "pw"}),
        (None, {"client_id": "", "client_secret": "pw"}),
        ("Bearer abc.def.ghi", {}),
        ("Basic", {}),
        ("Basic !!!not-base64!!!", {}),
        ("Basic " + base64.b64encode(b"no-colon").decode(), {}),
        ("Basic " + base64.b64encode(b"\xff\xfe:pw").decode(), {}),
        (_basic("", "pw"), {}),
        (_basic("portal", ""), {}),
        (_basic("portal", "pw"), {"client_secret": "pw"}),  # two methods at once
        (_basic("portal", "pw"), {"client_id": "someone-else"}),
        (_basic("portal\n", "pw", encode=False), {}),
        (None, {"client_id": "p" * 201, "client_secret": "pw"}),
        (None, {"client_id": "portal", "client_secret": "s" * 513}),
    ],
)
def test_malformed_client_authentication_is_refused(header: str | None, form: dict[str, str]) -> None:
    with pytest.raises(AuthError) as caught:
        parse_client_credentials(header, form)
    assert caught.value.code == "INVALID_CLIENT"
    assert caught.value.oauth_error == "invalid_client" and caught.value.http_status == 401
    assert "pw" not in str(caught.value) and "portal" not in str(caught.value)
