"""Permissions as data: which role may perform which operation, and how far its view reaches.

The README's permission matrix is generated from PERMISSIONS, and a test walks every API field
against it, so an operation without a row here cannot ship.
"""

from __future__ import annotations

import enum

from auth.principal import Principal, Role


class Operation(enum.StrEnum):
    CASE_READ = "case:read"
    CASE_SUBMIT = "case:submit"
    CASE_DISPATCH = "case:dispatch"
    CASE_CLAIM = "case:claim"
    CASE_RETURN = "case:return"
    CASE_ANSWER = "case:answer"
    CASE_ANSWER_DIRECT = "case:answer-direct"
    EXTENSION_REQUEST = "extension:request"
    EXTENSION_DECIDE = "extension:decide"
    CASE_SUPERVISE = "case:supervise"
    SUPERVISION_RESPOND = "supervision:respond"
    CALLBACK_RECORD = "callback:record"
    CASE_CLOSE = "case:close"
    CASE_MERGE = "case:merge"
    CASE_NOTE = "case:note"
    TRAIL_READ = "trail:read"
    TRAIL_VERIFY = "trail:verify"
    READLOG_READ = "readlog:read"
    STATS_READ = "stats:read"
    DEPARTMENT_READ = "department:read"
    DEPARTMENT_MANAGE = "department:manage"
    USER_MANAGE = "user:manage"
    ROUTING_MANAGE = "routing:manage"
    CALENDAR_MANAGE = "calendar:manage"
    CONNECTOR_READ = "connector:read"
    CONNECTOR_MANAGE = "connector:manage"
    EVENTS_SUBSCRIBE = "events:subscribe"
    ESCALATIONS_READ = "escalations:read"
    DUPLICATES_READ = "duplicates:read"
    REPLY_RESEND = "reply:resend"


class Scope(enum.StrEnum):
    """How far a role's permission reaches."""

    ALL = "all"  # every department
    DEPARTMENT = "department"  # only cases where the principal's department leads or co-handles
    LEAD = "lead"  # only cases where the principal's department leads


_R = Role
_O = Operation
_S = Scope

PERMISSIONS: dict[Operation, dict[Role, Scope]] = {
    _O.CASE_READ: {
        _R.DISPATCHER: _S.ALL,
        _R.SUPERVISOR: _S.ALL,
        _R.AUDITOR: _S.ALL,
        _R.ADMIN: _S.ALL,
        _R.HANDLER: _S.DEPARTMENT,
    },
    _O.CASE_SUBMIT: {_R.CONNECTOR: _S.ALL, _R.DISPATCHER: _S.ALL},
    _O.CASE_DISPATCH: {_R.DISPATCHER: _S.ALL},
    _O.CASE_CLAIM: {_R.HANDLER: _S.LEAD},
    _O.CASE_RETURN: {_R.HANDLER: _S.LEAD},
    _O.CASE_ANSWER: {_R.HANDLER: _S.LEAD},
    _O.CASE_ANSWER_DIRECT: {_R.DISPATCHER: _S.ALL},
    _O.EXTENSION_REQUEST: {_R.HANDLER: _S.LEAD},
    _O.EXTENSION_DECIDE: {_R.DISPATCHER: _S.ALL},
    _O.CASE_SUPERVISE: {_R.SUPERVISOR: _S.ALL},
    _O.SUPERVISION_RESPOND: {_R.HANDLER: _S.LEAD},
    _O.CALLBACK_RECORD: {_R.DISPATCHER: _S.ALL},
    _O.CASE_CLOSE: {_R.DISPATCHER: _S.ALL},
    _O.CASE_MERGE: {_R.DISPATCHER: _S.ALL},
    _O.CASE_NOTE: {_R.DISPATCHER: _S.ALL, _R.SUPERVISOR: _S.ALL, _R.HANDLER: _S.DEPARTMENT},
    _O.TRAIL_READ: {
        _R.DISPATCHER: _S.ALL,
        _R.SUPERVISOR: _S.ALL,
        _R.AUDITOR: _S.ALL,
        _R.ADMIN: _S.ALL,
        _R.HANDLER: _S.DEPARTMENT,
    },
    _O.TRAIL_VERIFY: {_R.AUDITOR: _S.ALL, _R.SUPERVISOR: _S.ALL, _R.ADMIN: _S.ALL},
    _O.READLOG_READ: {_R.AUDITOR: _S.ALL},
    _O.STATS_READ: {
        _R.DISPATCHER: _S.ALL,
        _R.SUPERVISOR: _S.ALL,
        _R.AUDITOR: _S.ALL,
        _R.ADMIN: _S.ALL,
        _R.HANDLER: _S.DEPARTMENT,
    },
    _O.DEPARTMENT_READ: {
        _R.DISPATCHER: _S.ALL,
        _R.SUPERVISOR: _S.ALL,
        _R.AUDITOR: _S.ALL,
        _R.ADMIN: _S.ALL,
        _R.HANDLER: _S.ALL,
        _R.CONNECTOR: _S.ALL,
    },
    _O.DEPARTMENT_MANAGE: {_R.ADMIN: _S.ALL},
    _O.USER_MANAGE: {_R.ADMIN: _S.ALL},
    _O.ROUTING_MANAGE: {_R.ADMIN: _S.ALL},
    _O.CALENDAR_MANAGE: {_R.ADMIN: _S.ALL},
    _O.CONNECTOR_READ: {_R.ADMIN: _S.ALL, _R.DISPATCHER: _S.ALL, _R.SUPERVISOR: _S.ALL, _R.AUDITOR: _S.ALL},
    _O.CONNECTOR_MANAGE: {_R.ADMIN: _S.ALL},
    # the centre sees failed and window-closed replies in `connectors` and decides when to send again
    _O.REPLY_RESEND: {_R.ADMIN: _S.ALL, _R.DISPATCHER: _S.ALL},
    _O.EVENTS_SUBSCRIBE: {_R.DISPATCHER: _S.ALL, _R.SUPERVISOR: _S.ALL, _R.AUDITOR: _S.ALL, _R.HANDLER: _S.DEPARTMENT},
    _O.ESCALATIONS_READ: {_R.DISPATCHER: _S.ALL, _R.SUPERVISOR: _S.ALL, _R.AUDITOR: _S.ALL, _R.ADMIN: _S.ALL},
    _O.DUPLICATES_READ: {_R.DISPATCHER: _S.ALL, _R.SUPERVISOR: _S.ALL, _R.AUDITOR: _S.ALL, _R.ADMIN: _S.ALL},
}

# Roles that see citizens' personal data in clear; handlers only on their own department's cases.
UNMASKED_PERSONAL_DATA: dict[Role, Scope] = {Role.DISPATCHER: Scope.ALL, Role.HANDLER: Scope.DEPARTMENT}


def scope_for(principal: Principal, operation: Operation) -> Scope | None:
    """The widest scope any of the principal's roles grants for an operation, or None."""
    if Role.SYSTEM in principal.roles:
        return Scope.ALL
    granted = PERMISSIONS.get(operation, {})
    scopes = [granted[r] for r in principal.roles if r in granted]
    for candidate in (Scope.ALL, Scope.DEPARTMENT, Scope.LEAD):
        if candidate in scopes:
            return candidate
    return None


def allows(principal: Principal, operation: Operation) -> bool:
    """Whether any of the principal's roles may perform the operation at all."""
    return scope_for(principal, operation) is not None


def permission_matrix() -> list[tuple[str, dict[str, str]]]:
    """Rows of (operation, {role: scope}) for docs and tests."""
    return [(op.value, {r.value: s.value for r, s in PERMISSIONS[op].items()}) for op in Operation]


def matrix_markdown() -> str:
    """The permission matrix as the Markdown table the README shows."""
    roles = [r for r in Role if r is not Role.SYSTEM]
    lines = ["| operation | " + " | ".join(r.value for r in roles) + " |", "|---" * (len(roles) + 1) + "|"]
    for op in Operation:
        cells = [PERMISSIONS[op].get(r) for r in roles]
        lines.append(f"| `{op.value}` | " + " | ".join(c.value if c else "—" for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(matrix_markdown())
