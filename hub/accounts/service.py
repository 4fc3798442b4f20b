"""Service clients and staff as Principals: creating clients, authenticating them, resolving users.

Services never commit: the caller owns the transaction.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Iterable
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from auth.clients import hash_secret, new_client_secret, verify_secret
from auth.errors import InvalidClient
from auth.permission import Operation
from auth.principal import Principal, Role
from auth.tokens import TOKEN_ROLES
from hub.accounts import repository
from hub.accounts.models import ServiceClient
from hub.departments import repository as department_repo
from hub.errors import NotFound, UnknownDepartment, ValidationFailed
from hub.permissions import require

CLIENT_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_NAME_LENGTH: Final = 100


@functools.cache
def _decoy_hash() -> str:
    return hash_secret(new_client_secret())


def _secret_matches(secret: str, hashed: str | None) -> bool:
    # Unknown and inactive clients are checked against a decoy, so they cost as much as a wrong secret.
    return verify_secret(secret, hashed or _decoy_hash()) and hashed is not None


def _role_names(roles: Iterable[str | Role]) -> list[str]:
    allowed = {r.value for r in TOKEN_ROLES}
    names = sorted({str(r.value if isinstance(r, Role) else r) for r in roles})
    if not names:
        raise ValidationFailed("a service client needs at least one role")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValidationFailed(f"unknown role {unknown[0]!r}; use one of {', '.join(sorted(allowed))}")
    return names


async def _department_code(session: AsyncSession, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    department = (await department_repo.by_ids(session, ids=[department_id])).get(department_id)
    return department.code if department is not None else None


def _principal(subject: str, role_names: Iterable[str], department: str | None, client_id: str | None) -> Principal:
    allowed = {r.value for r in TOKEN_ROLES}
    roles = frozenset(Role(n) for n in role_names if n in allowed)
    return Principal(subject=subject, roles=roles, department=department, client_id=client_id)


async def create_service_client(
    session: AsyncSession,
    *,
    actor: Principal,
    client_id: str,
    name: str,
    roles: Iterable[str | Role],
    department: str | None = None,
) -> tuple[ServiceClient, str]:
    """Register a service client (admins only); returns it with its plaintext secret, shown only this once."""
    require(actor, Operation.USER_MANAGE)
    if not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ValidationFailed("a client id is 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit")
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise ValidationFailed(f"a client name is 1–{MAX_NAME_LENGTH} printable characters")
    role_names = _role_names(roles)
    if Role.HANDLER.value in role_names and not department:
        raise ValidationFailed("a handler client must be bound to a department")
    department_id = None
    if department:
        found = await department_repo.by_code(session, code=department)
        if found is None:
            raise UnknownDepartment(f"unknown department {department!r}")
        department_id = found.id
    if await repository.client_by_client_id(session, client_id=client_id) is not None:
        raise ValidationFailed(f"a service client {client_id!r} already exists")
    secret = new_client_secret()
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    client = ServiceClient(
        client_id=client_id,
        name=name,
        secret_hash=secret_hash,
        roles=role_names,
        department_id=department_id,
        active=True,
    )
    await repository.add_client(session, client)
    return client, secret


async def authenticate_client(session: AsyncSession, *, client_id: str, client_secret: str) -> Principal:
    """The Principal of an active service client whose secret matches; InvalidClient (one message) otherwise."""
    client = await repository.client_by_client_id(session, client_id=client_id)
    hashed = client.secret_hash if client is not None and client.active else None
    if not await asyncio.to_thread(_secret_matches, client_secret, hashed) or client is None:
        raise InvalidClient()
    department = await _department_code(session, client.department_id)
    principal = _principal(client.client_id, client.roles or [], department, client.client_id)
    if not principal.roles or (Role.HANDLER in principal.roles and department is None):
        raise InvalidClient()  # a misconfigured client cannot be given a usable token
    return principal


async def principal_for_user(session: AsyncSession, *, subject: str) -> Principal:
    """The Principal of an active staff user; NotFound if there is none with this subject."""
    user = await repository.user_by_subject(session, subject=subject)
    if user is None or not user.active:
        raise NotFound("no active user with this subject")
    department = await _department_code(session, user.department_id)
    principal = _principal(user.subject, user.roles or [], department, None)
    if not principal.roles:
        raise NotFound("no active user with this subject")  # a user without a known role cannot act
    return principal
