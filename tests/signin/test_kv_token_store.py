"""The KV-backed DingTalk token store passes the client's TokenStore conformance suite, on the
in-process KV and on Redis (two server instances share one token and fetch it once)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from dingbridge.dingtalk.token_cache import FetchedToken, TokenCache
from dingbridge.kv.memory import MemoryKV
from dingbridge.kv.redis import RedisKV
from dingbridge.signin.kv_token_store import KVTokenStore
from tests.dingtalk.token_store_conformance import PassTime, TokenStoreConformance
from tests.kv.backends import FakeClock


class TestMemoryKVTokenStore(TokenStoreConformance):
    @pytest.fixture
    async def token_store(self, clock: FakeClock) -> AsyncIterator[KVTokenStore]:
        kv = MemoryKV(clock=clock)
        yield KVTokenStore(kv, poll_interval=0.005)
        await kv.close()


class TestRedisKVTokenStore(TokenStoreConformance):
    @pytest.fixture
    def pass_time(self) -> PassTime:
        return asyncio.sleep  # Redis keeps its own time

    @pytest.fixture
    async def token_store(self) -> AsyncIterator[KVTokenStore]:
        url = os.environ.get("DINGBRIDGE_TEST_REDIS_URL", "")
        if not url:
            pytest.skip("DINGBRIDGE_TEST_REDIS_URL is not set")
        prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
        client = aioredis.Redis.from_url(url)
        kv = RedisKV(client, prefix=prefix)
        yield KVTokenStore(kv, poll_interval=0.005)
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await kv.close()


async def test_a_stuck_lock_is_given_up_after_the_wait() -> None:
    """A holder that died leaves the lock; the next caller still gets a token."""
    kv = MemoryKV()
    store = KVTokenStore(kv, lock_wait=0.05, poll_interval=0.01)
    await kv.set("dt-token-lock:dingtalk:app_token:k", b"someone-else", ttl=60)

    async def fetch() -> FetchedToken:
        return FetchedToken("fresh", 7200)

    assert await asyncio.wait_for(TokenCache(store).get("dingtalk:app_token:k", fetch), 2) == (
        "fresh"
    )
    # the other holder's lock is left alone
    assert await kv.get("dt-token-lock:dingtalk:app_token:k") == b"someone-else"
    await kv.close()
