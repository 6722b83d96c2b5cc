""" "测试连接 / Test connection" for the console and the API: run the doctor's checks for a space,
remember the results (for the page, an hour, shared by instances through the KV), audit the run.

The audit entry lists each check's status and the egress IP; never a secret (the doctor's
results carry DingTalk's error code and message, not the credentials).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dingbridge.errors import Conflict, ServiceUnavailable
from dingbridge.spaces import audit
from dingbridge.spaces.dingtalk_settings import (
    DingTalkConfig,
    DingTalkInput,
    load_dingtalk,
    save_dingtalk,
)
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import DingTalkSettingsRow

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

RESULTS_TTL = 3600
LOCK_TTL = 120
_KEY = "dingtalk-test:{space_id}"
_LOCK = "dingtalk-test-lock:{space_id}"


@dataclass(frozen=True)
class ConnectionTest:
    """One run: each check as ``CheckResult.as_dict()`` (cause and fix in zh-CN and English)."""

    space_id: int
    time: str
    checks: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return all(check["status"] != "fail" for check in self.checks)

    @property
    def egress_ip(self) -> str | None:
        for check in self.checks:
            ip = (check.get("data") or {}).get("egress_ip")
            if ip:
                return str(ip)
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"space_id": self.space_id, "time": self.time, "checks": self.checks}


def available() -> bool:
    try:
        from dingbridge.doctor.space_checks import run_connection_checks  # noqa: F401
    except ImportError:
        return False
    return True


async def run_connection_test(
    context: AppContext, space_id: int, *, base_url: str, actor: str
) -> ConnectionTest:
    """Run every check now (``base_url``: the server as users reach it);
    :class:`ServiceUnavailable` when the doctor is not installed."""
    try:
        from dingbridge.doctor.space_checks import run_connection_checks
    except ImportError:
        raise ServiceUnavailable("Test connection is not available in this installation.") from None
    async with context.db.session() as session:
        await get_space(session, space_id)
    # One test per space at a time: each calls DingTalk about ten times (its QPS limits).
    lock = _LOCK.format(space_id=space_id)
    if not await context.kv.set_if_absent(lock, b"1", LOCK_TTL):
        raise Conflict("A connection test of this space is running; wait for its results.")
    try:
        results = await run_connection_checks(context, space_id, base_url=base_url)
    finally:
        await context.kv.delete(lock)
    run = ConnectionTest(
        space_id=space_id,
        time=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        checks=[result.as_dict() for result in results],
    )
    await context.kv.set(
        _KEY.format(space_id=space_id), json.dumps(run.as_dict()).encode(), RESULTS_TTL
    )
    async with context.db.transaction() as session:
        await audit.record(
            session,
            actor,
            "dingtalk.test",
            f"space:{space_id}",
            {
                "result": "pass" if run.ok else "fail",
                "checks": {check["id"]: check["status"] for check in run.checks},
                "egress_ip": run.egress_ip,
            },
        )
    log.info(
        "space %d: test connection by %s: %s",
        space_id,
        actor,
        ", ".join(f"{check['id']}={check['status']}" for check in run.checks),
    )
    return run


async def last_connection_test(context: AppContext, space_id: int) -> ConnectionTest | None:
    raw = await context.kv.get(_KEY.format(space_id=space_id))
    if raw is None:
        return None
    data = json.loads(raw)
    return ConnectionTest(space_id=space_id, time=data["time"], checks=data["checks"])


async def forget_connection_test(context: AppContext, space_id: int) -> None:
    """Saved settings make the last results stale: the page asks for a new test."""
    await context.kv.delete(_KEY.format(space_id=space_id))


async def save_dingtalk_settings(
    context: AppContext, space_id: int, data: DingTalkInput, *, actor: str
) -> DingTalkConfig:
    """Save (validated, audited); the last test results go, and so does the egress IP DingTalk
    saw when the calls now take another way (direct or another forwarder)."""
    async with context.db.transaction() as session:
        before = await load_dingtalk(session, space_id)
        config = await save_dingtalk(session, context.secret_box, space_id, data, actor=actor)
        if before.forward_url != config.forward_url and config.egress_ip_seen:
            row = await session.get(DingTalkSettingsRow, space_id)
            assert row is not None
            row.egress_ip_seen = None
            config = replace(config, egress_ip_seen=None)
    await forget_connection_test(context, space_id)
    return config
