"""Keys derived from the server's secret key, one per purpose.

The secret key (``DINGBRIDGE_SECRET_KEY`` or ``<data folder>/secret.key``) is never used
directly: each purpose gets its own key through HKDF-SHA256 with the purpose as ``info``, so a
value signed for one purpose (an OAuth state cookie) can never pass for another (a form token).
The AppSecret encryption (:mod:`dingbridge.spaces.secret_box`) keeps its own derivation, which
stored secrets depend on.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"dingbridge key derivation v1"


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """The key for ``purpose`` (a short fixed name) derived from ``secret_key``."""
    if not purpose:
        raise ValueError("a purpose is required")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose.encode())
    return hkdf.derive(secret_key.encode("utf-8"))


@dataclass(frozen=True)
class SignInKeys:
    """The sign-in flows' keys, each for one purpose."""

    oauth_state: bytes
    """Signs the OAuth ``state`` cookie."""
    logout_form: bytes
    """Makes the space home's sign-out form token."""
    bind_form: bytes
    """Makes the binding pages' form token."""
    codes: bytes
    """HMACs of verification codes and mobiles in the KV."""

    @classmethod
    def derive(cls, secret_key: str) -> SignInKeys:
        return cls(
            oauth_state=derive_key(secret_key, "oauth-state"),
            logout_form=derive_key(secret_key, "logout-form"),
            bind_form=derive_key(secret_key, "bind-form"),
            codes=derive_key(secret_key, "verification-codes"),
        )
