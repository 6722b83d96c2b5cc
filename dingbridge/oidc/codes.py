"""Authorization codes in the shared KV, so any instance can redeem what another issued.

A code lives :data:`CODE_LIFETIME` seconds and is redeemed once: :meth:`AuthorizationCodes.take`
claims it atomically (``set_if_absent``); a second redemption gets ``None`` and the code's
``family``, so the caller revokes the tokens the first redemption issued. Only a SHA-256 of the
code is a KV key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass

from dingbridge.kv import KV

CODE_LIFETIME = 60


@dataclass
class CodeGrant:
    """What an authorization code stands for (authlib's ``AuthorizationCodeMixin``)."""

    space_id: int
    app_id: int
    client_id: str
    member_id: int
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    sid: str | None
    family: str

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


def _handle(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class AuthorizationCodes:
    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def save(self, code: str, grant: CodeGrant) -> None:
        value = json.dumps(asdict(grant)).encode()
        await self._kv.set(f"oidc-code:{_handle(code)}", value, ttl=CODE_LIFETIME)

    async def take(self, code: str) -> tuple[CodeGrant | None, str | None]:
        """``(grant, None)`` the first time; ``(None, family)`` for a code already redeemed
        (revoke that family); ``(None, None)`` for an unknown or expired code."""
        if not code or len(code) > 200:
            return None, None
        handle = _handle(code)
        raw = await self._kv.get(f"oidc-code:{handle}")
        if raw is None:
            return None, None
        grant = CodeGrant(**json.loads(raw))
        claimed = await self._kv.set_if_absent(
            f"oidc-code-used:{handle}", b"1", ttl=CODE_LIFETIME + 5
        )
        if not claimed:
            return None, grant.family
        return grant, None

    async def release(self, code: str) -> None:
        """Make a code this request claimed redeemable again: its tokens could not be saved
        (the database failed), so the app's retry of the same exchange may succeed."""
        await self._kv.delete(f"oidc-code-used:{_handle(code)}")


def new_family() -> str:
    return secrets.token_urlsafe(16)
