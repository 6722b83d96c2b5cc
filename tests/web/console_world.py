"""Helpers for console tests that need a space wired to the simulator (in-process)."""

from __future__ import annotations

from typing import Any

from dingbridge.dingtalk import ASGITransport
from dingbridge.sim.defaults import DemoApp
from dingbridge.spaces.dingtalk_settings import DingTalkInput, save_dingtalk
from dingbridge.spaces.store import create_space
from tests.web.conftest import Server

SIM_BASE = "http://sim.test"


def use_simulator(server: Server, sim_app: Any) -> None:
    """Every DingTalk call of the server goes to ``sim_app`` in-process, from 127.0.0.1."""
    server.app.state.context.signin.clients.use_transport(ASGITransport(sim_app))


async def space_for(
    server: Server, app: DemoApp, *, forward_url: str = "", enabled: bool = True
) -> int:
    """A new space whose DingTalk settings are ``app``'s; returns its id."""
    context = server.app.state.context
    async with context.db.transaction() as session:
        space = await create_space(session, "销售部", actor="test")
        await save_dingtalk(
            session,
            context.secret_box,
            space.id,
            DingTalkInput(
                enabled=enabled,
                corp_name="示例科技有限公司",
                corp_id=app.corp_id,
                agent_id=str(app.agent_id),
                app_key=app.app_key,
                app_secret=app.app_secret,
                forward_url=forward_url,
            ),
            actor="test",
        )
    return space.id
