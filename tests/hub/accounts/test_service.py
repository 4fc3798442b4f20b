"""Service clients and staff as Principals, on both databases."""

from __future__ import annotations

import pytest
from helpers import DISPATCHER
from sqlalchemy import select, update

from auth.clients import verify_secret
from auth.errors import InvalidClient
from auth.principal import Principal, Role
from hub.accounts.models import ServiceClient, User
from hub.accounts.service import authenticate_client, create_service_client, principal_for_user
from hub.errors import HubError, NotAllowed, NotFound, UnknownDepartment, ValidationFailed

ADMIN = Principal(subject="admin", roles=frozenset({Role.ADMIN}))


async def _create(db, **fields: object) -> tuple[ServiceClient, str]:  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"client_id": "hotline-job", "name": "12345热线接入", "roles": ["connector"]}
    args.update(fields)
    async with db.sessions() as session, session.begin():
        return await create_service_client(session, actor=ADMIN, **args)  # type: ignore[arg-type]


async def test_create_client_stores_only_a_hash_and_authenticates(district) -> None:  # type: ignore[no-untyped-def]
    client, secret = await _create(district)
    assert client.id and len(secret) >= 43
    async with district.sessions() as session:
        stored = (await session.execute(select(ServiceClient))).scalar_one()
        assert stored.roles == ["connector"] and stored.active and stored.department_id is None
        assert secret not in stored.secret_hash and verify_secret(secret, stored.secret_hash)
        principal = await authenticate_client(session, client_id="hotline-job", client_secret=secret)
    assert principal == Principal(
        subject="hotline-job", roles=frozenset({Role.CONNECTOR}), department=None, client_id="hotline-job"
    )


async def test_handler_client_is_bound_to_its_department(district) -> None:  # type: ignore[no-untyped-def]
    _, secret = await _create(district, client_id="zj-portal", roles=["handler", Role.HANDLER], department="NH-ZJ")
    async with district.sessions() as session:
        principal = await authenticate_client(session, client_id="zj-portal", client_secret=secret)
    assert principal.roles == frozenset({Role.HANDLER}) and principal.department == "NH-ZJ"


async def test_only_admins_create_clients(district) -> None:  # type: ignore[no-untyped-def]
    async with district.sessions() as session, session.begin():
        with pytest.raises(NotAllowed):
            await create_service_client(session, actor=DISPATCHER, client_id="x", name="x", roles=["connector"])


@pytest.mark.parametrize(
    ("fields", "error", "words"),
    [
        ({"roles": ["superuser"]}, ValidationFailed, "unknown role"),
        ({"roles": ["system"]}, ValidationFailed, "unknown role"),
        ({"roles": []}, ValidationFailed, "at least one role"),
        ({"client_id": "has space"}, ValidationFailed, "client id"),
        ({"client_id": ""}, ValidationFailed, "client id"),
        ({"client_id": "x" * 129}, ValidationFailed, "client id"),
        ({"name": "  "}, ValidationFailed, "client name"),
        ({"roles": ["handler"]}, ValidationFailed, "department"),
        ({"department": "NH-NOPE"}, UnknownDepartment, "NH-NOPE"),
    ],
)
async def test_create_client_validates(district, fields: dict[str, object], error: type[HubError], words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as exc:
        await _create(district, **fields)
    assert words in exc.value.message
    async with district.sessions() as session:
        assert (await session.execute(select(ServiceClient))).first() is None


async def test_client_ids_are_unique(district) -> None:  # type: ignore[no-untyped-def]
    await _create(district)
    with pytest.raises(ValidationFailed, match="already exists"):
        await _create(district)


async def test_failed_authentication_looks_the_same_for_every_cause(district) -> None:  # type: ignore[no-untyped-def]
    _, secret = await _create(district)
    _, retired_secret = await _create(district, client_id="retired-job")
    async with district.sessions() as session, session.begin():
        await session.execute(
            update(ServiceClient).where(ServiceClient.client_id == "retired-job").values(active=False)
        )
    messages = set()
    for client_id, attempt in [
        ("hotline-job", secret + "x"),  # wrong secret
        ("hotline-job", retired_secret),  # another client's secret
        ("no-such-job", secret),  # unknown client
        ("retired-job", retired_secret),  # inactive client
    ]:
        async with district.sessions() as session:
            with pytest.raises(InvalidClient) as exc:
                await authenticate_client(session, client_id=client_id, client_secret=attempt)
        messages.add((exc.value.code, exc.value.message))
    assert messages == {("INVALID_CLIENT", "client authentication failed")}


async def test_principal_for_user(district) -> None:  # type: ignore[no-untyped-def]
    async with district.sessions() as session:
        handler = await principal_for_user(session, subject="handler-zj")
        admin = await principal_for_user(session, subject="admin")
        with pytest.raises(NotFound) as exc:
            await principal_for_user(session, subject="nobody")
    assert handler == Principal(subject="handler-zj", roles=frozenset({Role.HANDLER}), department="NH-ZJ")
    assert admin.roles == frozenset({Role.ADMIN}) and admin.department is None and admin.client_id is None
    assert "nobody" not in exc.value.message


async def test_inactive_user_is_not_found(district) -> None:  # type: ignore[no-untyped-def]
    async with district.sessions() as session, session.begin():
        await session.execute(update(User).where(User.subject == "auditor").values(active=False))
    async with district.sessions() as session:
        with pytest.raises(NotFound):
            await principal_for_user(session, subject="auditor")
