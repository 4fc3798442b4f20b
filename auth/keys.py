"""Signing keys of the embedded issuer: generation, storage, rotation and the published JWKS.

A store holds private JWKs in creation order (the last one is current), each with the extra member
`created_at` (unix seconds). Rotation appends a new current key and keeps the last `keep` keys, so tokens
signed with a previous key stay verifiable until that key is retired; rotate less often than
`keep - 1` times per token lifetime.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, TypeAlias

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

AsymmetricKey: TypeAlias = RSAKey | ECKey | OKPKey

# Asymmetric JWS algorithms → (JWK kty, required curve or None). HMAC and `none` are absent on purpose.
ASYMMETRIC_ALGORITHMS: Final[dict[str, tuple[str, str | None]]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", "Ed25519"),
}

# Algorithms the embedded issuer can generate keys for.
SIGNING_ALGORITHMS: Final[tuple[str, ...]] = ("ES256", "RS256")

# Only these members of a JWK are ever published; everything else (d, p, q, dp, dq, qi, created_at …) is not.
PUBLIC_MEMBERS: Final[dict[str, tuple[str, ...]]] = {
    "RSA": ("n", "e"),
    "EC": ("crv", "x", "y"),
    "OKP": ("crv", "x"),
}


def key_matches_alg(key: object, alg: str, jwk_alg: str | None = None) -> bool:
    """Whether a key can verify signatures of the given asymmetric algorithm."""
    expected = ASYMMETRIC_ALGORITHMS.get(alg)
    if expected is None or (jwk_alg is not None and jwk_alg != alg):
        return False
    kty, crv = expected
    if kty == "RSA":
        return isinstance(key, RSAKey)
    if kty == "EC":
        return isinstance(key, ECKey) and key.curve_name == crv
    return isinstance(key, OKPKey) and key.curve_name == crv


def public_jwk(key: AsymmetricKey, *, kid: str | None, alg: str | None) -> dict[str, Any]:
    """The public JWK of a key, built from a whitelist of public members."""
    full = key.as_dict(private=False)
    out: dict[str, Any] = {"kty": full["kty"]}
    for member in PUBLIC_MEMBERS[str(full["kty"])]:
        out[member] = full[member]
    if kid:
        out["kid"] = kid
    if alg:
        out["alg"] = alg
    out["use"] = "sig"
    return out


@dataclass(frozen=True)
class SigningKey:
    """A private signing key of the embedded issuer."""

    kid: str
    alg: str
    created_at: int
    key: AsymmetricKey

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK (kty, kid, alg, use and the public members only)."""
        return public_jwk(self.key, kid=self.kid, alg=self.alg)

    def private_jwk(self) -> dict[str, Any]:
        """The private JWK with `created_at`, as kept by a KeyStore."""
        data: dict[str, Any] = dict(self.key.as_dict(private=True))
        data.update(kid=self.kid, alg=self.alg, use="sig", created_at=self.created_at)
        return data

    @classmethod
    def from_jwk(cls, data: dict[str, Any]) -> SigningKey:
        """Parse a stored private JWK; raises ValueError on anything unusable."""
        kid, alg, created_at = data.get("kid"), data.get("alg"), data.get("created_at", 0)
        if not isinstance(kid, str) or not kid:
            raise ValueError("stored signing key has no kid")
        if alg not in SIGNING_ALGORITHMS:
            raise ValueError(f"stored signing key {kid} has an unsupported alg")
        if not isinstance(created_at, int):
            raise ValueError(f"stored signing key {kid} has an invalid created_at")
        jwk_members = {k: v for k, v in data.items() if k != "created_at"}
        try:
            key = import_key(jwk_members)
        except (JoseError, ValueError, TypeError, KeyError):
            raise ValueError(f"stored signing key {kid} cannot be parsed") from None
        if not isinstance(key, RSAKey | ECKey) or not key.is_private or not key_matches_alg(key, alg):
            raise ValueError(f"stored signing key {kid} is not a private {alg} key")
        return cls(kid=kid, alg=alg, created_at=created_at, key=key)


def generate_signing_key(alg: str = "ES256", *, now: float | None = None) -> SigningKey:
    """A fresh private key for `alg` (ES256: P-256; RS256: RSA 2048), its kid the RFC 7638 thumbprint."""
    key: RSAKey | ECKey
    if alg == "ES256":
        key = ECKey.generate_key("P-256")
    elif alg == "RS256":
        key = RSAKey.generate_key(2048)
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}; use one of {', '.join(SIGNING_ALGORITHMS)}")
    created = int(time.time() if now is None else now)
    return SigningKey(kid=key.thumbprint(), alg=alg, created_at=created, key=key)


class KeyStore(Protocol):
    """Where the embedded issuer's private keys live (a file, memory, later a database table)."""

    def load(self) -> list[dict[str, Any]]:
        """All stored private JWKs (with `created_at`) in creation order; empty if none yet."""
        ...

    def save(self, keys: list[dict[str, Any]]) -> None:
        """Replace the stored keys with `keys` (creation order, last is current)."""
        ...


class InMemoryKeyStore:
    """A KeyStore for tests and single-process demos."""

    def __init__(self, keys: list[dict[str, Any]] | None = None) -> None:
        self._keys = copy.deepcopy(keys or [])

    def load(self) -> list[dict[str, Any]]:
        """All stored keys (a copy)."""
        return copy.deepcopy(self._keys)

    def save(self, keys: list[dict[str, Any]]) -> None:
        """Replace the stored keys."""
        self._keys = copy.deepcopy(keys)


class FileKeyStore:
    """A KeyStore in a JSON file (`{"keys": [...]}`) readable by its owner only (0600), written atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> list[dict[str, Any]]:
        """All stored keys; empty if the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"key file {self.path} is not valid JSON") from None
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            raise ValueError(f"key file {self.path} has no 'keys' list")
        return keys

    def save(self, keys: list[dict[str, Any]]) -> None:
        """Write all keys to a 0600 temporary file next to the target, then rename it into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"keys": keys}, fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class KeyRing:
    """The embedded issuer's keys: loads (or creates) them from a KeyStore, rotates and publishes them."""

    def __init__(
        self,
        store: KeyStore,
        *,
        alg: str = "ES256",
        keep: int = 3,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if alg not in SIGNING_ALGORITHMS:
            raise ValueError(
                f"unsupported signing algorithm {alg!r}; use one of {', '.join(SIGNING_ALGORITHMS)}"
            )
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.store = store
        self.alg = alg
        self.keep = keep
        self._clock = clock
        self._keys: list[SigningKey] | None = None
        self._lock = threading.RLock()

    def _read_store(self) -> list[SigningKey]:
        return [SigningKey.from_jwk(item) for item in self.store.load()]

    def _loaded(self) -> list[SigningKey]:
        with self._lock:
            if self._keys is None:
                keys = self._read_store()
                if not keys:
                    self.store.save([generate_signing_key(self.alg, now=self._clock()).private_jwk()])
                    # Read back so that, if another process created a key at the same moment, we adopt
                    # whatever the store kept rather than a key nobody else knows.
                    keys = self._read_store()
                    if not keys:
                        raise RuntimeError("the key store did not keep the new signing key")
                self._keys = keys
            return self._keys

    def refresh(self) -> bool:
        """Reload the keys from the store (another process may have rotated); True if the kids changed."""
        with self._lock:
            before = [k.kid for k in self._keys or []]
            self._keys = None
            return [k.kid for k in self._loaded()] != before

    def rotate(self) -> SigningKey:
        """Add a new current key, keep the previous ones up to `keep` in total, and return the new key."""
        with self._lock:
            keys = self._read_store()
            new = generate_signing_key(self.alg, now=self._clock())
            keys = [*keys, new][-self.keep :]
            self.store.save([k.private_jwk() for k in keys])
            self._keys = keys
            return new

    def keys(self) -> list[SigningKey]:
        """All live keys in creation order (the last is current)."""
        return list(self._loaded())

    def current_private(self) -> SigningKey:
        """The key new tokens are signed with."""
        return self._loaded()[-1]

    def find(self, kid: str) -> SigningKey | None:
        """The live key with this kid, if any."""
        return next((k for k in self._loaded() if k.kid == kid), None)

    def algorithms(self) -> list[str]:
        """The signing algorithms of the live keys, current first, without repeats."""
        return list(dict.fromkeys(k.alg for k in reversed(self._loaded())))

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS to publish at /.well-known/jwks.json: public members only, current key first."""
        return {"keys": [k.public_jwk() for k in reversed(self._loaded())]}
