"""Which channels are configured, and their connector configs, from the hub's settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from connectors.base import Connector
from connectors.registry import ConfigError, ConnectorConfig, channel_value, create, names
from hub.errors import SettingsError
from hub.settings import Settings

PULL_CHANNELS = ("hotline", "website", "weibo")  # WeChat only pushes
# credential keys each channel's connector needs, as in connectors.registry
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "hotline": ("secret",),
    "website": ("api_key",),
    "weibo": ("access_token",),
    "wechat": ("appid", "appsecret"),
}


def _values(settings: Settings, name: str) -> dict[str, Any]:
    if name == "hotline":
        return {"base_url": settings.hotline_api_base, "secret": settings.hotline_secret}
    if name == "website":
        return {"base_url": settings.website_api_base, "api_key": settings.website_api_key}
    if name == "weibo":
        return {"base_url": settings.weibo_api_base, "access_token": settings.weibo_access_token,
                "app_key": settings.weibo_app_key, "app_secret": settings.weibo_app_secret,
                "refresh_token": settings.weibo_refresh_token}
    return {"base_url": settings.wechat_api_base, "appid": settings.wechat_appid,
            "appsecret": settings.wechat_appsecret, "token": settings.wechat_token,
            "aes_key": settings.wechat_aes_key}


def channel_name(name: str) -> str:
    """A lowercase channel name from a CLI/URL name or a Channel value; SettingsError when unknown."""
    try:
        channel_value(name)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    return name.lower()


def connector_config(settings: Settings, name: str, options: Mapping[str, Any] | None = None) -> ConnectorConfig:
    """Base URL, credentials and options of one channel, from HUB_<CHANNEL>_* settings."""
    name = channel_name(name)
    config = ConnectorConfig.from_mapping(_values(settings, name))
    return ConnectorConfig(config.base_url, config.credentials, dict(options or {}))


def is_configured(settings: Settings, name: str) -> bool:
    """Whether the channel's base URL and the credentials its connector needs are all set."""
    config = connector_config(settings, name)
    return bool(config.base_url) and all(config.credentials.get(key) for key in _REQUIRED[name.lower()])


def configured_pull_channels(settings: Settings) -> list[str]:
    """The pull channels (hotline, website, weibo) that have settings, in registry order."""
    return [name for name in names() if name in PULL_CHANNELS and is_configured(settings, name)]


class ConnectorPool:
    """One connector per channel over one HTTP client, kept so tokens and refreshes are reused."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient,
                 options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        # httpx logs every URL at INFO, and WeChat puts its appsecret and access token in the query string
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.settings = settings
        self.http = http
        self._options = dict(options or {})
        self._connectors: dict[str, Connector] = {}

    def get(self, name: str) -> Connector:
        """The channel's connector; SettingsError naming the missing HUB_ variable when unconfigured."""
        name = channel_name(name)
        if name not in self._connectors:
            config = connector_config(self.settings, name, self._options.get(name))
            try:
                self._connectors[name] = create(name, config, self.http)
            except ConfigError as exc:
                raise SettingsError(str(exc)) from None
        return self._connectors[name]
