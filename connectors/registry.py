"""The explicit list of channels: lowercase CLI/URL name → factory building its connector.

A factory takes a :class:`ConnectorConfig` (or a plain mapping with ``base_url`` and the credential keys)
and an ``httpx.AsyncClient``. Credential keys are the settings' names without the ``HUB_<CHANNEL>_`` prefix:

=========  ===========================================================================================
hotline    ``secret``
website    ``api_key``
weibo      ``access_token`` (also ``app_key``, ``app_secret``, optional ``refresh_token``, ``rip``)
wechat     ``appid``, ``appsecret`` (the callback side also uses ``token`` and ``aes_key``)
=========  ===========================================================================================

Anything else in ``options`` is passed to the connector's constructor (``page_size``, ``count``, ``clock`` …).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.base import Connector
from connectors.hotline import HotlineConnector
from connectors.website import WebsiteConnector
from connectors.wechat import WeChatCallback, WeChatConnector
from connectors.weibo import WeiboConnector


class ConfigError(ValueError):
    """A channel is missing a setting; the message names the environment variable."""


@dataclass(frozen=True)
class ConnectorConfig:
    """Base URL, credentials and constructor options for one channel."""

    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ConnectorConfig:
        """Split a flat mapping: ``base_url``, ``options``, every other non-empty key a credential."""
        credentials = {key: str(value) for key, value in values.items()
                       if key not in {"base_url", "options"} and value not in (None, "")}
        return cls(base_url=str(values.get("base_url") or ""), credentials=credentials,
                   options=dict(values.get("options") or {}))


Factory = Callable[[ConnectorConfig, httpx.AsyncClient], Connector]


def _need(name: str, config: ConnectorConfig, *keys: str) -> list[str]:
    values = []
    if not config.base_url:
        raise ConfigError(f"{name}: HUB_{name.upper()}_API_BASE is not set")
    for key in keys:
        value = config.credentials.get(key)
        if not value:
            raise ConfigError(f"{name}: HUB_{name.upper()}_{key.upper()} is not set")
        values.append(value)
    return values


def _hotline(config: ConnectorConfig, http: httpx.AsyncClient) -> Connector:
    (secret,) = _need("hotline", config, "secret")
    return HotlineConnector(config.base_url, secret, http, **config.options)


def _website(config: ConnectorConfig, http: httpx.AsyncClient) -> Connector:
    (api_key,) = _need("website", config, "api_key")
    return WebsiteConnector(config.base_url, api_key, http, **config.options)


def _weibo(config: ConnectorConfig, http: httpx.AsyncClient) -> Connector:
    (token,) = _need("weibo", config, "access_token")
    creds = config.credentials
    extra: dict[str, Any] = {"rip": creds["rip"]} if creds.get("rip") else {}
    return WeiboConnector(config.base_url, token, http, app_key=creds.get("app_key", ""),
                          app_secret=creds.get("app_secret", ""), refresh_token=creds.get("refresh_token"),
                          **extra, **config.options)


def _wechat(config: ConnectorConfig, http: httpx.AsyncClient) -> Connector:
    appid, appsecret = _need("wechat", config, "appid", "appsecret")
    return WeChatConnector(config.base_url, appid, appsecret, http, **config.options)


REGISTRY: Mapping[str, Factory] = {
    "hotline": _hotline,
    "website": _website,
    "weibo": _weibo,
    "wechat": _wechat,
}

CHANNELS: Mapping[str, str] = {name: name.upper() for name in REGISTRY}  # CLI name → Channel value


def names() -> list[str]:
    """The channel names accepted on the command line and in URLs."""
    return list(REGISTRY)


def channel_value(name: str) -> str:
    """``weibo`` → ``WEIBO``; unknown names raise ConfigError listing the known ones."""
    try:
        return CHANNELS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown channel {name!r}; choose one of {', '.join(REGISTRY)}") from None


def create(name: str, config: ConnectorConfig | Mapping[str, Any], http: httpx.AsyncClient) -> Connector:
    """Build the connector for a channel name from its config and an HTTP client."""
    channel_value(name)
    if not isinstance(config, ConnectorConfig):
        config = ConnectorConfig.from_mapping(config)
    return REGISTRY[name.lower()](config, http)


def wechat_callback(config: ConnectorConfig | Mapping[str, Any]) -> WeChatCallback:
    """The WeChat callback verifier (``token``, ``appid``, optional ``aes_key``) for ``/channels/wechat``."""
    if not isinstance(config, ConnectorConfig):
        config = ConnectorConfig.from_mapping(config)
    creds = config.credentials
    for key in ("token", "appid"):
        if not creds.get(key):
            raise ConfigError(f"wechat: HUB_WECHAT_{key.upper()} is not set")
    try:
        return WeChatCallback(creds["token"], creds["appid"], creds.get("aes_key") or None)
    except ValueError as exc:
        raise ConfigError(f"wechat: HUB_WECHAT_AES_KEY is invalid ({exc})") from None
