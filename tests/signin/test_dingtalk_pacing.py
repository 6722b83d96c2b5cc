"""The shared DingTalk pacer: calls per app per API spread at ``qps`` a second, an egress
address's budget shared by every app, turns too far away refused (and counted), and on Redis
one budget for every instance."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from dingbridge.dingtalk import PacingRefused
from dingbridge.kv.memory import MemoryKV
from dingbridge.kv.redis import RedisKV
from dingbridge.metrics import ServerMetrics
from dingbridge.signin.dingtalk_pacing import SharedPacer
from tests.kv.backends import FakeClock

GET_USER = "/topapi/v2/user/get"


class Waits:
    """Stands in for asyncio.sleep: records each wait and lets the fake clock pass nothing."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)


def _pacer(**options: object) -> tuple[SharedPacer, Waits, ServerMetrics]:
    waits = Waits()
    metrics = ServerMetrics()
    clock = FakeClock()
    pacer = SharedPacer(
        MemoryKV(clock=clock),
        clock=clock,
        sleep=waits,
        observer=metrics.pacing,
        **options,  # type: ignore[arg-type]
    )
    return pacer, waits, metrics


def _sample(metrics: ServerMetrics, name: str, budget: str) -> float:
    value = metrics.registry.get_sample_value(name, {"budget": budget})
    return value or 0.0


async def test_calls_to_one_api_are_spread_at_the_qps() -> None:
    pacer, waits, metrics = _pacer(qps=20)
    view = pacer.for_egress(None)
    for _ in range(5):
        await view.before_call("dingapp1", GET_USER)
    assert waits.seen == pytest.approx([0.05, 0.10, 0.15, 0.20])
    # another API of the same app, and the same API of another app, have their own turns
    await view.before_call("dingapp1", "/topapi/v2/user/getuserinfo")
    await view.before_call("dingapp2", GET_USER)
    assert len(waits.seen) == 4
    assert _sample(metrics, "dingbridge_dingtalk_paced_waits_total", "api") == 4
    assert _sample(metrics, "dingbridge_dingtalk_paced_wait_seconds_sum", "api") == pytest.approx(
        0.5
    )


async def test_paths_with_ids_share_their_api_budget() -> None:
    pacer, waits, _ = _pacer(qps=10)
    view = pacer.for_egress(None)
    await view.before_call("dingapp1", "/v1.0/contact/users/union-a")
    await view.before_call("dingapp1", "/v1.0/contact/users/union-b")
    assert waits.seen == pytest.approx([0.1])


async def test_a_turn_beyond_the_wait_bound_is_refused_and_counted() -> None:
    pacer, waits, metrics = _pacer(qps=1, max_wait=2.0)
    view = pacer.for_egress(None)
    for _ in range(3):
        await view.before_call("dingapp1", GET_USER)
    with pytest.raises(PacingRefused) as caught:
        await view.before_call("dingapp1", GET_USER)
    assert caught.value.budget == "api"
    assert caught.value.effective_code == "paced"
    assert waits.seen == pytest.approx([1.0, 2.0])
    assert _sample(metrics, "dingbridge_dingtalk_paced_refusals_total", "api") == 1
    # a refused call took no turn: the next one is refused too, no later
    with pytest.raises(PacingRefused) as again:
        await view.before_call("dingapp1", GET_USER)
    assert again.value.wait == pytest.approx(3.0)


async def test_the_egress_budget_is_shared_by_every_app_of_that_address() -> None:
    # 20 calls per 20 s: a burst of one, then one turn a second for every app on this address
    pacer, waits, metrics = _pacer(qps=20, egress_limit=20, max_wait=1.5)
    direct = pacer.for_egress("")
    await direct.before_call("dingapp1", GET_USER)
    await direct.before_call("dingapp2", GET_USER)
    with pytest.raises(PacingRefused) as caught:
        await direct.before_call("dingapp3", GET_USER)
    assert caught.value.budget == "egress"
    assert waits.seen == pytest.approx([1.0])
    assert _sample(metrics, "dingbridge_dingtalk_paced_refusals_total", "egress") == 1
    # calls through a forwarder leave from its address: a budget of their own
    forwarded = pacer.for_egress("http://203.0.113.5:888/api-dingtalk-com/")
    await forwarded.before_call("dingapp3", GET_USER)
    assert waits.seen == pytest.approx([1.0])


@pytest.fixture
async def redis_kvs() -> AsyncIterator[tuple[RedisKV, RedisKV]]:
    url = os.environ.get("DINGBRIDGE_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("DINGBRIDGE_TEST_REDIS_URL is not set")
    prefix = f"dingbridge-test:{uuid.uuid4().hex}:"
    first = RedisKV(aioredis.Redis.from_url(url), prefix=prefix)
    second = RedisKV(aioredis.Redis.from_url(url), prefix=prefix)
    yield first, second
    keys = [key async for key in first.client.scan_iter(match=prefix + "*")]
    if keys:
        await first.client.delete(*keys)
    await first.close()
    await second.close()


async def test_two_instances_on_redis_draw_on_one_budget(
    redis_kvs: tuple[RedisKV, RedisKV],
) -> None:
    """Instance A takes the turns now and in 1 s; instance B gets the one in 2 s, and the one
    in 3 s is further away than its bound of 2.5 s (a test taking half a second between two
    Redis calls would be needed to change that)."""
    waits_a, waits_b = Waits(), Waits()
    metrics_b = ServerMetrics()
    a = SharedPacer(redis_kvs[0], qps=1, max_wait=2.5, sleep=waits_a).for_egress(None)
    b = SharedPacer(
        redis_kvs[1], qps=1, max_wait=2.5, sleep=waits_b, observer=metrics_b.pacing
    ).for_egress(None)
    await a.before_call("dingapp1", GET_USER)
    await a.before_call("dingapp1", GET_USER)
    await b.before_call("dingapp1", GET_USER)
    with pytest.raises(PacingRefused):
        await b.before_call("dingapp1", GET_USER)
    assert len(waits_a.seen) == 1 and 0.5 < waits_a.seen[0] <= 1.0
    assert len(waits_b.seen) == 1 and 1.5 < waits_b.seen[0] <= 2.0
    assert _sample(metrics_b, "dingbridge_dingtalk_paced_refusals_total", "api") == 1
    # another app is not held up by dingapp1's turns
    await b.before_call("dingapp2", GET_USER)
    assert len(waits_b.seen) == 1
