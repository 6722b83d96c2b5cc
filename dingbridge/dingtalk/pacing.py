"""Pacing DingTalk calls below DingTalk's limits, and riding out a 90018 when one slips through.

DingTalk allows each app 20 calls per second per API (more answers 90018 /
``Forbidden.AccessDenied.QpsLimitForAppkeyAndApi``) and blocks an egress IP for 5 minutes
after 10,000 calls in 20 seconds. The client asks a :class:`Pacer` before every HTTP attempt:

``await pacer.before_call(app_key, path)``
    Returns when the call may go (after a wait, if the budget of that app and API, or of the
    egress address, is spent for now), or raises :class:`PacingRefused` when the wait would be
    longer than the pacer's bound (the user would rather get an answer than wait on).

The default :class:`NoPacing` lets every call go at once (one client used alone). The server
passes a shared one (Redis, so every instance draws on one budget); this package holds only
the interface, like :class:`~dingbridge.dingtalk.token_cache.TokenStore`.

:class:`QpsRetry` is what the caller does with a 90018 that happens anyway (another program
using the same app, clocks that differ): wait and send again, within a total bound.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

from dingbridge.dingtalk.errors import DingTalkError, RateLimited

__all__ = ["NoPacing", "Pacer", "PacingRefused", "QpsRetry", "is_qps_limit"]


class Pacer(Protocol):
    async def before_call(self, app_key: str, path: str) -> None: ...


class NoPacing:
    async def before_call(self, app_key: str, path: str) -> None:
        return None


class PacingRefused(RateLimited):
    """The call was not sent: it would have waited longer than the pacer's bound for its turn.

    ``budget`` is ``"api"`` (the app's calls per second to this API) or ``"egress"`` (the
    calls per 20 s from this egress address); ``wait`` the seconds the turn was away."""

    def __init__(self, *, path: str, budget: str, wait: float) -> None:
        self.budget = budget
        self.wait = wait
        super().__init__(
            f"DingTalk {path}: not sent, the {budget} call budget is spent for the next "
            f"{wait:.1f} s (calls are paced below DingTalk's limits)",
            path=path,
            code="paced",
        )

    @property
    def explanation(self) -> str:
        return "调用钉钉接口的人太多，已排队但等待过久：请稍后重试。"

    @property
    def explanation_en(self) -> str:
        return "Too many calls to DingTalk at once; waited too long for a turn. Try again shortly."


_QPS_CODES = frozenset({"90018", "90002"})


def is_qps_limit(error: DingTalkError) -> bool:
    """A per-second (or per-minute) limit answer that a later retry may pass: 90018 and its
    api spellings. Not the monthly quota, not the IP ban (a retry within 5 minutes is
    refused again), not our own :class:`PacingRefused`."""
    if not isinstance(error, RateLimited) or isinstance(error, PacingRefused):
        return False
    code = error.effective_code or ""
    return code in _QPS_CODES or code.startswith(
        ("Forbidden.AccessDenied.Qps", "Forbidden.AccessDenied.Qpm")
    )


@dataclass(frozen=True)
class QpsRetry:
    """A 90018 is answered by waiting ``first`` seconds (doubling, at most ``longest``, with
    jitter so instances do not retry in step) and sending again, until ``patience`` seconds
    of waiting have been spent: then the error is raised."""

    patience: float = 8.0
    first: float = 0.25
    longest: float = 2.0

    def delay(self, attempt: int, waited: float) -> float | None:
        """The wait before retry number ``attempt`` (1, 2, ...), or None: give up."""
        base = float(min(self.first * (2 ** (attempt - 1)), self.longest))
        delay = base * (0.5 + random.random() / 2)  # jitter, not a secret
        if waited + delay > self.patience:
            return None
        return delay
