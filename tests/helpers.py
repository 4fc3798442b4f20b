"""Small builders the tests share."""

from __future__ import annotations

import datetime as dt
import itertools

from auth.principal import Principal, Role
from connectors.base import CaseDraft, CitizenDraft

_ids = itertools.count(1)
CST = dt.timezone(dt.timedelta(hours=8))

DISPATCHER = Principal(subject="dispatcher", roles=frozenset({Role.DISPATCHER}), department="NH-DC")
SUPERVISOR = Principal(subject="supervisor", roles=frozenset({Role.SUPERVISOR}))
AUDITOR = Principal(subject="auditor", roles=frozenset({Role.AUDITOR}))
CONNECTOR = Principal(subject="connector-hotline", roles=frozenset({Role.CONNECTOR}), client_id="hotline")


def handler(department: str) -> Principal:
    """A handler bound to a department."""
    return Principal(subject=f"handler-{department}", roles=frozenset({Role.HANDLER}), department=department)


def draft(
    *,
    title: str = "小区楼下餐馆油烟直排扰民",
    content: str = "桂澜路某小区一楼餐馆每天晚上油烟直排，住户无法开窗，请相关部门尽快处理。",
    channel: str = "HOTLINE",
    external_id: str | None = None,
    phone: str | None = "13800005678",
    kind: str | None = "COMPLAINT",
    urgency: str | None = None,
    region: str | None = None,
    account_id: str | None = None,
) -> CaseDraft:
    """A citizen message as a connector would hand it over."""
    return CaseDraft(
        channel=channel,
        external_id=external_id or f"EXT-{next(_ids):06d}",
        title=title,
        content=content,
        received_at=dt.datetime(2026, 11, 25, 9, 0, tzinfo=CST),
        citizen=CitizenDraft(name="陈女士", phone=phone, account_id=account_id),
        kind=kind,
        urgency=urgency,
        region=region,
        raw={"orderNum": "GD-TEST", "majorContent": content},
    )


def codes(result: object) -> list[str]:
    """The `code` of every error of a GraphQL execution result."""
    errors = getattr(result, "errors", None) or []
    return [str((e.extensions or {}).get("code")) for e in errors]
