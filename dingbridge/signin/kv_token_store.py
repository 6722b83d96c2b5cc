"""DingTalk app tokens on the shared key-value store (the client's ``TokenStore`` protocol).

With the in-process KV one server process fetches each app token once; with Redis every
instance shares it, and :meth:`KVTokenStore.lock` is a cross-instance lock (``set_if_absent``
with a TTL, polled) so only one instance refreshes a token at a time. A holder that dies leaves
the lock to expire; a waiter gives up after ``lock_wait`` seconds and fetches anyway.

Values are secrets: nothing here logs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from dingbridge.kv import KV

KEY_PREFIX = "dt-token:"
LOCK_PREFIX = "dt-token-lock:"


class KVTokenStore:
    def __init__(
        self,
        kv: KV,
        *,
        lock_ttl: float = 15.0,
        lock_wait: float = 10.0,
        poll_interval: float = 0.05,
    ) -> None:
        self._kv = kv
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        self.poll_interval = poll_interval

    async def get(self, key: str) -> str | None:
        raw = await self._kv.get(KEY_PREFIX + key)
        return raw.decode() if raw is not None else None

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._kv.set(KEY_PREFIX + key, value.encode(), ttl=max(ttl, 0.001))

    async def delete(self, key: str) -> None:
        await self._kv.delete(KEY_PREFIX + key)

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock_key = LOCK_PREFIX + key
        mine = secrets.token_hex(8).encode()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_wait
        held = False
        while True:
            if await self._kv.set_if_absent(lock_key, mine, ttl=self.lock_ttl):
                held = True
                break
            if loop.time() >= deadline:
                break  # give up waiting: the caller fetches anyway
            await asyncio.sleep(self.poll_interval)
        try:
            yield
        finally:
            # Release only our own lock (it may have expired and been taken by another).
            if held and await self._kv.get(lock_key) == mine:
                await self._kv.delete(lock_key)
