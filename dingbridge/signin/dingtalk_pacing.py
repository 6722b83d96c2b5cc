"""DingTalk's limits as one budget for every server instance: the client's ``Pacer``.

Two budgets, each a GCRA ("generic cell rate algorithm": every call reserves the next free
turn, turns are ``interval`` apart, ``burst`` of them may be taken ahead):

- **api**: per app (AppKey) and API (the endpoint, ids templated), ``dingtalk_qps`` calls per
  second (DingTalk's limit is 20; more answers 90018), one turn every ``1/qps`` seconds, so
  the calls are spread evenly and no second-long window of DingTalk's ever sees more;
- **egress**: per egress address (the forwarder named in the forward address, else this
  server's own), ``dingtalk_egress_limit`` calls per 20 s (DingTalk blocks an address for
  5 minutes at 10,000), with a burst of a twentieth of it: never more than the limit in any
  20 s.

A call waits for the later of its two turns. A turn further away than ``max_wait`` is not
taken: the call raises :class:`~dingbridge.dingtalk.pacing.PacingRefused` (the user gets a
clear error rather than a page that never loads). With Redis, the turns are reserved by one
Lua script on Redis's clock, so instances on several hosts share them exactly; with the
in-process KV, by this process alone. Waits and refusals are counted in the server's metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dingbridge.dingtalk.pacing import PacingRefused
from dingbridge.kv import KV, KVError
from dingbridge.kv.redis import RedisKV
from dingbridge.metrics import call_endpoint

EGRESS_WINDOW = 20.0
DIRECT = "direct"
BUDGETS = ("api", "egress")

# KEYS: the budgets' keys. ARGV: max_wait, then interval and tolerance of each key (µs).
# Returns {which, wait}: which = 0 when the call may go after `wait` µs (the reservation is
# made), or -i when budget i's turn is `wait` µs away, beyond max_wait (nothing reserved).
# `which` of a granted call is the budget whose turn came last (for the metrics), 0 if none
# waited; granted calls are returned as {0, wait, i}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max_wait = tonumber(ARGV[1])
local longest, longest_of = 0, 0
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local wait = tat - tolerance - now
  if wait < 0 then wait = 0 end
  if wait > max_wait then return {-i, math.floor(wait), 0} end
  if wait > longest then longest, longest_of = wait, i end
  tats[i] = tat + interval
end
for i = 1, #KEYS do
  local ttl = math.floor((tats[i] - now) / 1000) + 1000
  redis.call('SET', KEYS[i], string.format('%d', tats[i]), 'PX', ttl)
end
return {0, math.floor(longest), longest_of}
"""


@dataclass(frozen=True)
class Budget:
    key: str
    interval: float  # seconds between turns
    tolerance: float  # seconds of turns that may be taken ahead (burst - 1 intervals)


PacingObserver = Callable[[str, str, float], None]
"""``observer(event, budget, seconds)``: event "wait" (seconds waited) or "refused"."""


class SharedPacer:
    """The server's pacer; :meth:`for_egress` gives the client of one egress address its own
    view (the ``Pacer`` the client calls)."""

    def __init__(
        self,
        kv: KV,
        *,
        qps: int = 20,
        egress_limit: int = 5000,
        max_wait: float = 8.0,
        observer: PacingObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        if qps < 1 or egress_limit < 20 or not max_wait > 0:
            raise ValueError("qps ≥ 1, egress_limit ≥ 20 and max_wait > 0 are required")
        self.qps = qps
        self.egress_limit = egress_limit
        self.max_wait = max_wait
        self._observer = observer
        self._sleep = sleep
        self._redis = kv if isinstance(kv, RedisKV) else None
        self._script: Any = (
            self._redis.client.register_script(_RESERVE) if self._redis is not None else None
        )
        self._clock = clock
        self._tats: dict[str, float] = {}  # in-process turns (no Redis)

    def for_egress(self, forward_url: str | None) -> EgressPacer:
        """The pacer of the clients whose calls leave through ``forward_url`` (the forward
        address of a space; empty: this server calls DingTalk itself)."""
        egress = urlsplit(forward_url).netloc if forward_url else ""
        return EgressPacer(self, egress or DIRECT)

    def budgets(self, app_key: str, path: str, egress: str) -> tuple[Budget, Budget]:
        burst = max(1, self.egress_limit // 20)
        egress_interval = EGRESS_WINDOW / (self.egress_limit - burst + 1)
        return (
            Budget(f"pace:api:{app_key}:{call_endpoint(path)}", 1.0 / self.qps, 0.0),
            Budget(f"pace:egress:{egress}", egress_interval, (burst - 1) * egress_interval),
        )

    async def before_call(self, app_key: str, path: str, egress: str) -> None:
        budgets = self.budgets(app_key, path, egress)
        try:
            refused, wait, which = await self._reserve(budgets)
        except KVError:
            return  # Redis is down: calls go unpaced rather than not at all (90018 retries)
        if refused:
            self._observe("refused", BUDGETS[which], wait)
            raise PacingRefused(path=path, budget=BUDGETS[which], wait=wait)
        if wait > 0:
            self._observe("wait", BUDGETS[which], wait)
            await self._sleep(wait)

    async def _reserve(self, budgets: tuple[Budget, ...]) -> tuple[bool, float, int]:
        """(refused, wait in seconds, index of the budget that decided)."""
        if self._redis is None:
            return self._reserve_here(budgets)
        args: list[int] = [round(self.max_wait * 1e6)]
        for budget in budgets:
            args += [round(budget.interval * 1e6), round(budget.tolerance * 1e6)]
        try:
            which, wait, longest_of = await self._script(
                keys=[self._redis.full_key(b.key) for b in budgets], args=args
            )
        except Exception as exc:  # redis errors of every kind: the call goes unpaced
            raise KVError(f"Redis pacing script failed: {exc}") from exc
        if int(which) < 0:
            return True, int(wait) / 1e6, -int(which) - 1
        return False, int(wait) / 1e6, max(int(longest_of) - 1, 0)

    def _reserve_here(self, budgets: tuple[Budget, ...]) -> tuple[bool, float, int]:
        now = self._clock()
        longest, longest_of = 0.0, 0
        tats = []
        for index, budget in enumerate(budgets):
            tat = max(self._tats.get(budget.key, now), now)
            wait = max(tat - budget.tolerance - now, 0.0)
            if wait > self.max_wait:
                return True, wait, index
            if wait > longest:
                longest, longest_of = wait, index
            tats.append(tat + budget.interval)
        for budget, tat in zip(budgets, tats, strict=True):
            self._tats[budget.key] = tat
        if len(self._tats) > 10_000:  # forget turns long past
            self._tats = {k: v for k, v in self._tats.items() if v > now}
        return False, longest, longest_of

    def _observe(self, event: str, budget: str, seconds: float) -> None:
        if self._observer is not None:
            self._observer(event, budget, seconds)


@dataclass(frozen=True)
class EgressPacer:
    """The ``Pacer`` given to the DingTalk clients of one egress address."""

    shared: SharedPacer
    egress: str

    async def before_call(self, app_key: str, path: str) -> None:
        await self.shared.before_call(app_key, path, self.egress)
