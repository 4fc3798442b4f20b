"""How a channel failed, classified once so jobs know whether to refresh, back off, retry or give up.

The classes follow ``05_incremental_sync_and_rate_limits.md``: *auth* (refresh the credential and retry once),
*rate* (back off, honour ``retry_after``), *transient* (bounded retries), *permanent* (dead-letter).
``BadPayload`` and ``BadSignature`` are about what came *in* (a push, a CSV, an item), not the channel's health.

Messages never carry personal data: vendor texts pass through :func:`redact` before they are quoted.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable
from typing import ClassVar

from connectors.base import ReplyReceipt


class ChannelError(Exception):
    """A channel call or an inbound payload failed."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # the channel's own error code (Weibo error_code, WeChat errcode …)
        self.status = status  # the HTTP status, when there was a response
        self.retry_after = retry_after  # seconds the channel asked us to wait, when it said
        # a send whose outcome is unknown (timeout, 5xx after the request left): check before resending
        self.maybe_delivered = maybe_delivered

    def to_receipt(self) -> ReplyReceipt:
        """The failed-delivery receipt for this error (for an outbox that records rather than raises)."""
        return ReplyReceipt(delivered=False, error=f"{type(self).__name__}: {self.message}", retryable=self.retryable)


class AuthExpired(ChannelError):
    """The credential is invalid or expired: refresh it and retry once."""

    retryable = True


class RateLimited(ChannelError):
    """The channel asks us to slow down; ``retry_after`` seconds when it said how long."""

    retryable = True


class Transient(ChannelError):
    """A temporary failure (5xx, timeout, system busy, unparseable answer): retry with backoff."""

    retryable = True


class Permanent(ChannelError):
    """The channel refused for good (4xx, a business error): do not retry."""


class WindowClosed(Permanent):
    """WeChat 45015: the 48-hour customer-service window with this user has closed."""


class BadPayload(ChannelError):
    """Inbound data is malformed (push body, CSV row, API item, AES block)."""


class BadSignature(ChannelError):
    """An inbound request's signature, timestamp or encryption envelope does not verify."""


class WrongAppId(BadSignature):
    """A WeChat safe-mode message decrypted correctly but was addressed to another AppID."""


# --- Retry-After -------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (never negative)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


def seconds_to_next_hour(now: dt.datetime | None = None) -> float:
    """Seconds until the next full hour: Weibo's quotas are hourly windows."""
    current = now or dt.datetime.now(dt.UTC)
    top = current.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    return (top - current).total_seconds()


# --- Redaction ---------------------------------------------------------------------------------------------

_LONG_DIGITS = re.compile(r"\d{6,}")
_OPENID_LIKE = re.compile(r"\b[\w-]{24,}\b")


def redact(text: str, limit: int = 120) -> str:
    """A vendor message safe to quote: long digit runs (phones, uids) and openid-like tokens masked."""
    text = _OPENID_LIKE.sub("***", text)
    text = _LONG_DIGITS.sub("***", text)
    return text[:limit]


# --- Classification by channel code ------------------------------------------------------------------------

WEIBO_AUTH_CODES = frozenset({21327, 21332, 21314, 21315, 21316, 21317, 21319, 21301})
WEIBO_RATE_CODES = frozenset({10022, 10023, 10024})
WEIBO_TRANSIENT_CODES = frozenset({10001, 10002, 10003, 10009, 10010, 10011})
WECHAT_AUTH_CODES = frozenset({40001, 40014, 42001})
WECHAT_RATE_CODES = frozenset({45009, 45011})
WECHAT_WINDOW_CLOSED = 45015


def classify_weibo(
    code: int, message: str, *, status: int | None = None, retry_after: float | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> ChannelError:
    """The error for a Weibo ``{"error_code": …, "error": …}`` body."""
    text = f"weibo error_code {code} ({redact(message)})"
    if code in WEIBO_AUTH_CODES:
        return AuthExpired(text, code=code, status=status)
    if code in WEIBO_RATE_CODES:
        wait = retry_after if retry_after is not None else seconds_to_next_hour(now() if now else None)
        return RateLimited(text, retry_after=wait, code=code, status=status)
    if code in WEIBO_TRANSIENT_CODES or (status is not None and status >= 500):
        return Transient(text, retry_after=retry_after, code=code, status=status)
    return Permanent(text, code=code, status=status)


def classify_wechat(errcode: int, errmsg: str = "", *, status: int | None = None) -> ChannelError:
    """The error for a WeChat ``{"errcode": …, "errmsg": …}`` body (matched on errcode only)."""
    text = f"wechat errcode {errcode} ({redact(errmsg.split(' rid:')[0].split(' hint:')[0])})"
    if errcode in WECHAT_AUTH_CODES:
        return AuthExpired(text, code=errcode, status=status)
    if errcode in WECHAT_RATE_CODES:
        return RateLimited(text, code=errcode, status=status)
    if errcode == WECHAT_WINDOW_CLOSED:
        return WindowClosed(text, code=errcode, status=status)
    if errcode == -1:
        return Transient(text, code=errcode, status=status)
    return Permanent(text, code=errcode, status=status)


def classify_status(
    channel: str, status: int, retry_after_header: str | None = None, *, now: dt.datetime | None = None
) -> ChannelError:
    """The error for a non-2xx HTTP status with no more specific body code."""
    retry_after = parse_retry_after(retry_after_header, now=now)
    text = f"{channel}: HTTP {status}"
    if status == 429:
        return RateLimited(text, retry_after=retry_after, status=status)
    if status == 401:
        return AuthExpired(text, status=status)
    if status >= 500 or status == 408:
        return Transient(text, retry_after=retry_after, status=status)
    return Permanent(text, status=status)
