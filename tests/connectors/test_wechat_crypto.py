"""WeChat signatures and safe-mode AES against the fixtures and WeChat's worked examples."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

import pytest

from connectors.errors import BadPayload, BadSignature, WrongAppId
from connectors.wechat_crypto import (
    WeChatCrypto,
    check_signature,
    make_signature,
    parse_xml,
)


@pytest.fixture
def keys(fx: Any) -> dict[str, Any]:
    return dict(fx.json("wechat/KEYS_FOR_FIXTURES.json"))


@pytest.fixture
def crypto(keys: dict[str, Any]) -> WeChatCrypto:
    return WeChatCrypto(keys["token"], keys["encoding_aes_key"], keys["appid"])


def test_wechat_worked_signature_examples() -> None:
    assert make_signature("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert make_signature("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"


def test_fixture_signatures(keys: dict[str, Any], fx: Any) -> None:
    get = keys["get_verify"]
    check_signature(keys["token"], get["timestamp"], get["nonce"], get["signature"])
    request_line = fx.text("wechat/in_text_safe_mode_request.txt").splitlines()[0]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request_line.split()[1]).query))
    check_signature(keys["token"], query["timestamp"], query["nonce"], query["signature"])
    with pytest.raises(BadSignature):
        check_signature(keys["token"], query["timestamp"], query["nonce"], "b" * 40)
    with pytest.raises(BadSignature):
        check_signature("forged-token", query["timestamp"], query["nonce"], query["signature"])


@pytest.mark.parametrize("body", ["wechat/in_text_safe_mode_body.xml", "wechat/in_text_compat_mode_body.xml"])
def test_decrypt_reproduces_fixture_plaintext(crypto: WeChatCrypto, keys: dict[str, Any], fx: Any,
                                              body: str) -> None:
    post = keys["safe_mode_post"]
    plain = crypto.decrypt_message(fx.bytes(body), post["msg_signature"], post["timestamp"], post["nonce"])
    assert plain == fx.text("wechat/in_text.xml")


def test_fixture_encrypted_reply(crypto: WeChatCrypto, keys: dict[str, Any], fx: Any) -> None:
    envelope = parse_xml(fx.bytes("wechat/out_passive_reply_safe_mode.xml"))
    assert envelope["MsgSignature"] == keys["reply"]["msg_signature"]
    crypto.check_msg_signature(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"],
                               envelope["Encrypt"])
    assert crypto.decrypt(envelope["Encrypt"]) == fx.text("wechat/out_passive_reply_text.xml")


def test_encrypt_decrypt_round_trip(crypto: WeChatCrypto, fx: Any) -> None:
    reply = fx.text("wechat/out_passive_reply_text.xml")
    for message in (reply, "短", "x" * 1000, ""):
        assert crypto.decrypt(crypto.encrypt(message)) == message
    fixed = crypto.encrypt(reply, random_prefix=b"1234567890123456")
    assert fixed == crypto.encrypt(reply, random_prefix=b"1234567890123456")
    assert len(base64.b64decode(fixed)) % 32 == 0  # 32-byte PKCS#7 blocks
    envelope = parse_xml(crypto.encrypt_message(reply, timestamp="1717380002", nonce="1837465029"))
    assert crypto.decrypt_message(
        f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>", envelope["MsgSignature"],
        "1717380002", "1837465029") == reply


def test_bad_msg_signature(crypto: WeChatCrypto, keys: dict[str, Any], fx: Any) -> None:
    post = keys["safe_mode_post"]
    with pytest.raises(BadSignature, match="msg_signature"):
        crypto.decrypt_message(fx.bytes("wechat/in_text_safe_mode_body.xml"), "0" * 40, post["timestamp"],
                               post["nonce"])


DAMAGES = {
    "truncated base64": lambda encrypt, raw: encrypt[:-7],
    "truncated to whole blocks": lambda encrypt, raw: base64.b64encode(raw[:64]).decode(),
    "not whole AES blocks": lambda encrypt, raw: base64.b64encode(raw[:-5]).decode(),
    "garbled base64": lambda encrypt, raw: encrypt[:40] + "!!**" + encrypt[44:],
    "garbled ciphertext": lambda encrypt, raw: base64.b64encode(bytes(range(256))[: len(raw)]).decode(),
    "empty": lambda encrypt, raw: "",
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_aes_body(crypto: WeChatCrypto, fx: Any, damage: str) -> None:
    encrypt = parse_xml(fx.bytes("wechat/in_text_safe_mode_body.xml"))["Encrypt"]
    with pytest.raises(BadPayload):
        crypto.decrypt(DAMAGES[damage](encrypt, base64.b64decode(encrypt)))


def test_wrong_appid(keys: dict[str, Any], crypto: WeChatCrypto) -> None:
    other = WeChatCrypto(keys["token"], keys["encoding_aes_key"], "wx0000000000000000")
    with pytest.raises(WrongAppId):
        crypto.decrypt(other.encrypt("<xml><MsgType>text</MsgType></xml>"))
    assert issubclass(WrongAppId, BadSignature)


def test_invalid_encoding_aes_key() -> None:
    with pytest.raises(ValueError):
        WeChatCrypto("t", "tooshort", "wx1")


def test_xml_with_entities_is_refused() -> None:
    with pytest.raises(BadPayload):
        parse_xml('<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>')
    with pytest.raises(BadPayload):
        parse_xml("<xml><Content>unclosed")
