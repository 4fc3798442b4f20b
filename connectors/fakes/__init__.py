"""Fake channel servers speaking the real wire formats, for tests, ``hub demo`` and ``hub simulate``.

Each fake is an ASGI app (``fake.app``) that can also serve itself on 127.0.0.1 on an ephemeral port
(``fake.start()`` → base URL, ``fake.stop()``, or ``with fake:``). Feed it with ``fake.post_message(...)``,
read what the hub answered in ``fake.replies``, and play failures with ``fake.inject(FaultKind…, count)``.
"""

from connectors.fakes.base import FakeChannel, Fault, FaultKind, RunningServer, serve
from connectors.fakes.hotline import FakeHotline
from connectors.fakes.website import FakeWebsite
from connectors.fakes.wechat import CallbackRequest, FakeWeChat, random_openid
from connectors.fakes.weibo import FakeWeibo

FAKES: dict[str, type[FakeChannel]] = {
    "hotline": FakeHotline,
    "website": FakeWebsite,
    "weibo": FakeWeibo,
    "wechat": FakeWeChat,
}

__all__ = [
    "FAKES",
    "CallbackRequest",
    "FakeChannel",
    "FakeHotline",
    "FakeWeChat",
    "FakeWebsite",
    "FakeWeibo",
    "Fault",
    "FaultKind",
    "RunningServer",
    "random_openid",
    "serve",
]
