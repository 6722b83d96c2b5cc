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
        yield KVTokenStore(kv, lock_ttl=0.15, poll_interval=0.005)
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
        yield KVTokenStore(kv, lock_ttl=0.15, poll_interval=0.005)
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


@pytest.fixture(params=["memory", "redis"])
async def shared_kv(request: pytest.FixtureRequest) -> AsyncIterator[MemoryKV | RedisKV]:
    """One KV two "instances" share (real time: the lock's expiry must really pass)."""
    if request.param == "memory":
        memory = MemoryKV()
        yield memory
        await memory.close()
        return
    url = os.environ.get("DINGBRIDGE_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("DINGBRIDGE_TEST_REDIS_URL is not set")
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    kv = RedisKV(aioredis.Redis.from_url(url), prefix=prefix)
    yield kv
    keys = [key async for key in kv.client.scan_iter(match=prefix + "*")]
    if keys:
        await kv.client.delete(*keys)
    await kv.close()


async def test_a_crashed_holder_blocks_no_one_and_the_others_fetch_once(
    shared_kv: MemoryKV | RedisKV,
) -> None:
    """An instance died holding the refresh lock (it never renews it again). The lock
    expires; one of the waiting instances takes it and fetches; every other caller, on either
    instance, gets that token (one fetch in all, long before the 30 s give-up)."""
    key = "dingtalk:app_token:crash"
    await shared_kv.set("dt-token-lock:" + key, b"dead-instance", ttl=0.3)
    fetches = 0

    async def fetch() -> FetchedToken:
        nonlocal fetches
        fetches += 1
        await asyncio.sleep(0.05)
        return FetchedToken("after-crash", 7200)

    instances = [
        TokenCache(KVTokenStore(shared_kv, lock_ttl=1.0, poll_interval=0.01)) for _ in range(2)
    ]
    values = await asyncio.wait_for(
        asyncio.gather(*(cache.get(key, fetch) for cache in instances * 10)), timeout=10
    )
    assert set(values) == {"after-crash"}
    assert fetches == 1
    assert await shared_kv.get("dt-token-lock:" + key) is None  # released after the fetch


async def test_waiters_take_the_new_token_while_the_holder_still_holds_the_lock(
    shared_kv: MemoryKV | RedisKV,
) -> None:
    """The waiting instance goes on as soon as the value is stored, not when the lock goes."""
    store_a = KVTokenStore(shared_kv, poll_interval=0.01)
    store_b = KVTokenStore(shared_kv, poll_interval=0.01)
    locked = asyncio.Event()
    store_now = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with store_a.lock("k"):
            locked.set()
            await store_now.wait()
            await store_a.set("k", "fresh", 60)
            await release.wait()

    async def waiter() -> str | None:
        async with store_b.lock("k"):
            return await store_b.get("k")

    holding = asyncio.ensure_future(holder())
    await locked.wait()
    waiting = asyncio.ensure_future(waiter())
    await asyncio.sleep(0.05)  # the waiter polls the lock
    assert not waiting.done()
    store_now.set()
    assert await asyncio.wait_for(waiting, timeout=5) == "fresh"
    assert not holding.done()  # the holder still held its lock
    release.set()
    await holding
