"""Redis-backed :class:`~dingbridge.kv.KV` (``redis.asyncio``), shared by server instances.

Every key is stored under a prefix (``dingbridge:`` by default) so the database can be shared
with other software. TTLs are kept by Redis in milliseconds.
"""

from __future__ import annotations

import math
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from dingbridge.kv import KVError, check_ttl

DEFAULT_PREFIX = "dingbridge:"
# Connections to Redis per process, and how long a command waits for one when all are busy.
# redis-py's own pool *refuses* a command beyond its 100 connections (MaxConnectionsError):
# a burst of 200 sign-ins was answered "Redis unreachable". This pool waits instead.
POOL_SIZE = 100
POOL_WAIT_SECONDS = 10.0

# INCR, then set the expiry only if this call created the key: one atomic step.
_INCR_WITH_TTL = """
local value = redis.call('INCR', KEYS[1])
if value == 1 and tonumber(ARGV[1]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return value
"""


def _ms(ttl: float | None) -> int | None:
    check_ttl(ttl)
    return None if ttl is None else max(1, math.ceil(ttl * 1000))


class RedisKV:
    """Store on a Redis server; build it with :meth:`from_url` or around a client."""

    def __init__(self, client: aioredis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self.prefix = prefix
        self._incr_script: Any = client.register_script(_INCR_WITH_TTL)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisKV:
        try:
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS
            )
            client = aioredis.Redis.from_pool(pool)  # closing the client closes the pool
        except ValueError as exc:
            raise KVError(f"invalid Redis URL: {exc}") from None
        return cls(client, prefix=prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    @property
    def client(self) -> aioredis.Redis:
        """The Redis client, for a component that needs an atomic script of its own (the
        DingTalk pacer); it must prefix its keys with :meth:`full_key`."""
        return self._client

    def full_key(self, key: str) -> str:
        return self._k(key)

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._client.get(self._k(key))
        except RedisError as exc:
            raise KVError(f"Redis GET failed: {exc}") from exc
        if isinstance(value, str):  # a client built with decode_responses=True
            return value.encode()
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        px = _ms(ttl)
        try:
            await self._client.set(self._k(key), value, px=px)
        except RedisError as exc:
            raise KVError(f"Redis SET failed: {exc}") from exc

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        px = _ms(ttl)
        try:
            stored = await self._client.set(self._k(key), value, px=px, nx=True)
        except RedisError as exc:
            raise KVError(f"Redis SET NX failed: {exc}") from exc
        return bool(stored)

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete(self._k(key))
        except RedisError as exc:
            raise KVError(f"Redis DEL failed: {exc}") from exc

    async def incr(self, key: str, ttl: float | None = None) -> int:
        px = _ms(ttl) or 0
        try:
            value = await self._incr_script(keys=[self._k(key)], args=[px])
        except ResponseError:
            raise KVError(f"value at {key!r} is not an integer") from None
        except RedisError as exc:
            raise KVError(f"Redis INCR failed: {exc}") from exc
        return int(value)

    async def ttl(self, key: str) -> float | None:
        try:
            ms = int(await self._client.pttl(self._k(key)))
        except RedisError as exc:
            raise KVError(f"Redis PTTL failed: {exc}") from exc
        return None if ms < 0 else ms / 1000.0

    async def close(self) -> None:
        await self._client.aclose()
