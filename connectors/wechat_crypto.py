"""WeChat callback signatures, safe-mode AES and the XML envelope (``01_wechat_official_account.md`` §1–3).

* ``signature = sha1("".join(sorted([token, timestamp, nonce])))``; ``msg_signature`` adds ``Encrypt``.
* AES-256-CBC with key ``b64decode(EncodingAESKey + "=")`` and IV = key[:16]; plaintext
  ``random(16) ‖ htonl(len(msg)) ‖ msg ‖ appid`` padded PKCS#7 to 32-byte blocks; base64 in ``<Encrypt>``.

Decryption is strict: bad base64, a length that is not whole AES blocks, a padding outside 1..32 or not
uniform, a length field past the end, or non-UTF-8 XML raise :class:`BadPayload`; an appid other than ours
raises :class:`WrongAppId`; a ``msg_signature`` that does not match raises :class:`BadSignature`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import struct
import time
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.errors import BadPayload, BadSignature, WrongAppId

BLOCK_SIZE = 32  # WeChat pads to 32 bytes, not AES's 16
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)

ENCRYPTED_REPLY_TEMPLATE = """<xml>
<Encrypt><![CDATA[{encrypt}]]></Encrypt>
<MsgSignature><![CDATA[{signature}]]></MsgSignature>
<TimeStamp>{timestamp}</TimeStamp>
<Nonce><![CDATA[{nonce}]]></Nonce>
</xml>"""


def make_signature(*parts: str) -> str:
    """sha1 hex of the lexicographically sorted parts, concatenated without separator."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(token: str, timestamp: str, nonce: str, signature: str) -> None:
    """Verify the ``signature`` query parameter of a callback; raise BadSignature when it does not match."""
    if not hmac.compare_digest(make_signature(token, timestamp, nonce), (signature or "").lower()):
        raise BadSignature("wechat: signature mismatch")


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The top-level elements of a ``<xml>`` envelope as a mapping (element order does not matter)."""
    data = body.encode() if isinstance(body, str) else body
    if _DTD.search(data):
        raise BadPayload("wechat: XML with DTD refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise BadPayload("wechat: body is not well-formed XML") from None
    if root.tag != "xml":
        raise BadPayload("wechat: root element is not <xml>")
    return {child.tag: (child.text or "").strip() if len(child) == 0 else ET.tostring(child, "unicode")
            for child in root}


def cdata(text: str) -> str:
    """A CDATA section that survives a ``]]>`` inside the text."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class WeChatCrypto:
    """Safe-mode message crypto for one Official Account (token, EncodingAESKey, AppID)."""

    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 base64 characters decoding to 32 bytes")
        self.token = token
        self.appid = appid
        self._appid_bytes = appid.encode()
        self._key = key
        # Built once: each encryptor()/decryptor() call makes a fresh context, so the Cipher is reusable.
        self._cipher_obj = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def _cipher(self) -> Cipher[modes.CBC]:
        return self._cipher_obj

    def encrypt(self, message: str | bytes, *, random_prefix: bytes | None = None) -> str:
        """The base64 ``Encrypt`` value for a message (XML), with a random 16-byte prefix."""
        msg = message.encode() if isinstance(message, str) else message
        prefix = random_prefix if random_prefix is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("random prefix must be 16 bytes")
        plain = prefix + struct.pack(">I", len(msg)) + msg + self._appid_bytes
        amount = BLOCK_SIZE - len(plain) % BLOCK_SIZE
        plain += bytes([amount]) * amount
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypt: str) -> str:
        """The XML inside an ``Encrypt`` value; BadPayload or WrongAppId when it is not ours or is damaged."""
        try:
            cipher_text = base64.b64decode(encrypt.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise BadPayload("wechat: Encrypt is not valid base64") from None
        if not cipher_text or len(cipher_text) % 16:
            raise BadPayload("wechat: Encrypt is not whole AES blocks (truncated?)")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(cipher_text) + decryptor.finalize()
        amount = plain[-1]
        if not 1 <= amount <= BLOCK_SIZE or plain[-amount:] != bytes([amount]) * amount:
            raise BadPayload("wechat: bad padding after decryption (garbled or wrong key)")
        content = plain[:-amount]
        if len(content) < 20:
            raise BadPayload("wechat: decrypted message too short")
        (length,) = struct.unpack(">I", content[16:20])
        if 20 + length > len(content):
            raise BadPayload("wechat: decrypted length field exceeds the message")
        message, appid = content[20 : 20 + length], content[20 + length :]
        if not hmac.compare_digest(appid, self._appid_bytes):
            raise WrongAppId("wechat: message is addressed to another AppID")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise BadPayload("wechat: decrypted message is not UTF-8") from None

    def check_msg_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Verify ``msg_signature`` over token, timestamp, nonce and the Encrypt value."""
        expected = make_signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise BadSignature("wechat: msg_signature mismatch")

    def decrypt_message(self, body: bytes | str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """Verify and decrypt a safe- or compatible-mode body; returns the plaintext message XML."""
        return self.decrypt_envelope(parse_xml(body), msg_signature, timestamp, nonce)

    def decrypt_envelope(self, envelope: dict[str, str], msg_signature: str, timestamp: str, nonce: str) -> str:
        """:meth:`decrypt_message` for a body already parsed with :func:`parse_xml`."""
        encrypt = envelope.get("Encrypt")
        if not encrypt:
            raise BadPayload("wechat: encrypted callback without <Encrypt>")
        self.check_msg_signature(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def encrypt_message(
        self, reply_xml: str, *, timestamp: str | None = None, nonce: str | None = None,
        random_prefix: bytes | None = None,
    ) -> str:
        """The encrypted passive-reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce) for a reply XML."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(9_000_000_000) + 1_000_000_000)
        encrypt = self.encrypt(reply_xml, random_prefix=random_prefix)
        signature = make_signature(self.token, timestamp, nonce, encrypt)
        return ENCRYPTED_REPLY_TEMPLATE.format(encrypt=encrypt, signature=signature, timestamp=timestamp, nonce=nonce)
