"""RateLimiter behaviour, on MemoryKV and RedisKV."""

from __future__ import annotations

import pytest

from dingbridge.ratelimit import RateLimiter
from tests.kv.backends import Backend


async def test_allows_up_to_the_limit_then_refuses(kv_backend: Backend) -> None:
    limiter = RateLimiter(kv_backend.kv)
    results = [await limiter.hit("login:1.2.3.4", 3, 60) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert results[-1].retry_after > 0
    assert results[-1].retry_after <= 60


async def test_buckets_are_independent(kv_backend: Backend) -> None:
    limiter = RateLimiter(kv_backend.kv)
    await limiter.hit("a", 1, 60)
    assert (await limiter.hit("a", 1, 60)).allowed is False
    assert (await limiter.hit("b", 1, 60)).allowed is True


async def test_peek_does_not_count(kv_backend: Backend) -> None:
    limiter = RateLimiter(kv_backend.kv)
    for _ in range(3):
        assert (await limiter.peek("a", 2, 60)).allowed is True
    await limiter.hit("a", 2, 60)
    peeked = await limiter.peek("a", 2, 60)
    assert (peeked.allowed, peeked.remaining) == (True, 1)
    await limiter.hit("a", 2, 60)
    peeked = await limiter.peek("a", 2, 60)
    assert peeked.allowed is False
    assert peeked.retry_after > 0


async def test_reset_forgets_hits(kv_backend: Backend) -> None:
    limiter = RateLimiter(kv_backend.kv)
    await limiter.hit("a", 1, 60)
    await limiter.reset("a")
    assert (await limiter.hit("a", 1, 60)).allowed is True


async def test_window_ends_after_its_length(kv_backend: Backend) -> None:
    limiter = RateLimiter(kv_backend.kv)
    await limiter.hit("a", 1, 0.4)
    assert (await limiter.hit("a", 1, 0.4)).allowed is False
    await kv_backend.pass_time(0.6)
    assert (await limiter.hit("a", 1, 0.4)).allowed is True


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (1, 0)])
async def test_bad_limits_are_refused(kv_backend: Backend, limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        await RateLimiter(kv_backend.kv).hit("a", limit, window)
