"""Doctor fixtures: configs for the simulator's apps, an app lacking 成员信息读权限, a real
forwarder whose outgoing calls leave from a chosen source address."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from dingbridge.dingtalk import ASGITransport, Transport
from dingbridge.doctor import CheckResult, DoctorConfig
from dingbridge.forwarder.server import Forwarder
from dingbridge.forwarder.settings import ForwarderSettings
from dingbridge.sim import SimState
from dingbridge.sim.defaults import DEMO_CORP_ID, EVERY_PERMISSION, DemoApp, default_fixture

SIM_BASE = "http://sim.test"

# A fixture app of the demo corp without 成员信息读权限 (qyapi_get_member).
NO_MEMBER_APP = DemoApp("dingnomemberread05f", "sim-secret-nomember-05", 3001005, DEMO_CORP_ID)


def by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.id: r for r in results}


def config_for(
    app: DemoApp, transport: Transport | None, base: str = SIM_BASE, **changes: Any
) -> DoctorConfig:
    config = DoctorConfig(
        corp_id=app.corp_id,
        agent_id=str(app.agent_id),
        app_key=app.app_key,
        app_secret=app.app_secret,
        dingtalk_api=base,
        dingtalk_oapi=base,
        dingtalk_login=base,
        transport=transport,
        timeout=3.0,
    )
    return dataclasses.replace(config, **changes)


def fixture_with_no_member_app() -> dict[str, Any]:
    fixture = default_fixture()
    demo = next(c for c in fixture["corps"] if c["corp_id"] == DEMO_CORP_ID)
    demo["apps"].append(
        {
            "app_key": NO_MEMBER_APP.app_key,
            "app_secret": NO_MEMBER_APP.app_secret,
            "agent_id": NO_MEMBER_APP.agent_id,
            "name": "无成员读权限应用",
            "ip_whitelist": ["127.*.*.*"],
            "permissions": [p for p in EVERY_PERMISSION if p != "qyapi_get_member"],
            "redirect_urls": ["http://127.0.0.1:*/*"],
        }
    )
    return fixture


@pytest.fixture
def sim_state() -> SimState:
    """The demo world plus NO_MEMBER_APP (overrides the shared fixture for these tests)."""
    return SimState.from_fixture(fixture_with_no_member_app())


@pytest.fixture
def sim_transport(sim_app: Any) -> ASGITransport:
    """The simulator in-process, called from 127.0.0.1 (not whitelisted for WHITELIST_APP)."""
    return ASGITransport(sim_app)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


StartForwarder = Callable[..., Awaitable[Forwarder]]


@pytest.fixture
async def start_forwarder() -> AsyncIterator[StartForwarder]:
    """``await start_forwarder(upstream_url, source_address=...)`` → a running forwarder."""
    started: list[Forwarder] = []

    async def start(upstream: str, **overrides: Any) -> Forwarder:
        values: dict[str, Any] = {"listen": "127.0.0.1:0", "oapi": upstream, "api": upstream}
        values.update(overrides)
        forwarder = Forwarder(dataclasses.replace(ForwarderSettings(), **values))
        await forwarder.start()
        started.append(forwarder)
        return forwarder

    yield start
    for forwarder in started:
        await forwarder.close()
