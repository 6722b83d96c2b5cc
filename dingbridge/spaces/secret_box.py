"""Encryption at rest for AppSecrets: Fernet keyed from the server's secret key(s).

The first key encrypts; every key decrypts, so a rotation can re-encrypt row by row while
instances still holding the old key keep working.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_CONTEXT = b"dingbridge/appsecret/v1\0"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any known key."""


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(KEY_CONTEXT + secret_key.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SecretBox:
    def __init__(self, secret_keys: list[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._fernet = MultiFernet([_fernet(k) for k in secret_keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise SecretUnreadable(
                "the stored AppSecret cannot be decrypted with the current secret key; "
                "enter the AppSecret again"
            ) from None

    def reencrypt(self, token: str) -> str:
        """The same secret encrypted with the first (current) key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise SecretUnreadable("a stored AppSecret cannot be decrypted") from None
