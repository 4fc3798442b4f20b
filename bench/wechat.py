"""The WeChat callback figure: signed safe-mode messages at rising rates against `/channels/wechat`."""

from __future__ import annotations

import functools
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.loadgen import fixed_rate
from bench.procs import Proc
from bench.texts import make_message

TOKEN = "civic_demo_token_2024"
AES_KEY = "ExXh1AtX3y2hhtZzoicCB1ullrFF+XI1BsGuAlid/9k"
APPID = "wx3f8a1c2b9d7e6a54"
DEADLINE_MS = 1000.0


def server_env() -> dict[str, str]:
    """Settings that make `hub serve` accept the fake platform's callbacks."""
    return {
        "HUB_WECHAT_TOKEN": TOKEN,
        "HUB_WECHAT_AES_KEY": AES_KEY,
        "HUB_WECHAT_APPID": APPID,
        "HUB_WECHAT_APPSECRET": "FAKE_APPSECRET",
        "HUB_WECHAT_API_BASE": "http://127.0.0.1:9",
    }


def available(api: Proc) -> str | None:
    """None when the endpoint answers a signed handshake, else why not."""
    from connectors.fakes.wechat import FakeWeChat

    fake = FakeWeChat(token=TOKEN, encoding_aes_key=AES_KEY, appid=APPID)
    request = fake.handshake_request("bench")
    try:
        response = httpx.get(request.url(api.base_url + "/channels/wechat"), timeout=10)
    except httpx.HTTPError as exc:
        return f"request failed: {exc!r}"
    if response.status_code == 404:
        return "not available yet: /channels/wechat is not routed in hub.app.create_app"
    if response.status_code != 200 or response.text != "bench":
        return f"handshake answered HTTP {response.status_code}"
    return None


def _requests(count: int, seed: int) -> list[Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]]:
    from connectors.fakes.wechat import FakeWeChat

    fake = FakeWeChat(token=TOKEN, encoding_aes_key=AES_KEY, appid=APPID)
    rng = random.Random(f"wechat:{seed}")
    out: list[Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]] = []
    for i in range(count):
        openid = f"oBench{seed:04d}{i:08d}".ljust(28, "x")[:28]
        msg = make_message(rng)
        cb = fake.callback_request(fake.post_message(msg.content, openid=openid), mode="safe")
        url = "/channels/wechat?" + str(httpx.QueryParams(dict(cb.params)))
        out.append(functools.partial(_post, url=url, body=cb.body, headers=tuple(cb.headers.items())))
    return out


async def _post(
    client: httpx.AsyncClient, *, url: str, body: bytes, headers: tuple[tuple[str, str], ...]
) -> httpx.Response:
    return await client.post(url, content=body, headers=dict(headers))


async def ramp(api: Proc, *, rates: tuple[int, ...], seconds: float, seed: int = 1) -> dict[str, Any]:
    """Each rate for ``seconds``; stops after the first rate whose p99 passes 1 s (or that errs)."""
    steps = []
    breaking = None
    for index, rate in enumerate(rates):
        requests = _requests(int(rate * seconds), seed * 100 + index)
        result = await fixed_rate(api.base_url, requests, rate=rate, deadline=10.0)
        step = {"rate": rate, **result.summary()}
        steps.append(step)
        api.sample()
        p99 = result.pct(99)
        if p99 is None or p99 > DEADLINE_MS or result.errors > 0.01 * len(requests):
            breaking = rate
            break
    sustained = max((s["rate"] for s in steps if s["rate"] != breaking), default=None)
    return {"steps": steps, "p99_passes_1s_at": breaking, "highest_rate_within_1s": sustained}
