"""Cached app tokens and JSAPI tickets: refreshed ahead of expiry, fetched single-flight.

The cache sits on a tiny async :class:`TokenStore` so a shared (Redis) store can replace the
in-memory one. A store must provide:

``get(key) -> str | None``
    The value, or None when absent or expired.
``set(key, value, ttl)``
    Store ``value`` for ``ttl`` seconds (float). The cache passes ttl = lifetime - margin,
    so an entry disappears *before* DingTalk expires it (refresh ahead of expiry).
``delete(key)``
    Forget a value (DingTalk said the token is invalid).
``lock(key)``
    An async context manager held while one caller fetches a new value: while one holder
    is inside, another ``lock(key)`` waits. The memory store uses an asyncio.Lock per key
    (several caches in one process sharing the store fetch once); a shared store returns a
    cross-instance lock (e.g. Redis ``SET NX PX`` + polling) so only one instance fetches.
    It should give up after a bounded wait (then the caller fetches anyway) rather than
    block forever.

The conformance suite ``tests/dingtalk/token_store_conformance.py`` checks all of this.

Values are secrets: a store must not log them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

__all__ = ["FetchedToken", "MemoryTokenStore", "TokenCache", "TokenStore"]


class TokenStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    def lock(self, key: str) -> AbstractAsyncContextManager[None]: ...


class MemoryTokenStore:
    """In-process store. ``clock`` (seconds, monotonic) is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        value, expires_at = item
        if self._clock() >= expires_at:
            del self._values[key]
            return None
        return value

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, self._clock() + ttl)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        async with self._locks.setdefault(key, asyncio.Lock()):
            yield


@dataclass(frozen=True)
class FetchedToken:
    value: str
    expires_in: float


class TokenCache:
    """Get-or-fetch with refresh margin and single flight per key.

    Concurrent :meth:`get` calls on a missing key share one fetch, and share its failure
    too: 100 callers with a wrong AppSecret cause one token request and 100 errors.
    """

    def __init__(self, store: TokenStore, *, refresh_margin: float = 300.0) -> None:
        self.store = store
        self.refresh_margin = refresh_margin
        self._flights: dict[str, asyncio.Task[str]] = {}

    def _ttl(self, expires_in: float) -> float:
        # keep at least a minute (or half the lifetime) even for short-lived values
        return max(expires_in - self.refresh_margin, min(60.0, expires_in / 2))

    async def get(
        self,
        key: str,
        fetch: Callable[[], Awaitable[FetchedToken]],
        *,
        force_refresh: bool = False,
    ) -> str:
        if not force_refresh:
            value = await self.store.get(key)
            if value is not None:
                return value
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._refresh(key, fetch, force_refresh))
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        # shield: one caller giving up (cancelled) does not cancel the others' fetch
        return await asyncio.shield(flight)

    def _landed(self, key: str, flight: asyncio.Task[str]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved here so an unawaited failure is not reported

    async def _refresh(
        self, key: str, fetch: Callable[[], Awaitable[FetchedToken]], force_refresh: bool
    ) -> str:
        async with self.store.lock(key):
            if not force_refresh:
                value = await self.store.get(key)  # another instance may have fetched
                if value is not None:
                    return value
            fetched = await fetch()
            await self.store.set(key, fetched.value, self._ttl(fetched.expires_in))
            return fetched.value

    async def invalidate(self, key: str, value: str | None = None) -> None:
        """Forget ``key`` (only if it still holds ``value``, when given)."""
        if value is not None and await self.store.get(key) != value:
            return  # someone already replaced the bad value
        await self.store.delete(key)
