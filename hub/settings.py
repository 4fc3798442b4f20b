"""Settings from the environment (HUB_ prefix) or a .env file."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.errors import SettingsError

DEFAULT_SQLITE_FILE = "hub.sqlite3"


class Settings(BaseSettings):
    """Every knob of the hub; the defaults run the embedded demo with nothing else installed."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    database_url: str = Field(default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_FILE}")
    redis_url: str | None = None
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_audience: str = "case-hub"
    oidc_department_claim: str = "department"
    issuer_url: str = "http://127.0.0.1:8000"
    key_file: str | None = None
    token_ttl_seconds: int = 8 * 3600
    log_json: bool = False
    graphql_introspection: bool = True

    timezone: str = "Asia/Shanghai"
    case_no_prefix: str = "NH"
    workday_start_hour: int = 9
    sign_working_days: int = 1
    urgent_sign_hours: int = 2
    answer_working_days_short: int = 3
    answer_working_days_long: int = 13
    return_window_working_days: int = 2
    max_extension_working_days: int = 10
    auto_dispatch_confidence: float = 0.8
    auto_close_working_days: int = 5
    sign_warning_hours: float = 2.0
    answer_warning_hours: float = 24.0
    pause_deadlines_during_extension: bool = False

    hotline_api_base: str | None = None
    hotline_secret: str | None = None
    website_api_base: str | None = None
    website_api_key: str | None = None
    weibo_api_base: str | None = None
    weibo_app_key: str | None = None
    weibo_app_secret: str | None = None
    weibo_access_token: str | None = None
    weibo_refresh_token: str | None = None
    wechat_api_base: str | None = None
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_appid: str | None = None
    wechat_appsecret: str | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept plain URLs and pick the async driver the hub runs on."""
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.split(":///", 1)[1]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("HUB_DATABASE_URL must be a postgresql:// or sqlite:/// URL")
        return value

    @property
    def is_sqlite(self) -> bool:
        """Whether the hub runs on the embedded SQLite default."""
        return self.database_url.startswith("sqlite")

    @property
    def sync_database_url(self) -> str:
        """The same database for synchronous tools (Alembic)."""
        if self.is_sqlite:
            return "sqlite:///" + self.database_url.split(":///", 1)[1]
        return "postgresql+psycopg://" + self.database_url.split("://", 1)[1]

    def sqlite_path(self) -> Path | None:
        """The SQLite file, when the hub runs on one."""
        if not self.is_sqlite:
            return None
        return Path(self.database_url.split(":///", 1)[1])


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning a bad value into one clear SettingsError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HUB_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"bad setting {name}: {first['msg']}") from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
