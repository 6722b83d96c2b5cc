"""HTTP-push event crypto ("DingCallbackCrypto").

- key = base64decode(aes_key + "="), AES-256-CBC, IV = key[:16]
- plaintext = random16 || uint32_be(len(msg)) || msg || owner_key, PKCS#7 to 32-byte blocks
- signature = sha1_hex("".join(sorted([token, timestamp, nonce, encrypt])))

``owner_key`` is the AppKey for console-configured subscriptions (CorpId for the old
register_call_back API, SuiteKey for ISV apps); decryption checks it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["CallbackCrypto", "CallbackCryptoError"]

_BLOCK = 32


class CallbackCryptoError(ValueError):
    """Bad aes_key, bad signature, corrupt ciphertext or wrong owner key."""


class CallbackCrypto:
    def __init__(self, token: str, aes_key: str, owner_key: str) -> None:
        if len(aes_key) != 43:
            raise CallbackCryptoError("aes_key must be 43 characters (console 加密 aes_key)")
        try:
            self._key = base64.b64decode(aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise CallbackCryptoError("aes_key is not valid base64") from exc
        if len(self._key) != 32:
            raise CallbackCryptoError("aes_key must decode to 32 bytes")
        self.token = token
        self.owner_key = owner_key

    def __repr__(self) -> str:
        return f"CallbackCrypto(owner_key={self.owner_key!r})"

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, msg: str, *, random16: bytes | None = None) -> str:
        random16 = os.urandom(16) if random16 is None else random16
        if len(random16) != 16:
            raise CallbackCryptoError("random16 must be 16 bytes")
        body = msg.encode("utf-8")
        plain = random16 + struct.pack(">I", len(body)) + body + self.owner_key.encode("utf-8")
        pad = _BLOCK - len(plain) % _BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> str:
        try:
            data = base64.b64decode(encrypt, validate=True)
        except binascii.Error as exc:
            raise CallbackCryptoError("encrypt is not valid base64") from exc
        if not data or len(data) % 16:
            raise CallbackCryptoError("ciphertext length is not a multiple of 16")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CallbackCryptoError("bad padding (wrong aes_key?)")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CallbackCryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        msg, owner = plain[20 : 20 + length], plain[20 + length :]
        if len(msg) != length:
            raise CallbackCryptoError("length field does not match the plaintext")
        if owner.decode("utf-8", "replace") != self.owner_key:
            raise CallbackCryptoError("owner key does not match (wrong AppKey/CorpId?)")
        return msg.decode("utf-8")

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        joined = "".join(sorted([self.token, timestamp, nonce, encrypt]))
        return hashlib.sha1(joined.encode("utf-8"), usedforsecurity=False).hexdigest()

    def verify(self, signature: str, timestamp: str, nonce: str, encrypt: str) -> bool:
        return hmac.compare_digest(self.sign(timestamp, nonce, encrypt), signature.lower())

    def decrypt_verified(self, signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Verify the signature, then decrypt (raises CallbackCryptoError on a bad one)."""
        if not self.verify(signature, timestamp, nonce, encrypt):
            raise CallbackCryptoError("signature mismatch")
        return self.decrypt(encrypt)

    def reply(self, timestamp: str, nonce: str, msg: str = "success") -> dict[str, Any]:
        """The JSON body DingTalk expects back (the encrypted "success")."""
        encrypt = self.encrypt(msg)
        return {
            "msg_signature": self.sign(timestamp, nonce, encrypt),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        }
