"""Who is acting: the subject of a verified token, or the system itself."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"
    CONNECTOR = "connector"
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    """An authenticated actor: subject, roles and (for handlers) the department code it is bound to."""

    subject: str
    roles: frozenset[Role]
    department: str | None = None
    client_id: str | None = None
    claims: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def primary_role(self) -> Role:
        """The role recorded on the trail: the most privileged one this principal holds."""
        for role in ROLE_PRECEDENCE:
            if role in self.roles:
                return role
        raise ValueError("principal without a role")

    def has(self, role: Role) -> bool:
        """Whether the principal holds a role."""
        return role in self.roles


ROLE_PRECEDENCE = (
    Role.SYSTEM,
    Role.ADMIN,
    Role.DISPATCHER,
    Role.SUPERVISOR,
    Role.AUDITOR,
    Role.HANDLER,
    Role.CONNECTOR,
)

SYSTEM = Principal(subject="system", roles=frozenset({Role.SYSTEM}))
