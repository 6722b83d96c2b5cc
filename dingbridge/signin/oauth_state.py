"""The OAuth ``state`` of a browser sign-in, bound to the browser that started it.

Starting a sign-in makes a random ``state`` (sent to DingTalk) and a short-lived cookie holding
the same value, the space and the post-login destination, signed by ``itsdangerous`` (HMAC)
under the server's OAuth-state key (:mod:`dingbridge.keys`). The callback accepts the answer
only when the cookie is present, its signature and age are good, it names the same space, and
its state equals the one DingTalk echoed (constant-time comparison). A state works once
(claimed in the KV).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

from dingbridge.kv import KV

STATE_COOKIE = "dingbridge_oauth"
STATE_LIFETIME = 600


class StateInvalid(ValueError):
    """The callback's state does not match this browser's sign-in (or was used, or is old)."""


@dataclass(frozen=True)
class StartedSignIn:
    state: str
    cookie: str


def _serializer(key: bytes) -> URLSafeSerializer:
    # The issue time travels in the payload (and is checked below) so tests can set the clock.
    return URLSafeSerializer(key, salt="dingbridge oauth state")


def start(key: bytes, space_id: int, next_path: str, *, now: float | None = None) -> StartedSignIn:
    state = secrets.token_urlsafe(24)
    issued = int(time.time() if now is None else now)
    cookie = _serializer(key).dumps([space_id, issued, state, next_path])
    return StartedSignIn(state, str(cookie))


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
    try:
        cookie_space, issued, expected, next_path = _serializer(key).loads(cookie)
    except BadData:
        raise StateInvalid("state cookie signature wrong or unreadable") from None
    except (TypeError, ValueError):
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
