"""The OAuth ``state`` of a browser sign-in, bound to the browser that started it.

Starting a sign-in makes a random ``state`` (sent to DingTalk) and a short-lived cookie holding
the same value, the space and the post-login destination, signed with HMAC-SHA256 under the
server secret. The callback accepts the answer only when the cookie is present, its signature
and age are good, it names the same space, and its state equals the one DingTalk echoed
(constant-time comparison). A state works once (claimed in the KV).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from dingbridge.kv import KV

STATE_COOKIE = "dingbridge_oauth"
STATE_LIFETIME = 600


class StateInvalid(ValueError):
    """The callback's state does not match this browser's sign-in (or was used, or is old)."""


@dataclass(frozen=True)
class StartedSignIn:
    state: str
    cookie: str


def _sign(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def start(key: bytes, space_id: int, next_path: str, *, now: float | None = None) -> StartedSignIn:
    state = secrets.token_urlsafe(24)
    issued = int(time.time() if now is None else now)
    payload = json.dumps([space_id, issued, state, next_path], separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return StartedSignIn(state, f"{encoded}.{_sign(key, payload)}")


async def finish(
    key: bytes,
    kv: KV,
    cookie: str,
    state: str,
    space_id: int,
    *,
    now: float | None = None,
) -> str:
    """Check the callback; returns the post-login destination. :class:`StateInvalid` else."""
    encoded, _, signature = cookie.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        raise StateInvalid("state cookie unreadable") from None
    if not signature or not hmac.compare_digest(_sign(key, payload), signature):
        raise StateInvalid("state cookie signature wrong")
    try:
        cookie_space, issued, expected, next_path = json.loads(payload)
    except ValueError:
        raise StateInvalid("state cookie unreadable") from None
    current = time.time() if now is None else now
    if cookie_space != space_id:
        raise StateInvalid("state cookie of another space")
    if not 0 <= current - issued <= STATE_LIFETIME:
        raise StateInvalid("state too old")
    if not state or not hmac.compare_digest(str(expected), state):
        raise StateInvalid("state differs from the cookie")
    digest = hashlib.sha256(state.encode()).hexdigest()
    if not await kv.set_if_absent(f"oauth-state-used:{digest}", b"1", ttl=STATE_LIFETIME):
        raise StateInvalid("state already used")
    return str(next_path)
