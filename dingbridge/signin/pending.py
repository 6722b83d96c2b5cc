"""A DingTalk user on their way to binding: who DingTalk says they are, kept server-side.

The browser holds a random token (a cookie scoped to the space path); the KV holds the record
under the token's SHA-256 for 15 minutes. A one-time *ticket* (for the URL, when the identity
was learned by a fetch() whose cookies a WebView may drop) is exchanged for a fresh token.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from dingbridge.kv import KV

PENDING_COOKIE = "dingbridge_bind"
PENDING_LIFETIME = 900
TICKET_LIFETIME = 60


@dataclass(frozen=True)
class DingTalkIdentity:
    """A person DingTalk vouched for: ``userid`` in ``corp_id``; the rest when known."""

    corp_id: str
    userid: str
    unionid: str | None = None
    name: str | None = None
    mobile: str | None = None


@dataclass
class PendingBinding:
    space_id: int
    identity: DingTalkIdentity
    next_path: str
    mobile: str | None = None
    """The number the user typed (E.164), once a code was asked for."""
    decoy_tries: int = 0
    """Unused since a number of no member gets a code of its own (kept: records saved by an
    earlier version still load)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> PendingBinding:
        data = json.loads(raw)
        data["identity"] = DingTalkIdentity(**data["identity"])
        return cls(**data)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PendingBindings:
    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def start(self, pending: PendingBinding) -> str:
        token = secrets.token_urlsafe(32)
        await self.save(token, pending)
        return token

    async def save(self, token: str, pending: PendingBinding) -> None:
        await self._kv.set(f"bind-pending:{_hash(token)}", pending.to_json(), PENDING_LIFETIME)

    async def get(self, token: str, space_id: int) -> PendingBinding | None:
        if not token:
            return None
        raw = await self._kv.get(f"bind-pending:{_hash(token)}")
        if raw is None:
            return None
        pending = PendingBinding.from_json(raw)
        return pending if pending.space_id == space_id else None

    async def drop(self, token: str) -> None:
        if token:
            await self._kv.delete(f"bind-pending:{_hash(token)}")

    async def issue_ticket(self, token: str) -> str:
        ticket = secrets.token_urlsafe(32)
        await self._kv.set(f"bind-ticket:{_hash(ticket)}", token.encode(), TICKET_LIFETIME)
        return ticket

    async def redeem_ticket(self, ticket: str, space_id: int) -> str | None:
        """A fresh token for the ticket's pending binding (once); ``None`` otherwise."""
        if not ticket:
            return None
        key = f"bind-ticket:{_hash(ticket)}"
        raw = await self._kv.get(key)
        if raw is None or not await self._kv.set_if_absent(
            f"bind-ticket-used:{_hash(ticket)}", b"1", ttl=600
        ):
            return None
        await self._kv.delete(key)
        old = raw.decode()
        pending = await self.get(old, space_id)
        if pending is None:
            return None
        await self.drop(old)
        return await self.start(pending)
