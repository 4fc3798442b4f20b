"""The knobs of the background jobs (``HUB_`` prefix, like every other setting)."""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.errors import SettingsError


class JobSettings(BaseSettings):
    """Retry, sweep, schedule and Redis-broker settings; the defaults suit a district's volumes."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    sync_interval_seconds: float = Field(default=180.0, gt=0)  # Weibo asks for 3–5 minutes between polls
    sync_max_pages: int = Field(default=50, ge=1)
    sync_retries: int = Field(default=3, ge=0)
    sync_retry_base_seconds: float = Field(default=1.0, ge=0)
    sync_default_pause_seconds: float = Field(default=60.0, ge=0)  # a rate limit that did not say how long
    # helper processes that score a pulled page's categories while the page before it is stored
    # (unset: one on a machine with two cores or more; 0: score in the syncing process itself)
    suggester_processes: int | None = Field(default=None, ge=0, le=8)

    reply_max_attempts: int = Field(default=6, ge=1)
    reply_retry_base_seconds: float = Field(default=10.0, ge=0)
    reply_retry_cap_seconds: float = Field(default=900.0, ge=0)
    reply_send_lease_seconds: float = Field(default=120.0, gt=0)  # longer than any send takes
    reply_send_timeout_seconds: float = Field(default=30.0, gt=0)

    outbox_sweep_seconds: float = Field(default=30.0, gt=0)
    outbox_sweep_age_seconds: float = Field(default=60.0, ge=0)
    receipt_ttl_days: int = Field(default=7, ge=1)

    worker_threads: int = Field(default=4, ge=1)
    # `hub worker`'s CPU niceness: its work (cases of pending intake, reply delivery, syncs) can wait a second,
    # a WeChat callback cannot, so on a machine shared with `hub serve` the API gets the CPU first (0: as the API)
    worker_nice: int = Field(default=10, ge=0, le=19)
    scheduler_lock_ttl_seconds: float = Field(default=30.0, gt=1)
    redis_namespace: str = "hub"
    # a killed worker's unacknowledged messages go back to the queue once its heartbeat is this old …
    redis_heartbeat_timeout_ms: int = Field(default=15_000, ge=1000)
    # … on the next maintenance run; workers poll ~1/s per queue, so 10% of calls keeps that within seconds
    redis_maintenance_chance: int = Field(default=100_000, ge=1, le=1_000_000)
    redis_dead_message_ttl_ms: int = Field(default=7 * 86_400_000, ge=60_000)


def load_job_settings(**overrides: object) -> JobSettings:
    """Build job settings, turning a bad value into one clear SettingsError line."""
    try:
        return JobSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HUB_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"bad setting {name}: {first['msg']}") from None
