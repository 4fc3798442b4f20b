"""Error classification per 05_incremental_sync_and_rate_limits.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connectors.errors import (
    AuthExpired,
    Permanent,
    RateLimited,
    Transient,
    WindowClosed,
    classify_status,
    classify_wechat,
    classify_weibo,
    parse_retry_after,
    redact,
)

NOW = dt.datetime(2024, 7, 11, 2, 26, 0, tzinfo=dt.UTC)


def test_retry_after_delta_seconds_and_http_date() -> None:
    assert parse_retry_after("3600") == 3600.0
    assert parse_retry_after("Thu, 11 Jul 2024 02:26:59 GMT", now=NOW) == 59.0
    assert parse_retry_after("Thu, 11 Jul 2024 02:00:00 GMT", now=NOW) == 0.0  # in the past: go now
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("weibo/error_expired_token.json", AuthExpired),
        ("weibo/error_invalid_token.json", AuthExpired),
        ("weibo/error_rate_limit.json", RateLimited),
        ("weibo/error_missing_appkey_v1style.json", Permanent),  # error_code as a string (v1)
    ],
)
def test_weibo_error_bodies(fx: Any, fixture: str, expected: type) -> None:
    body = fx.json(fixture)
    error = classify_weibo(int(body["error_code"]), body["error"], status=400, now=lambda: NOW)
    assert type(error) is expected
    assert error.code == int(body["error_code"])


def test_weibo_rate_limit_waits_for_the_next_hour_unless_told() -> None:
    error = classify_weibo(10023, "User requests out of rate limit!", now=lambda: NOW)
    assert isinstance(error, RateLimited) and error.retry_after == 34 * 60
    told = classify_weibo(10022, "IP requests out of rate limit", retry_after=30.0)
    assert told.retry_after == 30.0
    assert isinstance(classify_weibo(10024, "User requests for (x) out of rate limit"), RateLimited)


@pytest.mark.parametrize(
    ("errcode", "expected"),
    [(40001, AuthExpired), (40014, AuthExpired), (42001, AuthExpired), (45009, RateLimited),
     (45011, RateLimited), (45015, WindowClosed), (-1, Transient), (40003, Permanent)],
)
def test_wechat_errcodes(errcode: int, expected: type) -> None:
    error = classify_wechat(errcode, "some message rid: 665d2a1f-0f0e0d0c-11223344")
    assert type(error) is expected
    assert "rid" not in str(error)


def test_wechat_fixture_bodies(fx: Any) -> None:
    for name, expected in (("error_40001.json", AuthExpired), ("error_45009.json", RateLimited),
                           ("kf_send_45015_response.json", WindowClosed)):
        body = fx.json(f"wechat/{name}")
        assert type(classify_wechat(body["errcode"], body["errmsg"])) is expected


def test_http_status_classes() -> None:
    limited = classify_status("weibo", 429, "12")
    assert isinstance(limited, RateLimited) and limited.retry_after == 12.0
    dated = classify_status("weibo", 429, "Thu, 11 Jul 2024 02:27:00 GMT", now=NOW)
    assert dated.retry_after == 60.0
    assert isinstance(classify_status("x", 503, "5"), Transient)
    assert isinstance(classify_status("x", 500), Transient) and classify_status("x", 500).retryable
    assert isinstance(classify_status("x", 401), AuthExpired)
    assert isinstance(classify_status("x", 404), Permanent) and not classify_status("x", 404).retryable


def test_receipt_from_error() -> None:
    receipt = WindowClosed("wechat errcode 45015").to_receipt()
    assert not receipt.delivered and not receipt.retryable
    assert receipt.error is not None and receipt.error.startswith("WindowClosed")
    assert Transient("x").to_receipt().retryable


def test_redact_masks_personal_data() -> None:
    text = redact("invalid openid oQx1a5Tz3KpL8vN2mR7sW0yB4cDe for 13800005678 uid 7812345601")
    assert "oQx1a5Tz3KpL8vN2mR7sW0yB4cDe" not in text
    assert "13800005678" not in text and "7812345601" not in text
