"""A fake WeChat platform: builds signed callbacks (plain, compatible, safe) for the hub's ``/channels/wechat``
and delivers them as WeChat does (5 s, three attempts); serves ``/cgi-bin/token`` and
``/cgi-bin/message/custom/send`` with the 48-hour window enforced per openid (``01_wechat_official_account.md``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
import string
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from connectors.fakes.base import Endpoint, FakeChannel, Fault, FaultKind, json_response
from connectors.wechat_crypto import WeChatCrypto, cdata, make_signature, parse_xml

WINDOW = dt.timedelta(hours=48)
_OPENID_ALPHABET = string.ascii_letters + string.digits + "_-"


@dataclass(frozen=True)
class CallbackRequest:
    """A callback as WeChat sends it: method, query parameters, body, headers."""

    method: str
    params: Mapping[str, str]
    body: bytes
    headers: Mapping[str, str]

    def url(self, endpoint: str) -> str:
        """The full URL of this callback against the hub's endpoint URL."""
        return f"{endpoint}?{urllib.parse.urlencode(self.params)}"


def random_openid() -> str:
    """A synthetic 28-character openid (``^[\\w\\-]{28}$``)."""
    return "o" + "".join(secrets.choice(_OPENID_ALPHABET) for _ in range(27))


def message_xml(fields: Mapping[str, str | int]) -> str:
    """A callback XML in WeChat's layout: strings in CDATA, integers bare."""
    lines = [f"<{key}>{value}</{key}>" if isinstance(value, int) else f"<{key}>{cdata(value)}</{key}>"
             for key, value in fields.items()]
    return "<xml>" + "\n".join(lines) + "\n</xml>"


class FakeWeChat(FakeChannel):
    """The WeChat side of one Official Account."""

    name = "wechat"
    fault_exempt = ("/cgi-bin/token",)

    def __init__(self, *, token: str = "civic_demo_token_2024",
                 encoding_aes_key: str = "ExXh1AtX3y2hhtZzoicCB1ullrFF+XI1BsGuAlid/9k",
                 appid: str = "wx3f8a1c2b9d7e6a54", appsecret: str = "FAKE_APPSECRET",
                 account: str = "gh_7c2a9e41b3d5", token_ttl: int = 7200,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.token, self.appid, self.appsecret, self.account = token, appid, appsecret, account
        self.encoding_aes_key = encoding_aes_key
        self.crypto = WeChatCrypto(token, encoding_aes_key, appid)
        self.token_ttl = token_ttl
        self.last_interaction: dict[str, dt.datetime] = {}
        self.passive_replies: list[str] = []
        self._tokens: dict[str, dt.datetime] = {}
        self._token_numbers = itertools.count(1)
        self._msg_ids = itertools.count(24591738402315786)

    # --- messages from users -----------------------------------------------------------------------------

    def note_interaction(self, openid: str, at: dt.datetime | None = None) -> None:
        """Record that the user wrote (opens their 48-hour customer-service window)."""
        with self.lock:
            moment = at or self.clock()
            previous = self.last_interaction.get(openid)
            self.last_interaction[openid] = max(previous, moment) if previous else moment

    def post_message(self, content: str, *, openid: str | None = None, create_time: dt.datetime | None = None,
                     msg_id: int | None = None) -> str:
        """A user's text message as callback XML (the user's window opens at ``create_time``)."""
        openid = openid or random_openid()
        moment = create_time or self.clock()
        self.note_interaction(openid, moment)
        return message_xml({"ToUserName": self.account, "FromUserName": openid,
                            "CreateTime": int(moment.timestamp()), "MsgType": "text", "Content": content,
                            "MsgId": msg_id if msg_id is not None else next(self._msg_ids)})

    text_message = post_message

    def event_message(self, openid: str, event: str, *, event_key: str = "",
                      create_time: dt.datetime | None = None, **extra: str) -> str:
        """An event (subscribe, CLICK, LOCATION …) as callback XML."""
        moment = create_time or self.clock()
        self.note_interaction(openid, moment)
        return message_xml({"ToUserName": self.account, "FromUserName": openid,
                            "CreateTime": int(moment.timestamp()), "MsgType": "event", "Event": event,
                            "EventKey": event_key, **extra})

    # --- signed callbacks --------------------------------------------------------------------------------

    def handshake_request(self, echostr: str | None = None, *, timestamp: str | None = None,
                          nonce: str | None = None) -> CallbackRequest:
        """The URL-verification GET (the hub must answer ``echostr`` verbatim)."""
        timestamp = timestamp or str(int(self.clock().timestamp()))
        nonce = nonce or str(secrets.randbelow(9 * 10**9) + 10**9)
        params = {"signature": make_signature(self.token, timestamp, nonce),
                  "echostr": echostr or str(secrets.randbelow(10**19)), "timestamp": timestamp, "nonce": nonce}
        return CallbackRequest("GET", params, b"", {"User-Agent": "Mozilla/4.0", "Accept": "*/*"})

    def callback_request(self, xml: str, *, mode: str = "safe", timestamp: str | None = None,
                         nonce: str | None = None, encrypt_override: str | None = None) -> CallbackRequest:
        """A signed POST in ``plain``, ``compat`` or ``safe`` mode; ``encrypt_override`` signs any Encrypt."""
        if mode not in {"plain", "compat", "safe"}:
            raise ValueError("mode is plain, compat or safe")
        fields = parse_xml(xml)
        if fields.get("FromUserName") and fields.get("CreateTime", "").isdigit():
            self.note_interaction(fields["FromUserName"],
                                  dt.datetime.fromtimestamp(int(fields["CreateTime"]), dt.UTC))
        timestamp = timestamp or str(int(self.clock().timestamp()))
        nonce = nonce or str(secrets.randbelow(9 * 10**9) + 10**9)
        params = {"signature": make_signature(self.token, timestamp, nonce), "timestamp": timestamp,
                  "nonce": nonce, "openid": fields.get("FromUserName", "")}
        body = xml
        if mode != "plain":
            encrypt = encrypt_override if encrypt_override is not None else self.crypto.encrypt(xml)
            params.update(encrypt_type="aes", msg_signature=make_signature(self.token, timestamp, nonce, encrypt))
            element = f"<Encrypt>{cdata(encrypt)}</Encrypt>"
            if mode == "compat":
                body = xml[: xml.rindex("</xml>")] + element + "\n</xml>"
            else:
                body = (f"<xml>\n    <ToUserName>{cdata(fields.get('ToUserName', self.account))}</ToUserName>\n"
                        f"    {element}\n</xml>\n")
        headers = {"User-Agent": "Mozilla/4.0", "Accept": "*/*", "Pragma": "no-cache",
                   "Content-Type": "text/xml"}
        return CallbackRequest("POST", params, body.encode(), headers)

    def open_reply(self, body: str) -> str:
        """The plaintext of a passive reply (verifies and decrypts an encrypted one); ``success`` as is."""
        if body.strip() in {"", "success"}:
            return body
        envelope = parse_xml(body)
        if "Encrypt" not in envelope:
            return body
        self.crypto.check_msg_signature(envelope.get("MsgSignature", ""), envelope.get("TimeStamp", ""),
                                        envelope.get("Nonce", ""), envelope["Encrypt"])
        return self.crypto.decrypt(envelope["Encrypt"])

    async def deliver(self, http: httpx.AsyncClient, endpoint: str, xml: str, *, mode: str = "safe",
                      attempts: int = 3, per_try: float = 5.0) -> httpx.Response:
        """Send a message to the hub like WeChat: up to three tries, 5 s each; records the passive reply."""
        request = self.callback_request(xml, mode=mode)
        response: httpx.Response | None = None
        for _attempt in range(attempts):
            try:
                response = await http.post(request.url(endpoint), content=request.body,
                                           headers=dict(request.headers), timeout=per_try)
            except httpx.TransportError:
                continue
            if response.status_code < 500:
                break
        if response is None:
            raise httpx.ConnectError("hub did not answer the callback")
        if response.status_code == 200:
            with self.lock:
                self.passive_replies.append(self.open_reply(response.text))
        return response

    # --- the API -----------------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Expire every access token issued so far (the next send answers 42001)."""
        with self.lock:
            past = self.clock() - dt.timedelta(seconds=1)
            self._tokens = dict.fromkeys(self._tokens, past)

    def routes(self) -> list[tuple[str, Endpoint, list[str]]]:
        """Token and customer-service send."""
        return [("/cgi-bin/token", self._token, ["GET"]),
                ("/cgi-bin/message/custom/send", self._send, ["POST"])]

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """WeChat bodies (HTTP 200) for the channel-specific faults."""
        if fault.kind is FaultKind.RATE_LIMIT_CODE:
            return json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            return json_response({"errcode": 42001, "errmsg": "access_token expired rid: 665d2a1f-00000000"})
        return super().render_fault(fault, request)

    async def _token(self, request: Request) -> Response:
        query = request.query_params
        if query.get("grant_type") != "client_credential":
            return json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.appid:
            return json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != self.appsecret:
            return json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        with self.lock:
            token = f"FAKE_ACCESS_TOKEN_{next(self._token_numbers)}_{secrets.token_hex(4)}"
            self._tokens[token] = self.clock() + dt.timedelta(seconds=self.token_ttl)
        return json_response({"access_token": token, "expires_in": self.token_ttl})

    async def _send(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        with self.lock:
            expires = self._tokens.get(token)
            now = self.clock()
        if expires is None:
            return json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid "
                                  "or not latest rid: 665d2a1f-0f0e0d0c"})
        if now >= expires:
            return json_response({"errcode": 42001, "errmsg": "access_token expired rid: 665d2a1f-0f0e0d0d"})
        try:
            message: Any = json.loads(await request.body())
            openid = str(message["touser"])
            content = str(message["text"]["content"]) if message.get("msgtype") == "text" else ""
        except (ValueError, KeyError, TypeError):
            return json_response({"errcode": 47001, "errmsg": "data format error"})
        if message.get("msgtype") == "text" and not content:
            return json_response({"errcode": 44003, "errmsg": "empty news data"})
        with self.lock:
            last = self.last_interaction.get(openid)
            if last is None or now - last > WINDOW:
                return json_response({"errcode": 45015, "errmsg": "response out of time limit or "
                                      "subscription is canceled rid: 665d2a1f-4b7e9c31"})
            self.record_reply(message)
        return json_response({"errcode": 0, "errmsg": "ok"})
