"""Where verification keys come from: the embedded issuer's KeyRing, or an external issuer's JWKS URL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

from auth.errors import JwksUnavailable, UnknownKey
from auth.keys import ASYMMETRIC_ALGORITHMS, PUBLIC_MEMBERS, AsymmetricKey, KeyRing, key_matches_alg

MAX_JWKS_BYTES: Final = 1024 * 1024

JwksFetcher = Callable[[str], Awaitable[Mapping[str, Any]]]
SyncJwksFetcher = Callable[[str], Mapping[str, Any]]


class KeySource(Protocol):
    """Finds the public key for a token's `kid` and (already pinned) `alg`, or raises UnknownKey."""

    async def get_key(self, kid: str | None, alg: str) -> AsymmetricKey:
        """The verification key, refreshing the key set at most once if the kid is unknown."""
        ...

    def get_key_sync(self, kid: str | None, alg: str) -> AsymmetricKey:
        """Blocking variant of get_key."""
        ...


class KeyRingSource:
    """Keys of the embedded issuer; an unknown kid reloads the store (another process may have rotated)."""

    def __init__(
        self,
        keyring: KeyRing,
        *,
        min_refresh_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keyring = keyring
        self.min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._last_refresh: float | None = None

    def _find(self, kid: str | None, alg: str) -> AsymmetricKey | None:
        key = self.keyring.find(kid) if kid else None
        return key.key if key is not None and key_matches_alg(key.key, alg, key.alg) else None

    def _may_refresh(self) -> bool:
        now = self._clock()
        if self._last_refresh is not None and now - self._last_refresh < self.min_refresh_interval:
            return False
        self._last_refresh = now
        return True

    async def get_key(self, kid: str | None, alg: str) -> AsymmetricKey:
        """The embedded issuer's key for kid/alg."""
        key = self._find(kid, alg)
        if key is None and kid and self._may_refresh():
            await asyncio.to_thread(self.keyring.refresh)  # a store may be a file or a database
            key = self._find(kid, alg)
        if key is None:
            raise UnknownKey()
        return key

    def get_key_sync(self, kid: str | None, alg: str) -> AsymmetricKey:
        """Blocking variant of get_key."""
        key = self._find(kid, alg)
        if key is None and kid and self._may_refresh():
            self.keyring.refresh()
            key = self._find(kid, alg)
        if key is None:
            raise UnknownKey()
        return key


@dataclass(frozen=True)
class JwksKey:
    """A public signature key from a JWKS document."""

    kid: str | None
    alg: str | None
    key: AsymmetricKey


def parse_jwks(data: object) -> list[JwksKey]:
    """The usable signature keys of a JWKS document; encryption and unsupported keys are skipped."""
    keys = data.get("keys") if isinstance(data, Mapping) else None
    if not isinstance(keys, list):
        raise JwksUnavailable("the token issuer's key set is malformed")
    out: list[JwksKey] = []
    for item in keys:
        if not isinstance(item, Mapping) or item.get("use", "sig") != "sig":
            continue
        kty, kid, alg = item.get("kty"), item.get("kid"), item.get("alg")
        if kty not in PUBLIC_MEMBERS or not isinstance(kid, str | None) or not isinstance(alg, str | None):
            continue
        # Import the public members only: private members or x5c in a JWKS earn it no extra trust.
        try:
            key = import_key({"kty": kty, **{m: item[m] for m in PUBLIC_MEMBERS[kty]}})
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        if not isinstance(key, RSAKey | ECKey | OKPKey) or (alg is not None and alg not in ASYMMETRIC_ALGORITHMS):
            continue
        out.append(JwksKey(kid, alg, key))
    return out


class JwksSource:
    """Keys of an external OIDC issuer from its JWKS URL: cached, and refetched once on an unknown kid.

    `fetch`/`fetch_sync` take the URL and return the parsed JSON; by default httpx with `timeout`. A failed
    refresh keeps serving the previously fetched keys. Refetches on unknown kids are spaced by
    `min_refetch_interval` so tokens with made-up kids cannot make us hammer the issuer.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        timeout: float = 5.0,
        cache_ttl: float = 300.0,
        min_refetch_interval: float = 10.0,
        fetch: JwksFetcher | None = None,
        fetch_sync: SyncJwksFetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jwks_url = jwks_url
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.min_refetch_interval = min_refetch_interval
        self._fetch = fetch or self._httpx_fetch
        self._fetch_sync = fetch_sync or self._httpx_fetch_sync
        self._clock = clock
        self._entries: list[JwksKey] | None = None
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._generation = 0
        self._async_lock: asyncio.Lock | None = None
        self._sync_lock = threading.Lock()
        self.fetch_count = 0

    async def _httpx_fetch(self, url: str) -> Mapping[str, Any]:
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
        return self._json(response)

    def _httpx_fetch_sync(self, url: str) -> Mapping[str, Any]:
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            response = client.get(url, headers={"Accept": "application/json"})
        return self._json(response)

    @staticmethod
    def _json(response: httpx.Response) -> Mapping[str, Any]:
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("JWKS document too large")
        data = response.json()
        if not isinstance(data, Mapping):
            raise ValueError("JWKS document is not an object")
        return data

    def _store(self, data: object) -> None:
        self._entries = parse_jwks(data)
        self._fetched_at = self._clock()
        self._generation += 1

    def _match(self, kid: str | None, alg: str) -> AsymmetricKey | None:
        candidates = [e for e in self._entries or [] if key_matches_alg(e.key, alg, e.alg)]
        if kid is not None:
            candidates = [e for e in candidates if e.kid == kid]
        elif len(candidates) != 1:
            return None  # without a kid only an unambiguous key will do
        return candidates[0].key if candidates else None

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self.cache_ttl

    def _may_refetch(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self.min_refetch_interval

    def _failed(self) -> None:
        if self._entries is None:
            raise JwksUnavailable()

    async def _refresh(self, seen_generation: int) -> None:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if self._generation != seen_generation:
                return  # another request refreshed while we waited
            self._attempted_at = self._clock()
            self.fetch_count += 1
            try:
                data = await self._fetch(self.jwks_url)
                self._store(data)
            except Exception:  # any failure of a (possibly injected) fetcher: keep the cached keys
                self._failed()

    def _refresh_sync(self, seen_generation: int) -> None:
        with self._sync_lock:
            if self._generation != seen_generation:
                return
            self._attempted_at = self._clock()
            self.fetch_count += 1
            try:
                self._store(self._fetch_sync(self.jwks_url))
            except Exception:  # any failure of a (possibly injected) fetcher: keep the cached keys
                self._failed()

    async def get_key(self, kid: str | None, alg: str) -> AsymmetricKey:
        """The issuer's key for kid/alg, from cache or a fresh fetch."""
        if self._stale() and self._may_refetch():
            await self._refresh(self._generation)
        if self._entries is None:
            raise JwksUnavailable()
        key = self._match(kid, alg)
        if key is None and self._may_refetch():
            await self._refresh(self._generation)
            key = self._match(kid, alg)
        if key is None:
            raise UnknownKey()
        return key

    def get_key_sync(self, kid: str | None, alg: str) -> AsymmetricKey:
        """Blocking variant of get_key."""
        if self._stale() and self._may_refetch():
            self._refresh_sync(self._generation)
        if self._entries is None:
            raise JwksUnavailable()
        key = self._match(kid, alg)
        if key is None and self._may_refetch():
            self._refresh_sync(self._generation)
            key = self._match(kid, alg)
        if key is None:
            raise UnknownKey()
        return key
