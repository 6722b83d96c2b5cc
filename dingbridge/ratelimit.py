"""Fixed-window rate limits on the shared key-value store.

A bucket's window opens at its first hit and lasts ``window`` seconds; up to ``limit`` hits are
allowed in it. The counter lives in the :class:`~dingbridge.kv.KV`, so every server instance
sharing a Redis store shares the limits.

Count before acting (:meth:`RateLimiter.hit`, an atomic increment), not check then count:
with :meth:`~RateLimiter.peek` first, parallel requests all see the same count and all go
through. A hit that turned out not to be spent (the SMS provider failed, the admin's password
was right) is given back with :meth:`~RateLimiter.give_back`, a second counter of the same
window subtracted from the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from dingbridge.kv import KV

KEY_PREFIX = "rl:"


@dataclass(frozen=True)
class RateLimitResult:
    """``allowed``: this hit may proceed. ``remaining``: hits left in the window.
    ``retry_after``: seconds until the window closes (0 when allowed)."""

    allowed: bool
    remaining: int
    retry_after: float


class RateLimiter:
    """Counts hits per bucket name (e.g. ``"admin-login:ip:127.0.0.1"``).

    Windows are timed by the store's TTLs (the KV's clock, or Redis); bucket names should
    include what the limit is about.
    """

    def __init__(self, kv: KV) -> None:
        self._kv = kv

    @staticmethod
    def _check(limit: int, window: float) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not window > 0:
            raise ValueError(f"window must be a positive number of seconds, got {window}")

    async def hit(self, bucket: str, limit: int, window: float) -> RateLimitResult:
        """Count one hit and say whether it is within the limit."""
        self._check(limit, window)
        key = KEY_PREFIX + bucket
        count = await self._kv.incr(key, ttl=window) - await self._given_back(key)
        if count <= limit:
            return RateLimitResult(True, limit - count, 0.0)
        return RateLimitResult(False, 0, await self._retry_after(key, window))

    async def peek(self, bucket: str, limit: int, window: float) -> RateLimitResult:
        """Whether a hit now would be allowed, without counting one."""
        self._check(limit, window)
        key = KEY_PREFIX + bucket
        raw = await self._kv.get(key)
        count = (int(raw) if raw is not None else 0) - await self._given_back(key)
        if count < limit:
            return RateLimitResult(True, limit - count, 0.0)
        return RateLimitResult(False, 0, await self._retry_after(key, window))

    async def give_back(self, bucket: str, window: float) -> None:
        """Uncount one earlier hit of this window (it was not spent after all)."""
        key = KEY_PREFIX + bucket
        if await self._kv.get(key) is not None:
            await self._kv.incr(key + ":back", ttl=window)

    async def reset(self, bucket: str) -> None:
        """Forget the bucket's hits (e.g. after a successful login)."""
        await self._kv.delete(KEY_PREFIX + bucket)
        await self._kv.delete(KEY_PREFIX + bucket + ":back")

    async def _given_back(self, key: str) -> int:
        raw = await self._kv.get(key + ":back")
        return int(raw) if raw is not None else 0

    async def _retry_after(self, key: str, window: float) -> float:
        left = await self._kv.ttl(key)
        return window if left is None else left
