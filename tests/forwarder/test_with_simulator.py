"""The forwarder in front of the DingTalk simulator: the whitelist sees --source-address, and
the DingTalk client works through a forward address in the seed's form."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
import uvicorn

from dingbridge.dingtalk.client import DingTalkClient
from dingbridge.dingtalk.endpoints import Endpoints
from dingbridge.forwarder.server import Forwarder
from dingbridge.forwarder.settings import ForwarderSettings
from dingbridge.sim import SimState
from dingbridge.sim.app import create_app
from dingbridge.sim.defaults import FULL_APP, WHITELIST_APP
from tests.forwarder.conftest import raw_request


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    config = uvicorn.Config(
        create_app(SimState.default()),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # up to 10 s for uvicorn to start listening
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def start(sim_url: str, source_address: str | None = None) -> Forwarder:
    settings = dataclasses.replace(
        ForwarderSettings(),
        listen="127.0.0.1:0",
        oapi=sim_url,
        api=sim_url,
        source_address=source_address,
    )
    forwarder = Forwarder(settings)
    await forwarder.start()
    return forwarder


GETTOKEN = (
    f"GET /oapi-dingtalk-com/gettoken?appkey={WHITELIST_APP.app_key}"
    f"&appsecret={WHITELIST_APP.app_secret} HTTP/1.1\r\nHost: forwarder\r\n\r\n"
).encode()


async def test_source_address_passes_the_simulator_whitelist(sim_url: str) -> None:
    plain = await start(sim_url)
    bound = await start(sim_url, source_address="127.0.0.2")
    try:
        refused = (await raw_request(plain.port, GETTOKEN)).json()
        accepted = (await raw_request(bound.port, GETTOKEN)).json()
    finally:
        await plain.close()
        await bound.close()
    assert refused["errcode"] == 60020
    assert "127.0.0.1" in refused["errmsg"]
    assert accepted["errcode"] == 0 and accepted["access_token"]


async def test_dingtalk_client_works_through_a_seed_style_forward_address(sim_url: str) -> None:
    forwarder = await start(sim_url)
    client = DingTalkClient(
        app_key=FULL_APP.app_key,
        app_secret=FULL_APP.app_secret,
        corp_id=FULL_APP.corp_id,
        agent_id=FULL_APP.agent_id,
        endpoints=Endpoints.from_forward_address(
            f"http://127.0.0.1:{forwarder.port}/api-dingtalk-com/"
        ),
    )
    try:
        async with client:
            user = await client.users.get("user001")
    finally:
        await forwarder.close()
    assert user.name == "张伟"
    metrics = forwarder.metrics.requests
    assert metrics.get(("api", 200), 0) >= 1  # v2 token from /v1.0/oauth2/accessToken
    assert metrics.get(("oapi", 200), 0) >= 1  # topapi/v2/user/get
