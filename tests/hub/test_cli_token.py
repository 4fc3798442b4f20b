"""`hub token` and `hub client create` as a user runs them: a real process against a real database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auth.keys import FileKeyStore
from auth.principal import Principal, Role
from hub.accounts.service import authenticate_client
from hub.security import build_security
from hub.settings import load_settings


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


async def hub_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `hub ARGS` in a fresh process (off the event loop)."""
    return await asyncio.to_thread(_run, args, env, cwd)


async def _verify(settings, token: str) -> Principal:  # type: ignore[no-untyped-def]
    security = build_security(settings)
    try:
        return await security.verifier.verify(token)
    finally:
        security.close()


async def test_token_for_a_handler_verifies(district, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = await hub_cli(
        ["token", "--role", "handler", "--department", "NH-ZJ"], {"HUB_DATABASE_URL": district.url}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert "\n" not in token and token.count(".") == 2
    principal = await _verify(district.settings, token)
    assert principal == Principal(subject="handler-NH-ZJ", roles=frozenset({Role.HANDLER}), department="NH-ZJ")


async def test_token_with_subject_and_ttl(district, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = ["token", "--role", "auditor", "--subject", "auditor-wang", "--ttl", "120"]
    done = await hub_cli(args, {"HUB_DATABASE_URL": district.url}, tmp_path)
    assert done.returncode == 0, done.stderr
    principal = await _verify(district.settings, done.stdout.strip())
    assert principal.subject == "auditor-wang" and principal.roles == frozenset({Role.AUDITOR})
    assert principal.department is None
    assert int(principal.claims["exp"]) - int(principal.claims["iat"]) == 120  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--role", "handler"], "--department"),
        (["--role", "handler", "--department", "NH-NOPE"], "unknown department 'NH-NOPE'"),
        (["--role", "dispatcher", "--department", "NH-NOPE"], "unknown department 'NH-NOPE'"),
        (["--role", "auditor", "--ttl", "0"], "--ttl"),
    ],
)
async def test_token_refuses_clearly(district, tmp_path: Path, args: list[str], words: str) -> None:  # type: ignore[no-untyped-def]
    done = await hub_cli(["token", *args], {"HUB_DATABASE_URL": district.url}, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and words in done.stderr and "Traceback" not in done.stderr


async def test_token_role_must_be_known(tmp_path: Path) -> None:
    done = await hub_cli(["token", "--role", "system"], {}, tmp_path)
    assert done.returncode == 2 and "invalid choice" in done.stderr


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"HUB_OIDC_ISSUER": "https://sso.example/realms/nanhai"}, "HUB_OIDC_JWKS_URL"),
        ({"HUB_OIDC_JWKS_URL": "https://sso.example/realms/nanhai/certs"}, "HUB_OIDC_ISSUER"),
    ],
)
async def test_half_an_oidc_configuration_fails_clearly(tmp_path: Path, env: dict[str, str], missing: str) -> None:
    env = {**env, "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    done = await hub_cli(["token", "--role", "auditor"], env, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and missing in done.stderr and "Traceback" not in done.stderr


async def test_token_needs_the_embedded_issuer(tmp_path: Path) -> None:
    env = {
        "HUB_OIDC_ISSUER": "https://sso.example/realms/nanhai",
        "HUB_OIDC_JWKS_URL": "https://sso.example/realms/nanhai/certs",
    }
    done = await hub_cli(["token", "--role", "auditor"], env, tmp_path)
    assert done.returncode == 2 and "embedded issuer" in done.stderr and done.stderr.count("\n") == 1


async def test_token_from_a_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "hub-keys.json"
    env = {"HUB_KEY_FILE": str(key_file), "HUB_ISSUER_URL": "https://hub.nanhai.example"}
    done = await hub_cli(["token", "--role", "supervisor"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert FileKeyStore(key_file).load()  # the key was created in the file, no database touched
    settings = load_settings(key_file=str(key_file), issuer_url="https://hub.nanhai.example")
    principal = await _verify(settings, done.stdout.strip())
    assert principal.roles == frozenset({Role.SUPERVISOR}) and principal.claims["iss"] == "https://hub.nanhai.example"


async def test_token_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    done = await hub_cli(["token", "--role", "auditor"], env, tmp_path)
    assert done.returncode == 2 and "hub migrate" in done.stderr and done.stderr.count("\n") == 1


async def test_client_create_prints_a_working_secret(district, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {"HUB_DATABASE_URL": district.url}
    args = ["client", "create", "--client-id", "wechat-job", "--role", "connector", "--name", "微信公众号接入"]
    done = await hub_cli(args, env, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.strip().splitlines())
    assert lines["client_id"] == "wechat-job" and len(lines["client_secret"]) >= 43
    async with district.sessions() as session:
        principal = await authenticate_client(session, client_id="wechat-job", client_secret=lines["client_secret"])
    assert principal.roles == frozenset({Role.CONNECTOR}) and principal.client_id == "wechat-job"

    again = await hub_cli(args, env, tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and lines["client_secret"] not in again.stderr


async def test_client_create_for_a_department(district, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {"HUB_DATABASE_URL": district.url}
    base = ["client", "create", "--client-id", "hb-portal", "--role", "handler"]
    refused = await hub_cli(base, env, tmp_path)
    assert refused.returncode == 2 and "department" in refused.stderr
    unknown = await hub_cli([*base, "--department", "NH-NOPE"], env, tmp_path)
    assert unknown.returncode == 2 and "NH-NOPE" in unknown.stderr
    done = await hub_cli([*base, "--role", "dispatcher", "--department", "NH-HB"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.split("client_secret: ", 1)[1].strip()
    async with district.sessions() as session:
        principal = await authenticate_client(session, client_id="hb-portal", client_secret=secret)
    assert principal.roles == frozenset({Role.HANDLER, Role.DISPATCHER}) and principal.department == "NH-HB"


def test_serve_with_several_workers_needs_redis(tmp_path: Path) -> None:
    env = {"HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}", "PYTHONPATH": str(Path.cwd())}
    done = _run(["serve", "--workers", "2"], env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("hub: --workers above 1 needs HUB_REDIS_URL")
    assert len(done.stderr.strip().splitlines()) == 1
