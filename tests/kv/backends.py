"""The ``kv_backend`` fixture: every test using it runs on MemoryKV and on RedisKV.

Redis runs only when ``DINGBRIDGE_TEST_REDIS_URL`` is set; each test gets its own key prefix
and deletes only its own keys afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from dingbridge.kv import KV
from dingbridge.kv.memory import MemoryKV
from dingbridge.kv.redis import RedisKV


class FakeClock:
    """A settable clock in seconds (starts at a realistic epoch time)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    name: str
    kv: KV
    clock: FakeClock

    @property
    def real_time(self) -> bool:
        """True when the store keeps its own time (TTLs pass only by waiting)."""
        return self.name == "redis"

    async def pass_time(self, seconds: float) -> None:
        """Let ``seconds`` pass for the store's TTLs and for the fake clock.

        On Redis this really waits, so keep it short (≤ 1.5 s) and rare.
        """
        self.clock.advance(seconds)
        if self.real_time:
            await asyncio.sleep(seconds)


@pytest.fixture(params=["memory", "redis"])
async def kv_backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    clock = FakeClock()
    if request.param == "memory":
        kv = MemoryKV(clock=clock)
        yield Backend("memory", kv, clock)
        await kv.close()
        return
    url = os.environ.get("DINGBRIDGE_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("DINGBRIDGE_TEST_REDIS_URL is not set")
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    client = aioredis.Redis.from_url(url)
    rkv = RedisKV(client, prefix=prefix)
    try:
        yield Backend("redis", rkv, clock)
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await rkv.close()
