"""The WeChat callback figure: signed safe-mode messages at rising rates against `/channels/wechat`.

The requests (distinct users, AES-encrypted, signed) are built before each step and sent open-loop by the raw
keep-alive generator of ``bench/rawload.py`` on its own event loop; every reply is then opened (signature checked,
decrypted) and must carry a case number, each message its own. ``capacity`` measures the generator itself against
a trivial endpoint (``bench/trivial_app.py``), with httpx beside it for comparison.

``python -m bench.wechat --capacity`` runs only the generator check.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import fixed_rate
from bench.procs import Proc, free_port, hub_env, start, wait_ready
from bench.rawload import build_request, run_fixed_rate_raw
from bench.texts import make_message

TOKEN = "civic_demo_token_2024"
AES_KEY = "ExXh1AtX3y2hhtZzoicCB1ullrFF+XI1BsGuAlid/9k"
APPID = "wx3f8a1c2b9d7e6a54"
DEADLINE_MS = 1000.0
CASE_NO = re.compile(r"编号([A-Z]*\d{8,})")


def server_env() -> dict[str, str]:
    """Settings that make `hub serve` accept the fake platform's callbacks."""
    return {
        "HUB_WECHAT_TOKEN": TOKEN,
        "HUB_WECHAT_AES_KEY": AES_KEY,
        "HUB_WECHAT_APPID": APPID,
        "HUB_WECHAT_APPSECRET": "FAKE_APPSECRET",
        "HUB_WECHAT_API_BASE": "http://127.0.0.1:9",
    }


def _fake() -> Any:
    from connectors.fakes.wechat import FakeWeChat

    return FakeWeChat(token=TOKEN, encoding_aes_key=AES_KEY, appid=APPID)


def available(api: Proc) -> str | None:
    """None when the endpoint answers a signed handshake, else why not."""
    request = _fake().handshake_request("bench")
    try:
        response = httpx.get(request.url(api.base_url + "/channels/wechat"), timeout=10)
    except httpx.HTTPError as exc:
        return f"request failed: {exc!r}"
    if response.status_code == 404:
        return "not available yet: /channels/wechat is not routed in hub.app.create_app"
    if response.status_code != 200 or response.text != "bench":
        return f"handshake answered HTTP {response.status_code}"
    return None


# MsgIds unique across steps and runs (a fresh FakeWeChat counts from the same number: on a reused database
# every step would otherwise replay earlier messages and measure the cheap dedupe path).
_MSG_IDS = itertools.count(time.time_ns())
_RUN = int(time.time()) % 10**9


def _requests(base_url: str, count: int, seed: int) -> list[bytes]:
    """``count`` signed safe-mode callbacks, new messages from distinct users, as raw HTTP/1.1 requests."""
    fake = _fake()
    rng = random.Random(f"wechat:{seed}")
    out = []
    for i in range(count):
        openid = f"oB{_RUN:09d}{seed:06d}{i:07d}".ljust(28, "x")[:28]
        msg = make_message(rng)
        xml = fake.post_message(msg.content, openid=openid, msg_id=next(_MSG_IDS))
        cb = fake.callback_request(xml, mode="safe")
        target = "/channels/wechat?" + str(httpx.QueryParams(dict(cb.params)))
        out.append(build_request(base_url, "POST", target, cb.body, cb.headers))
    return out


def check_replies(bodies: list[bytes]) -> dict[str, int]:
    """Open every passive reply: how many name a case, how many distinct numbers, how many said 'still storing'."""
    fake = _fake()
    numbers, storing, other = [], 0, 0
    for body in bodies:
        try:
            text = fake.open_reply(body.decode())
        except Exception:  # a reply we cannot open counts as wrong
            other += 1
            continue
        found = CASE_NO.search(text)
        if found:
            numbers.append(found.group(1))
        elif "正在登记" in text:
            storing += 1
        else:
            other += 1
    return {"with_case_no": len(numbers), "distinct_case_nos": len(set(numbers)), "still_storing": storing,
            "other": other}


async def ramp(api: Proc, *, rates: tuple[int, ...], seconds: float, seed: int = 1) -> dict[str, Any]:
    """Each rate for ``seconds``; stops after the first rate whose p99 passes 1 s (or that errs).

    A warm-up of 30 messages at 10/s goes first, unmeasured: the first callbacks of a fresh process pay one-off
    costs (the working calendar's import, statement compilation, the pool's connections).
    """
    warm = await asyncio.to_thread(_requests, api.base_url, 30, seed * 100 + 99)
    await asyncio.to_thread(run_fixed_rate_raw, api.base_url, warm, rate=10, deadline=10.0)
    steps = []
    breaking = None
    for index, rate in enumerate(rates):
        requests = await asyncio.to_thread(_requests, api.base_url, int(rate * seconds), seed * 100 + index)
        cpu = _cpu_seconds(api.popen.pid)
        result = await asyncio.to_thread(run_fixed_rate_raw, api.base_url, requests, rate=rate, deadline=10.0,
                                         keep_bodies=len(requests))
        used = _cpu_seconds(api.popen.pid) - cpu
        step = {"rate": rate, **result.summary(), "server_cpu_ms_per_msg": round(1000 * used / len(requests), 2),
                "replies": check_replies(result.bodies)}
        steps.append(step)
        api.sample()
        print(f"  {rate:5d} msg/s: p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms, {step['errors']} errors, "
              f"server CPU {step['server_cpu_ms_per_msg']} ms/msg, generator lag max {step['gen_lag_max_ms']} ms, "
              f"replies {step['replies']}", flush=True)
        p99 = result.pct(99)
        if p99 is None or p99 > DEADLINE_MS or result.errors > 0.01 * len(requests):
            breaking = rate
            break
    sustained = max((s["rate"] for s in steps if s["rate"] != breaking), default=None)
    return {"steps": steps, "p99_passes_1s_at": breaking, "highest_rate_within_1s": sustained}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_trivial() -> Proc:
    """``bench/trivial_app.py`` under uvicorn (one process, no access log) on a free port, ready."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.trivial_app:app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log"]
    proc = start("trivial", argv, hub_env("sqlite://"), port=port)
    wait_ready(proc)
    return proc


async def capacity(*, raw_rates: tuple[int, ...] = (500, 1000, 2000), httpx_rates: tuple[int, ...] = (100, 200, 300),
                   seconds: float = 3.0) -> dict[str, Any]:
    """Both generators against the trivial endpoint, same request bytes as the WeChat steps: the rate each keeps."""
    proc = start_trivial()
    out: dict[str, Any] = {"raw": [], "httpx": []}
    try:
        for rate in raw_rates:
            requests = await asyncio.to_thread(_requests, proc.base_url, int(rate * seconds), 7)
            result = await asyncio.to_thread(run_fixed_rate_raw, proc.base_url, requests, rate=rate, deadline=10.0)
            out["raw"].append({"rate": rate, **result.summary()})
        for rate in httpx_rates:
            count = int(rate * seconds)
            sends = [_httpx_send(i) for i in range(count)]
            slow = await fixed_rate(proc.base_url, sends, rate=rate, deadline=10.0)
            out["httpx"].append({"rate": rate, **slow.summary()})
    finally:
        proc.stop()
    return out


def _httpx_send(i: int) -> Any:
    body = b"<xml>" + b"y" * 600 + b"</xml>"

    async def send(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(f"/channels/wechat?i={i}", content=body, headers={"Content-Type": "text/xml"})

    return send


def main(argv: list[str] | None = None) -> int:
    """``--capacity``: print the generator check as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--capacity"]:
        print("usage: python -m bench.wechat --capacity", file=sys.stderr)
        return 2
    print(json.dumps(asyncio.run(capacity()), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
