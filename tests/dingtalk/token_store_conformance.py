"""Conformance suite for TokenStore implementations (memory here; Redis reuses it).

Use it by subclassing and providing a ``token_store`` fixture, and a ``pass_time`` fixture
(an async function of seconds) when the store keeps its own time: in-process stores take the
default, which advances the fake clock the ``clock`` fixture gives them::

    class TestRedisTokenStore(TokenStoreConformance):
        @pytest.fixture
        async def token_store(self, redis_url): ...

        @pytest.fixture
        def pass_time(self): return asyncio.sleep  # Redis keeps real time

A shared store's lock should expire quickly when its holder dies: give the store under test a
lock expiry shorter than 0.4 s, so the suite checks that a live holder renews it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from dingbridge.dingtalk.token_cache import FetchedToken, TokenCache, TokenStore
from tests.kv.backends import FakeClock

PassTime = Callable[[float], Awaitable[None]]


class TokenStoreConformance:
    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def pass_time(self, clock: FakeClock) -> PassTime:
        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        return advance

    async def test_get_set_delete(self, token_store: TokenStore) -> None:
        assert await token_store.get("conf:a") is None
        await token_store.set("conf:a", "value-1", 60)
        assert await token_store.get("conf:a") == "value-1"
        await token_store.set("conf:a", "value-2", 60)
        assert await token_store.get("conf:a") == "value-2"
        await token_store.delete("conf:a")
        assert await token_store.get("conf:a") is None
        await token_store.delete("conf:a")  # deleting a missing key is fine

    async def test_keys_are_independent(self, token_store: TokenStore) -> None:
        await token_store.set("conf:x", "1", 60)
        await token_store.set("conf:y", "2", 60)
        await token_store.delete("conf:x")
        assert await token_store.get("conf:y") == "2"

    async def test_values_expire_after_ttl(
        self, token_store: TokenStore, pass_time: PassTime
    ) -> None:
        await token_store.set("conf:ttl", "short", 0.05)
        assert await token_store.get("conf:ttl") == "short"
        await pass_time(0.2)
        assert await token_store.get("conf:ttl") is None

    async def test_lock_excludes_other_holders(self, token_store: TokenStore) -> None:
        inside = 0
        most = 0

        async def hold() -> None:
            nonlocal inside, most
            async with token_store.lock("conf:lock"):
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(0.01)
                inside -= 1

        await asyncio.gather(*(hold() for _ in range(5)))
        assert most == 1

    async def test_two_caches_sharing_the_store_fetch_once(self, token_store: TokenStore) -> None:
        """Two instances (two TokenCache objects) asking at once cause one fetch."""
        fetches = 0

        async def fetch() -> FetchedToken:
            nonlocal fetches
            fetches += 1
            await asyncio.sleep(0.02)
            return FetchedToken("shared-token", 7200)

        caches = [TokenCache(token_store), TokenCache(token_store)]
        values = await asyncio.gather(*(c.get("conf:shared", fetch) for c in caches * 20))
        assert set(values) == {"shared-token"}
        assert fetches == 1

    async def test_a_fetch_slower_than_the_lock_lasts_is_still_made_once(
        self, token_store: TokenStore
    ) -> None:
        """A holder keeps its lock for as long as its fetch takes (a cross-instance lock with a
        short expiry is renewed): a waiter does not take over and fetch a second token."""
        fetches = 0

        async def slow_fetch() -> FetchedToken:
            nonlocal fetches
            fetches += 1
            await asyncio.sleep(0.4)
            return FetchedToken("slow-token", 7200)

        caches = [TokenCache(token_store), TokenCache(token_store)]
        values = await asyncio.gather(*(c.get("conf:slow", slow_fetch) for c in caches * 5))
        assert set(values) == {"slow-token"}
        assert fetches == 1
