"""Applying auth/'s permission map inside services: role checks that raise the hub's errors."""

from __future__ import annotations

from auth.permission import Operation, Scope, scope_for
from auth.principal import Principal
from hub.errors import NotAllowed


def require(actor: Principal, operation: Operation) -> Scope:
    """The scope the actor holds for an operation, or NotAllowed."""
    scope = scope_for(actor, operation)
    if scope is None:
        raise NotAllowed(f"role {actor.primary_role.value} may not {operation.value}")
    return scope
