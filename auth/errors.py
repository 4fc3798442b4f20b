"""Authentication failures with stable codes.

Messages are fixed sentences: they never carry token contents, claim values or personal data, so they are
safe to return to the caller and to log.
"""

from __future__ import annotations


class AuthError(Exception):
    """Base of every authentication failure; `code` is stable and safe to expose."""

    code: str = "UNAUTHENTICATED"
    http_status: int = 401
    oauth_error: str = "invalid_token"  # RFC 6750 / RFC 6749 error name for WWW-Authenticate or /oauth/token
    default_message: str = "authentication failed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidToken(AuthError):
    """Malformed token, bad signature or a missing/invalid required claim."""

    code = "INVALID_TOKEN"
    default_message = "the token is not valid"


class TokenExpired(AuthError):
    """The token's `exp` is in the past (beyond the leeway)."""

    code = "TOKEN_EXPIRED"
    default_message = "the token has expired"


class TokenNotYetValid(AuthError):
    """The token's `nbf` or `iat` lies in the future (beyond the leeway)."""

    code = "TOKEN_NOT_YET_VALID"
    default_message = "the token is not valid yet"


class WrongIssuer(AuthError):
    """The token's `iss` is missing or not the configured issuer."""

    code = "WRONG_ISSUER"
    default_message = "the token was issued by an issuer this service does not trust"


class WrongAudience(AuthError):
    """The token's `aud` is missing or does not contain the configured audience."""

    code = "WRONG_AUDIENCE"
    default_message = "the token is not meant for this service"


class AlgorithmNotAllowed(AuthError):
    """The token's `alg` is not one of the pinned asymmetric algorithms (e.g. `none` or HS256)."""

    code = "ALG_NOT_ALLOWED"
    default_message = "the token's signing algorithm is not allowed"


class UnknownKey(AuthError):
    """No published signing key matches the token's `kid` and algorithm."""

    code = "UNKNOWN_KEY"
    default_message = "the token was signed with an unknown key"


class NoRole(AuthError):
    """The token carries no role this service knows."""

    code = "NO_ROLE"
    http_status = 403
    oauth_error = "insufficient_scope"
    default_message = "the token grants no role in this service"


class NoDepartment(AuthError):
    """A handler token without a department: handlers are always bound to one department."""

    code = "NO_DEPARTMENT"
    http_status = 403
    oauth_error = "insufficient_scope"
    default_message = "a handler token must name a department"


class JwksUnavailable(AuthError):
    """The external issuer's key set could not be fetched or parsed, and no cached keys are usable."""

    code = "JWKS_UNAVAILABLE"
    http_status = 503
    oauth_error = "temporarily_unavailable"
    default_message = "the token issuer's keys are unavailable"


class InvalidClient(AuthError):
    """Client authentication at the token endpoint failed or was malformed."""

    code = "INVALID_CLIENT"
    oauth_error = "invalid_client"
    default_message = "client authentication failed"


ERROR_CODES: tuple[str, ...] = tuple(
    cls.code
    for cls in (
        AuthError,
        InvalidToken,
        TokenExpired,
        TokenNotYetValid,
        WrongIssuer,
        WrongAudience,
        AlgorithmNotAllowed,
        UnknownKey,
        NoRole,
        NoDepartment,
        JwksUnavailable,
        InvalidClient,
    )
)
