"""Who is calling: the hub's token issuer and verifier, built from settings.

By default the hub is its own issuer (keys in the database, or in HUB_KEY_FILE); with HUB_OIDC_ISSUER and
HUB_OIDC_JWKS_URL it only verifies tokens of that external issuer (e.g. a Keycloak realm) and issues none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from auth.keys import FileKeyStore, KeyRing, KeyStore
from auth.principal import Principal
from auth.tokens import TokenIssuer
from auth.verify import TokenVerifier, bearer_token
from hub.accounts.keystore import DatabaseKeyStore
from hub.errors import SettingsError
from hub.settings import Settings

# How long a replica may publish and sign with its cached keys after another replica rotated the shared ones.
KEYS_REFRESH_SECONDS: Final = 30.0


@dataclass
class Security:
    """The issuer (None on an external issuer), the verifier every request goes through, and the keys."""

    issuer: TokenIssuer | None
    verifier: TokenVerifier
    keyring: KeyRing | None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _keys_loaded_at: float | None = field(default=None, init=False, repr=False)

    @property
    def embedded(self) -> bool:
        """Whether the hub issues its own tokens."""
        return self.issuer is not None

    async def authenticate(self, authorization_header: str | None) -> Principal | None:
        """The Principal of an `Authorization: Bearer` header; None without a header, AuthError if invalid."""
        token = bearer_token(authorization_header)
        if token is None:
            return None
        return await self.verifier.verify(token)

    async def warm_up(self) -> None:
        """Load (or create) the signing keys off the event loop; a bad key store becomes a SettingsError."""
        if self.keyring is None:
            return
        keyring = self.keyring
        try:
            await asyncio.to_thread(keyring.keys)
        except ValueError as exc:
            raise SettingsError(f"the signing keys cannot be used: {exc}") from None
        self._keys_loaded_at = self.clock()

    async def _fresh_keyring(self) -> KeyRing:
        """The keyring, reloaded from the shared store at most every KEYS_REFRESH_SECONDS."""
        if self.keyring is None:
            raise RuntimeError("an external issuer keeps its own keys")
        keyring = self.keyring
        now = self.clock()
        if self._keys_loaded_at is None:
            await asyncio.to_thread(keyring.keys)
            self._keys_loaded_at = now
        elif now - self._keys_loaded_at >= KEYS_REFRESH_SECONDS:
            # Another replica may have rotated: publish its new key and stop signing with a retired one.
            await asyncio.to_thread(keyring.refresh)
            self._keys_loaded_at = now
        return keyring

    async def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The embedded issuer's public JWKS (current key first), at most 30 s behind the shared store."""
        keyring = await self._fresh_keyring()
        return await asyncio.to_thread(keyring.public_jwks)

    async def token_response(self, principal: Principal) -> dict[str, Any]:
        """The RFC 6749 §5.1 body with a fresh access token for `principal`, signed with the current key."""
        if self.issuer is None:
            raise RuntimeError("an external issuer issues the tokens")
        await self._fresh_keyring()
        return await asyncio.to_thread(self.issuer.token_response, principal)

    def close(self) -> None:
        """Release the key store's database connections, if it has any."""
        store = self.keyring.store if self.keyring is not None else None
        if isinstance(store, DatabaseKeyStore):
            store.dispose()


def _configured(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"bad setting {name}: must be an http(s) URL")
    return value


def _external(settings: Settings, issuer: str, jwks_url: str) -> Security:
    verifier = TokenVerifier.for_oidc(
        issuer=_http_url("HUB_OIDC_ISSUER", issuer),
        jwks_url=_http_url("HUB_OIDC_JWKS_URL", jwks_url),
        audience=settings.oidc_audience,
        department_claim=settings.oidc_department_claim,
    )
    return Security(issuer=None, verifier=verifier, keyring=None)


def build_security(settings: Settings, *, key_store: KeyStore | None = None) -> Security:
    """The embedded issuer (keys in `key_store`, HUB_KEY_FILE or the database), or an external OIDC issuer.

    Nothing is read here; `Security.warm_up` loads the keys. `key_store` is only used by the embedded issuer.
    """
    oidc_issuer, jwks_url = _configured(settings.oidc_issuer), _configured(settings.oidc_jwks_url)
    if oidc_issuer and not jwks_url:
        raise SettingsError("HUB_OIDC_ISSUER is set but HUB_OIDC_JWKS_URL is not: an external issuer needs both")
    if jwks_url and not oidc_issuer:
        raise SettingsError("HUB_OIDC_JWKS_URL is set but HUB_OIDC_ISSUER is not: an external issuer needs both")
    if not settings.oidc_audience.strip():
        raise SettingsError("bad setting HUB_OIDC_AUDIENCE: must not be empty")
    if oidc_issuer and jwks_url:
        return _external(settings, oidc_issuer, jwks_url)
    issuer_url = _http_url("HUB_ISSUER_URL", settings.issuer_url.strip()).rstrip("/")
    if settings.token_ttl_seconds <= 0:
        raise SettingsError("bad setting HUB_TOKEN_TTL_SECONDS: must be a positive number of seconds")
    if key_store is None:
        key_file = _configured(settings.key_file)
        key_store = FileKeyStore(key_file) if key_file else DatabaseKeyStore(settings.sync_database_url)
    keyring = KeyRing(key_store)
    issuer = TokenIssuer(
        keyring, issuer=issuer_url, audience=settings.oidc_audience, ttl_seconds=settings.token_ttl_seconds
    )
    verifier = TokenVerifier.for_keyring(keyring, issuer=issuer_url, audience=settings.oidc_audience)
    return Security(issuer=issuer, verifier=verifier, keyring=keyring)
