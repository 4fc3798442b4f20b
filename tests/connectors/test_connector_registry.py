"""The registry builds every channel from plain config; connectors/ stays independent of the hub."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import httpx
import pytest

import connectors
from connectors.base import Connector
from connectors.hotline import HotlineConnector
from connectors.registry import ConfigError, ConnectorConfig, channel_value, create, names, wechat_callback
from connectors.website import WebsiteConnector
from connectors.wechat import WeChatCallback, WeChatConnector
from connectors.weibo import WeiboConnector

CONFIGS = {
    "hotline": ({"base_url": "http://h", "secret": "s"}, HotlineConnector),
    "website": ({"base_url": "http://w", "api_key": "k"}, WebsiteConnector),
    "weibo": ({"base_url": "http://wb", "access_token": "t", "app_key": "a", "app_secret": "s"}, WeiboConnector),
    "wechat": ({"base_url": "http://wx", "appid": "wx1", "appsecret": "s", "token": "t"}, WeChatConnector),
}


def test_names_are_the_cli_names() -> None:
    assert names() == ["hotline", "website", "weibo", "wechat"]
    assert [channel_value(n) for n in names()] == ["HOTLINE", "WEBSITE", "WEIBO", "WECHAT"]
    assert channel_value("WeChat") == "WECHAT"
    with pytest.raises(ConfigError, match="hotline, website, weibo, wechat"):
        channel_value("fax")


@pytest.mark.parametrize("name", list(CONFIGS))
async def test_create_each_channel(name: str) -> None:
    config, cls = CONFIGS[name]
    async with httpx.AsyncClient() as http:
        connector = create(name, config, http)
        assert isinstance(connector, cls) and connector.channel == channel_value(name)
        for method in ("pull", "send_reply"):
            assert inspect.iscoroutinefunction(getattr(connector, method))
        typed: Connector = connector  # the Protocol, checked by mypy on the registry
        assert typed is connector


async def test_options_pass_through_and_missing_settings_are_named() -> None:
    async with httpx.AsyncClient() as http:
        config = ConnectorConfig("http://h", {"secret": "s"}, {"page_size": 7})
        hotline = create("hotline", config, http)
        assert isinstance(hotline, HotlineConnector) and hotline.page_size == 7
        with pytest.raises(ConfigError, match="HUB_WEIBO_ACCESS_TOKEN"):
            create("weibo", {"base_url": "http://wb", "access_token": ""}, http)
        with pytest.raises(ConfigError, match="HUB_WEBSITE_API_BASE"):
            create("website", {"api_key": "k"}, http)


def test_wechat_callback_from_settings(fx: object) -> None:
    key = "ExXh1AtX3y2hhtZzoicCB1ullrFF+XI1BsGuAlid/9k"
    callback = wechat_callback({"token": "t", "appid": "wx1", "aes_key": key})
    assert isinstance(callback, WeChatCallback) and callback.crypto is not None
    assert wechat_callback({"token": "t", "appid": "wx1"}).crypto is None
    with pytest.raises(ConfigError, match="HUB_WECHAT_AES_KEY"):
        wechat_callback({"token": "t", "appid": "wx1", "aes_key": "short"})
    with pytest.raises(ConfigError, match="HUB_WECHAT_TOKEN"):
        wechat_callback({"appid": "wx1"})


def test_connectors_import_nothing_of_the_hub() -> None:
    root = Path(connectors.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in {"hub", "schema", "auth"}]
    assert offenders == []
