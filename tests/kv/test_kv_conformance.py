"""One behaviour contract for every KV implementation (memory and Redis)."""

from __future__ import annotations

import asyncio

import pytest

from dingbridge.kv import KV, KVError, create_kv
from dingbridge.kv.memory import MemoryKV
from dingbridge.kv.redis import RedisKV
from tests.kv.backends import Backend, FakeClock

# TTL used where the store must really expire a key: short, since Redis waits for real.
SHORT = 0.4


async def test_is_a_kv(kv_backend: Backend) -> None:
    assert isinstance(kv_backend.kv, KV)


async def test_get_of_unknown_key_is_none(kv_backend: Backend) -> None:
    assert await kv_backend.kv.get("nothing-here") is None


async def test_set_then_get_round_trips_bytes(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    value = "会话 \x00\xff".encode()
    await kv.set("a", value)
    assert await kv.get("a") == value


async def test_set_replaces_value_and_clears_ttl(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.set("a", b"1", ttl=100)
    await kv.set("a", b"2")
    assert await kv.get("a") == b"2"
    assert await kv.ttl("a") is None


async def test_keys_are_independent(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.set("a", b"1")
    await kv.set("b", b"2")
    await kv.delete("a")
    assert await kv.get("a") is None
    assert await kv.get("b") == b"2"


async def test_delete_of_unknown_key_is_fine(kv_backend: Backend) -> None:
    await kv_backend.kv.delete("never-set")


async def test_set_if_absent_stores_only_once(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    assert await kv.set_if_absent("lock", b"first") is True
    assert await kv.set_if_absent("lock", b"second") is False
    assert await kv.get("lock") == b"first"


async def test_set_if_absent_has_a_single_winner_under_concurrency(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    results = await asyncio.gather(*(kv.set_if_absent("race", str(i).encode()) for i in range(20)))
    assert results.count(True) == 1


async def test_incr_counts_from_one(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    assert [await kv.incr("n") for _ in range(3)] == [1, 2, 3]
    assert await kv.get("n") == b"3"


async def test_incr_is_atomic_under_concurrency(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    values = await asyncio.gather(*(kv.incr("n", ttl=100) for _ in range(50)))
    assert sorted(values) == list(range(1, 51))


async def test_incr_ttl_applies_only_when_created(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.incr("n", ttl=100)
    kv_backend.clock.advance(10)
    await kv.incr("n", ttl=1000)
    left = await kv.ttl("n")
    assert left is not None
    assert left <= 100


async def test_incr_on_a_non_integer_is_a_clear_error(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.set("word", b"hello")
    with pytest.raises(KVError, match="not an integer"):
        await kv.incr("word")
    assert await kv.get("word") == b"hello"


async def test_ttl_reports_remaining_seconds(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.set("a", b"1", ttl=100)
    left = await kv.ttl("a")
    assert left is not None
    assert 0 < left <= 100


async def test_ttl_is_none_without_expiry_or_key(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.set("forever", b"1")
    assert await kv.ttl("forever") is None
    assert await kv.ttl("missing") is None


@pytest.mark.parametrize("bad", [0, -1])
async def test_non_positive_ttl_is_refused(kv_backend: Backend, bad: float) -> None:
    kv = kv_backend.kv
    with pytest.raises(KVError, match="ttl"):
        await kv.set("a", b"1", ttl=bad)
    assert await kv.get("a") is None


async def test_value_expires_after_ttl(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.set("a", b"1", ttl=SHORT)
    await kv.set("kept", b"1")
    await kv_backend.pass_time(SHORT + 0.2)
    assert await kv.get("a") is None
    assert await kv.ttl("a") is None
    assert await kv.get("kept") == b"1"


async def test_expired_key_is_absent_for_set_if_absent_and_incr(kv_backend: Backend) -> None:
    kv = kv_backend.kv
    await kv.set_if_absent("lock", b"old", ttl=SHORT)
    await kv.incr("n", ttl=SHORT)
    await kv.incr("n", ttl=SHORT)
    await kv_backend.pass_time(SHORT + 0.2)
    assert await kv.set_if_absent("lock", b"new") is True
    assert await kv.get("lock") == b"new"
    assert await kv.incr("n") == 1


# -- implementation-specific ------------------------------------------------------------


async def test_memory_kv_is_bounded_and_drops_oldest_first() -> None:
    clock = FakeClock()
    kv = MemoryKV(clock=clock, max_entries=3)
    for key in ("a", "b", "c"):
        await kv.set(key, b"1")
    await kv.set("a", b"2")  # rewriting makes "a" the newest
    await kv.set("d", b"1")
    assert len(kv) == 3
    assert await kv.get("b") is None
    assert await kv.get("a") == b"2"


async def test_memory_kv_drops_expired_entries_before_live_ones() -> None:
    clock = FakeClock()
    kv = MemoryKV(clock=clock, max_entries=2)
    await kv.set("live", b"1")
    await kv.set("short", b"1", ttl=1)
    clock.advance(2)
    await kv.set("new", b"1")
    assert await kv.get("live") == b"1"
    assert await kv.get("new") == b"1"


def test_create_kv_picks_the_implementation() -> None:
    assert isinstance(create_kv(None), MemoryKV)
    assert isinstance(create_kv("memory://"), MemoryKV)
    assert isinstance(create_kv("redis://127.0.0.1:6379/15"), RedisKV)


def test_create_kv_refuses_unknown_schemes() -> None:
    with pytest.raises(KVError, match="memcached"):
        create_kv("memcached://127.0.0.1")


async def test_redis_kv_prefixes_its_keys(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    kv = RedisKV(client, prefix="dingbridge-test:prefix-check:")
    try:
        await kv.set("k", b"v", ttl=10)
        assert await client.get("dingbridge-test:prefix-check:k") == b"v"
        assert await client.get("k") is None
        await kv.delete("k")
    finally:
        await kv.close()


async def test_default_redis_prefix_is_dingbridge() -> None:
    kv = create_kv("redis://127.0.0.1:6379/15")
    assert isinstance(kv, RedisKV)
    assert kv.prefix == "dingbridge:"
    await kv.close()


async def test_create_kv_memory_uses_the_given_clock() -> None:
    clock = FakeClock()
    kv = create_kv("memory://", clock=clock)
    await kv.set("a", b"1", ttl=10)
    clock.advance(11)
    assert await kv.get("a") is None


async def test_unreachable_redis_is_a_clear_error() -> None:
    kv = create_kv("redis://127.0.0.1:1/0")
    with pytest.raises(KVError, match="Redis GET failed"):
        await kv.get("a")
    await kv.close()
