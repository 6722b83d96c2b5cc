"""DingTalk app tokens on the shared key-value store (the client's ``TokenStore`` protocol).

With the in-process KV one server process fetches each app token once; with Redis every
instance shares it, and :meth:`KVTokenStore.lock` is a cross-instance lock: ``set_if_absent``
with a short TTL (``lock_ttl``), renewed by its holder while it fetches, so a holder that dies
(crash, kill -9, lost host) leaves a lock that expires within ``lock_ttl`` and the next waiter
takes over. Waiters poll; each poll also looks for the value, so they all go on with the new
token the moment the holder stores it, without fetching their own. A waiter gives up waiting
after ``lock_wait`` seconds (then its caller fetches anyway).

Values are secrets: nothing here logs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from dingbridge.kv import KV, KVError

KEY_PREFIX = "dt-token:"
LOCK_PREFIX = "dt-token-lock:"

log = logging.getLogger(__name__)


class KVTokenStore:
    def __init__(
        self,
        kv: KV,
        *,
        lock_ttl: float = 3.0,
        lock_wait: float = 30.0,
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
        """Held while this caller fetches ``key``; or, for a waiter, over as soon as another
        holder has stored a new value (the cache reads it before fetching)."""
        lock_key = LOCK_PREFIX + key
        mine = secrets.token_hex(8).encode()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_wait
        before = await self._kv.get(KEY_PREFIX + key)
        held = False
        while True:
            if await self._kv.set_if_absent(lock_key, mine, ttl=self.lock_ttl):
                held = True
                break
            now = await self._kv.get(KEY_PREFIX + key)
            if now is not None and now != before:
                break  # the holder stored a new value: no need to wait for its lock
            if loop.time() >= deadline:
                log.warning("waited %.0f s for a token refresh lock: fetching", self.lock_wait)
                break
            await asyncio.sleep(self.poll_interval)
        renewal = loop.create_task(self._renew(lock_key, mine)) if held else None
        try:
            yield
        finally:
            if renewal is not None:
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal
            # Release only our own lock (it may have expired and been taken by another).
            if held and await self._kv.get(lock_key) == mine:
                await self._kv.delete(lock_key)

    async def _renew(self, lock_key: str, mine: bytes) -> None:
        """Keep our lock alive while the fetch lasts (a DingTalk call may take 10 s)."""
        while True:
            await asyncio.sleep(self.lock_ttl / 3)
            try:
                if await self._kv.get(lock_key) != mine:
                    return  # lost it (expired and taken): the other holder goes on
                await self._kv.set(lock_key, mine, ttl=self.lock_ttl)
            except KVError as exc:
                log.warning("could not renew a token refresh lock: %s", exc)
